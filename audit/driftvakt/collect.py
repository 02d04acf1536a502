"""Collect: every host's reads in as few round trips as the checks allow (usually one).

Round 0 prefetches, per host and in parallel, every command the checks ran on that host last
time (a cache beside the run store). The checks then run locally against those results;
any command they ask for that was not prefetched is gathered across all checks of the round
and fetched in one more round trip per host, and only the waiting checks run again. Hosts run
in parallel from this one process (threads, bounded); one SSH connection per host.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from driftvakt.catalog import controls
from driftvakt.checkrun import run_checks
from driftvakt.inventory import Target
from driftvakt.progress import Progress
from driftvakt.replay import BACKEND_NAME, SESSIONS, Session, register
from driftvakt.results import Result, Status, write_json_atomic
from driftvakt.transport import Transport, TransportError
from driftvakt.transport.ssh import SshTransport
from driftvakt.transport.winrm import WinRmTransport

MAX_ROUNDS = 8
SSH_CONNECTIONS = ("ssh", "smart", "paramiko", "paramiko_ssh")
WINDOWS_CONNECTIONS = ("winrm", "psrp")  # psrp hosts are reached over WinRM too


@dataclass
class Collection:
    results: list[Result] = field(default_factory=list)
    round_trips: dict[str, int] = field(default_factory=dict)
    rounds: int = 0


def _transport(target: Target, timeout: float) -> Transport:
    if target.connection in SSH_CONNECTIONS:
        password = target.vars.get("ansible_password") or target.vars.get("ansible_ssh_pass")
        return SshTransport(target, timeout, str(password) if password else None)
    if target.connection in WINDOWS_CONNECTIONS:
        password = target.vars.get("ansible_password") or target.vars.get("ansible_winrm_password")
        return WinRmTransport(target, timeout, str(password) if password else None)
    raise TransportError(
        f"{target.name}: ansible_connection={target.connection} is not "
        "supported by the audit (ssh or winrm)"
    )


def _load_cache(path: Path) -> dict[str, list[str]]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return {k: [str(c) for c in v] for k, v in data.items() if isinstance(v, list)}


def _errors_for(
    name: str,
    reason: str,
    tests: set[str] | None,
    pending: set[tuple[str, str]],
    test_controls: dict[str, str],
) -> list[Result]:
    if tests is None:  # nothing evaluated yet on this host: every control is an error
        return [Result(name, cid, Status.ERROR, reason=reason) for cid in controls()]
    return [
        Result(name, test_controls.get(t, t), Status.ERROR, reason=reason)
        for (h, t) in sorted(pending)
        if h == name
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
) -> Collection:
    register()
    shown = progress or Progress(quiet=True)
    out = Collection()
    prefetch = _load_cache(cache)
    transports: dict[str, Transport] = {}
    failed: dict[str, str] = {}
    for t in hosts:
        SESSIONS[t.name] = Session(t.name)
        out.round_trips[t.name] = 0
        try:
            transports[t.name] = _transport(t, timeout)
        except TransportError as exc:
            failed[t.name] = str(exc)
            out.results += _errors_for(t.name, str(exc), None, set(), {})

    def fetch(name: str, commands: list[str]) -> None:
        try:
            transports[name].connect()
            if commands:
                SESSIONS[name].outputs.update(transports[name].run_batch(commands))
                out.round_trips[name] += 1
        except TransportError as exc:
            failed[name] = str(exc)

    def fetch_all(wanted: dict[str, list[str]]) -> None:
        total, done = len(wanted), 0
        with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(wanted)))) as pool:
            for _ in pool.map(lambda item: fetch(*item), wanted.items()):
                done += 1
                shown.bar("hosts read", done, total)

    live = [t for t in hosts if t.name not in failed]
    fetch_all({t.name: prefetch.get(t.name, []) for t in live})
    for name in [t.name for t in live if t.name in failed]:
        out.results += _errors_for(name, failed[name], None, set(), {})
    by_name = {t.name: t for t in hosts}
    select: set[tuple[str, str]] | None = None
    seen_tests: dict[str, set[str]] = {}
    test_controls: dict[str, str] = {}
    try:
        while True:
            ok = [n for n in transports if n not in failed]
            if not ok or (select is not None and not select):
                break
            out.rounds += 1
            shown.step(f"evaluating checks, round {out.rounds}, {len(ok)} host(s)")
            specs = [_spec(by_name[n]) for n in ok]
            collector = run_checks(project / "tests", specs, inventory, project, secrets, select)
            for r in collector.results:
                seen_tests.setdefault(r.host, set())
            out.results += collector.results
            test_controls.update(collector.test_controls)
            pending = collector.pending
            if not pending:
                break
            if out.rounds >= MAX_ROUNDS:
                for host, test in sorted(pending):
                    out.results.append(
                        Result(
                            host,
                            test_controls.get(test, test),
                            Status.ERROR,
                            reason=f"the check still needed new reads after "
                            f"{MAX_ROUNDS} round trips",
                        )
                    )
                break
            wanted = {h: sorted(SESSIONS[h].missing) for h in {h for h, _ in pending}}
            for h in wanted:
                SESSIONS[h].missing.clear()
            shown.step(
                f"fetching {sum(map(len, wanted.values()))} more reads from {len(wanted)} host(s)"
            )
            fetch_all(wanted)
            for h in wanted:
                if h in failed:
                    out.results += _errors_for(
                        h, failed[h], seen_tests.get(h, set()), pending, test_controls
                    )
            select = {(h, t) for h, t in pending if h not in failed}
    finally:
        for transport in transports.values():
            transport.close()
    _save_cache(cache, prefetch, hosts)
    return out


def _spec(target: Target) -> str:
    sudo = "?sudo=true" if target.become else ""
    return f"{BACKEND_NAME}://{target.name}{sudo}"


def _save_cache(path: Path, previous: dict[str, list[str]], hosts: list[Target]) -> None:
    merged = dict(previous)
    for t in hosts:
        session = SESSIONS.get(t.name)
        if session and session.outputs:
            merged[t.name] = sorted(session.outputs)
    write_json_atomic(path, merged)
