"""Collect: every host's reads in as few round trips as the checks allow (usually one).

Round 0 prefetches, per host and in parallel, every command the checks ran on that host last
time (a cache beside the run store). As each host's reads arrive, the checks run locally on
them (one pytest session, host by host, while the other hosts are still being read); any
command they ask for that was not prefetched is fetched in one more round trip for that host,
and only its waiting checks run again. Hosts are read in parallel from this one process
(threads, bounded); one SSH connection per host. A host's reads and its connection are dropped
once its checks are done, so memory does not grow with the fleet; so are its results, when the
caller takes them host by host (``on_host``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from driftvakt import prefetch_cache
from driftvakt.applicability import WINDOWS_CONNECTIONS
from driftvakt.catalog import controls
from driftvakt.credentials import KEY_PASSPHRASE, SSH_PASSWORD, WINRM_PASSWORD, first_set
from driftvakt.inventory import Target, forget_host_variables
from driftvakt.progress import Progress
from driftvakt.results import ErrorKind, Result, Status
from driftvakt.suites import suites_dir
from driftvakt.transport import HostConfigError, Output, Transport, TransportError

if TYPE_CHECKING:
    from driftvakt.checkrun import CheckRunner

# A cold cache costs one round per link of a check's chain of dependent reads (testinfra's
# system_info alone is several); the cap only stops a check whose commands never repeat.
MAX_ROUNDS = 16
SSH_CONNECTIONS = ("ssh", "smart", "paramiko", "paramiko_ssh")


@dataclass
class Collection:
    results: list[Result] = field(default_factory=list)  # only without an ``on_host``
    round_trips: dict[str, int] = field(default_factory=dict)
    rounds: int = 0


def _transport(target: Target, timeout: float) -> Transport:
    # Imported here: paramiko and pywinrm cost start-up time, and a fleet may need only one.
    if target.connection in SSH_CONNECTIONS:
        from driftvakt.transport.ssh import SshTransport

        return SshTransport(
            target,
            timeout,
            first_set(target.vars, SSH_PASSWORD),
            first_set(target.vars, KEY_PASSPHRASE),
        )
    if target.connection in WINDOWS_CONNECTIONS:
        from driftvakt.transport.winrm import WinRmTransport

        return WinRmTransport(target, timeout, first_set(target.vars, WINRM_PASSWORD))
    raise HostConfigError(
        f"{target.name}: ansible_connection={target.connection} is not "
        "supported by the audit (ssh or winrm)"
    )


def internal_error(name: str, doing: str, exc: BaseException) -> str:
    """One line for an unexpected exception on one host: the host is error, the run goes on."""
    detail = " ".join(str(exc).split())[:200] or "no details"
    return (
        f"{name}: unexpected {type(exc).__name__} while {doing} ({detail}); "
        "this host is error, the rest of the fleet is audited: please report it"
    )


def _errors_for(
    name: str,
    reason: str,
    waiting: set[str] | None,
    test_controls: dict[str, str],
    kind: ErrorKind,
) -> list[Result]:
    if waiting is None:  # nothing evaluated yet on this host: every control is an error
        return [
            Result(name, cid, Status.ERROR, reason=reason, error_kind=kind) for cid in controls()
        ]
    return [
        Result(name, test_controls.get(key, key), Status.ERROR, reason=reason, error_kind=kind)
        for key in sorted(waiting)
    ]


def collect(
    hosts: list[Target],
    inventory: str,
    project: Path,
    secrets: tuple[str, ...],
    cache: Path,
    *,
    concurrency: int = 16,
    timeout: float = 20,
    progress: Progress | None = None,
    on_host: Callable[[str, list[Result]], None] | None = None,
    direct: bool = True,
) -> Collection:
    """Read and check every host. A host's results go to ``on_host(name, results)`` once, as
    soon as it is done (called from this thread); without it they are kept in the Collection.
    ``direct=False`` runs every check through pytest's run protocol (slower; the same results)."""
    from driftvakt.replay import SESSIONS, Session

    shown = progress or Progress(quiet=True)
    out = Collection()
    unfinished: dict[str, list[Result]] = {}  # results of hosts still being checked

    def add(name: str, results: list[Result]) -> None:
        unfinished.setdefault(name, []).extend(results)

    def hand_over(name: str) -> None:
        results = unfinished.pop(name, [])
        if on_host is None:
            out.results += results
        else:
            on_host(name, results)

    lists: dict[tuple[str, ...], list[str]] = {}

    def shared(commands: list[str]) -> list[str]:
        return lists.setdefault(tuple(commands), commands)

    checks = suites_dir()
    digest = prefetch_cache.checks_digest(checks)
    prefetch = {name: shared(c) for name, c in prefetch_cache.load(cache, digest).items()}
    # A host's transport exists from its start to its end only: a fleet's worth is never held.
    transports: dict[str, Transport] = {}
    by_name = {t.name: t for t in hosts}
    out.round_trips = dict.fromkeys(by_name, 0)
    read: dict[str, list[str]] = {}  # per host, the commands read: the next audit's prefetch

    def fetch(name: str, commands: list[str]) -> dict[str, Output]:
        transport = transports[name]  # present until the host is finished, after its reads
        transport.connect()
        if not commands:
            return {}
        outputs = transport.run_batch(commands)
        out.round_trips[name] += 1
        return outputs

    workers = max(1, min(concurrency, len(hosts)))
    pool = ThreadPoolExecutor(max_workers=workers)
    reads: dict[Future[dict[str, Output]], str] = {}
    # Hosts are started as others finish, never more than twice the pool at once: a host read
    # but not yet evaluated holds its outputs and its connection, and a fleet whose reads
    # outrun the evaluation must not pile them up.
    not_started = deque(hosts)
    started = done = 0

    def count_done() -> None:
        nonlocal done
        done += 1
        shown.bar("hosts audited", done, len(hosts))

    def start_hosts() -> None:
        nonlocal started
        while not_started and started < 2 * workers:
            target = not_started.popleft()
            name = target.name
            try:
                transports[name] = _transport(target, timeout)
            except Exception as exc:  # one host's bad settings never end the run
                if isinstance(exc, TransportError):
                    reason, kind = str(exc), exc.kind
                else:
                    reason, kind = internal_error(name, "setting up", exc), ErrorKind.INTERNAL
                add(name, _errors_for(name, reason, None, {}, kind))
                hand_over(name)
                count_done()
                continue
            SESSIONS[name] = Session(name)
            reads[pool.submit(fetch, name, prefetch.get(name, []))] = name
            started += 1

    def drive(runner: CheckRunner) -> None:
        shown.step(f"evaluating checks on {len(hosts)} host(s) as their reads arrive")
        waiting: dict[str, set[str] | None] = dict.fromkeys(by_name)
        rounds = dict.fromkeys(by_name, 0)

        def finish(name: str) -> None:
            nonlocal started
            session = SESSIONS.pop(name)
            # the outputs themselves are dropped; hosts alike share one list of commands
            read[name] = shared(sorted(session.outputs))
            # No read is in flight for a finished host: its connection (socket, paramiko's
            # thread and buffers) and its templated variables go now.
            transports.pop(name).close()
            forget_host_variables(inventory, name)
            hand_over(name)
            count_done()
            started -= 1
            start_hosts()

        while reads:
            arrived, _ = wait(reads, return_when=FIRST_COMPLETED)
            for future in arrived:
                name = reads.pop(future)
                try:
                    SESSIONS[name].outputs.update(future.result())
                except TransportError as exc:
                    add(
                        name,
                        _errors_for(name, str(exc), waiting[name], runner.test_controls, exc.kind),
                    )
                    finish(name)
                    continue
                except Exception as exc:  # a fault of one host's read is its own
                    reason = internal_error(name, "reading the host", exc)
                    add(
                        name,
                        _errors_for(
                            name, reason, waiting[name], runner.test_controls, ErrorKind.INTERNAL
                        ),
                    )
                    finish(name)
                    continue
                rounds[name] += 1
                out.rounds = max(out.rounds, rounds[name])
                results, pending = runner.evaluate(_spec(by_name[name]), waiting[name])
                add(name, results)
                if not pending:
                    finish(name)
                elif rounds[name] >= MAX_ROUNDS:
                    reason = f"the check still needed new reads after {MAX_ROUNDS} round trips"
                    add(
                        name,
                        _errors_for(name, reason, pending, runner.test_controls, ErrorKind.CHECK),
                    )
                    finish(name)
                else:
                    waiting[name] = pending
                    missing = sorted(SESSIONS[name].missing)
                    SESSIONS[name].missing.clear()
                    reads[pool.submit(fetch, name, missing)] = name

    try:  # from the first connection on: a Ctrl-C anywhere below still closes them all
        # Reading starts before the checks are collected: the two overlap.
        start_hosts()
        if reads:  # else no host could even be set up: no checks to collect
            # pytest is imported and the checks collected while the hosts are being read.
            from driftvakt.checkrun import run_checks
            from driftvakt.replay import register

            register()
            run_checks(checks, inventory, checks.parent, drive, secrets, direct)
    finally:
        # Connections first: a read or connect still in flight (Ctrl-C) ends now, instead of
        # the pool waiting for its timeout.
        for transport in transports.values():
            transport.close()
        pool.shutdown(wait=True, cancel_futures=True)
        for name in transports:
            SESSIONS.pop(name, None)
    prefetch_cache.save(cache, digest, prefetch, read)
    return out


def _spec(target: Target) -> str:
    from driftvakt.replay import BACKEND_NAME

    sudo = "?sudo=true" if target.become else ""
    return f"{BACKEND_NAME}://{target.name}{sudo}"
