"""A simulated fleet on loopback, for measuring the auditor (the controller) at scale.

One process (asyncio, asyncssh) plays many hosts: each has its own address in 127.0.0.0/8
(Linux routes all of it to ``lo``; nothing leaves the machine), its own host key, recorded in
a generated known_hosts, and answers the audit's real batch (``sh -s`` with the batch script on
stdin) by replaying outputs recorded from a real host, keyed by the exact command text. What it
measures is the controller: a simulated host answers at once, without the host's own work.

Faults, per host: ``slow`` (answers late), ``hanging`` (accepts TCP, never speaks SSH),
``refusing`` (nothing listens: connection refused), ``changed-key`` (its key is not the one in
known_hosts), ``garbage`` (answers the batch with noise), ``failing`` (the batch dies halfway),
``unreadable`` (files and the user database cannot be read). ``drifted`` hosts answer from the
drifted recording instead of the hardened one.

The recordings are of real lab hosts (Debian 12 under systemd-nspawn, hardened by site.yml;
and one after the catalog's drift scenarios), each with the baseline variables its inventory
gave it, which the simulated inventory repeats so the checks judge what they judged there:

    python audit/tests/fleetsim.py record OUT.json --lab LAB HOST  # a lab host, for real
    python audit/tests/fleetsim.py record OUT.json                 # this machine
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import random
import shlex
import socket
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

with warnings.catch_warnings():  # asyncssh still imports DSA, which the sim never uses
    warnings.simplefilter("ignore")
    import asyncssh

MARK = "@@driftvakt"  # the batch's framing (driftvakt.transport.batch), answered by hand here
PASSWORD = "fleet-sim"  # noqa: S105 -- the simulated hosts' login, loopback only
RECORDINGS = Path(__file__).parent / "fixtures" / "fleet"
RECORDING = RECORDINGS / "debian12-lab-hardened.json"
DRIFTED = RECORDINGS / "debian12-lab-drifted.json"
FAULTS = ("slow", "hanging", "refusing", "changed-key", "garbage", "failing", "unreadable")
VARIATIONS = ("drifted",)  # healthy hosts that answer from another recording
NOT_RECORDED = 127  # a command the recording lacks: as a shell answers an unknown command


@dataclass(frozen=True)
class SimHost:
    name: str
    address: str
    behaviour: str = "healthy"  # or one of FAULTS, or "record" (runs the batch for real)


def plan(count: int, prefix: int, faults: dict[str, int] | None = None) -> list[SimHost]:
    """``count`` hosts on 127.PREFIX.x.y; ``faults`` says how many of each fault, spread
    evenly over the fleet (the same hosts every time)."""
    behaviours = ["healthy"] * count
    wanted = [f for f, n in (faults or {}).items() for _ in range(n)]
    if len(wanted) > count:
        raise ValueError(f"{len(wanted)} faulty hosts do not fit in {count}")
    step = count / max(1, len(wanted))
    for i, fault in enumerate(wanted):
        behaviours[int(i * step + step / 2)] = fault  # host 0 stays healthy: see warm()
    return [
        SimHost(f"sim{i:05d}", f"127.{prefix}.{i // 250}.{i % 250 + 1}", behaviours[i])
        for i in range(count)
    ]


def commands_of(script: str) -> list[tuple[int, str]]:
    """(index, command) of each ``dv_run`` call, unquoted as the shell reads it (a command may
    span lines inside its quotes)."""
    words = shlex.shlex(script, posix=True)
    words.whitespace_split = True
    tokens = list(words)
    return [(int(tokens[i + 2]), tokens[i + 1]) for i, t in enumerate(tokens) if t == "dv_run"]


def _line(index: int, rc: int, out: bytes, err: bytes) -> bytes:
    fields = (base64.b64encode(out).decode(), base64.b64encode(err).decode())
    return f"{MARK} {index} {rc} {fields[0]} {fields[1]}\n".encode()


# An "unreadable" host: files and the user database cannot be read (as cat and id say).
UNREADABLE = {
    "cat -- ": (1, b"", b"cat: Permission denied\n"),
    "id -": (1, b"", b"id: cannot find name for user ID 1000\n"),
}


def replay(script: str, recording: dict[str, list[Any]], unreadable: bool = False) -> bytes:
    """The batch's stdout as the recorded host gave it (``unreadable``: no file is readable)."""
    answer = []
    for index, command in commands_of(script):
        failing = [a for prefix, a in UNREADABLE.items() if command.startswith(prefix)]
        if unreadable and failing:
            answer.append(_line(index, *failing[0]))
        elif command in recording:
            rc, out, err = recording[command]
            answer.append(_line(index, rc, base64.b64decode(out), base64.b64decode(err)))
        else:
            answer.append(_line(index, NOT_RECORDED, b"", b"fleet sim: not recorded\n"))
    return b"".join(answer) + f"{MARK} end\n".encode()


def _record(script: str, stdout: bytes, recording: dict[str, list[Any]]) -> None:
    commands = dict(commands_of(script))
    for line in stdout.decode("ascii", errors="replace").splitlines():
        fields = line.split(" ")
        if len(fields) == 5 and fields[0] == MARK:
            rc = int(fields[2])
            recording[commands[int(fields[1])]] = [rc, fields[3], fields[4]]


class _Login(asyncssh.SSHServer):
    def __init__(self, sim: Fleet) -> None:
        self.sim = sim

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        if self.sim.first_contact is None:
            self.sim.first_contact = time.perf_counter()

    async def begin_auth(self, username: str) -> bool:
        # An added round trip (``rtt_s``) is paid where the client waits on the host: TCP,
        # banners and key exchange (about 4), the login (1) and the batch (2, in _answer).
        await asyncio.sleep(4 * self.sim.rtt_s)
        return True

    def password_auth_supported(self) -> bool:
        return True

    async def validate_password(self, username: str, password: str) -> bool:
        await asyncio.sleep(self.sim.rtt_s)
        return password == PASSWORD


class Fleet:
    """The simulated hosts, served from a thread of this process until ``stop`` or
    ``lifetime`` seconds (it never outlives a benchmark or test that forgot it)."""

    def __init__(
        self,
        hosts: list[SimHost],
        workdir: Path,
        recording: dict[str, list[Any]] | None = None,
        *,
        slow_s: float = 1.0,
        rtt_s: float = 0.0,
        lifetime_s: float = 900,
        record_via: tuple[str, ...] = (),
        baseline: dict[str, Any] | None = None,
    ) -> None:
        self.hosts = hosts
        self.workdir = workdir
        self.recording = recording if recording is not None else load_recording()
        self.drifted = (
            load_recording(DRIFTED) if any(h.behaviour == "drifted" for h in hosts) else {}
        )
        # The recorded host's baseline variables (NTP servers, approved paths, its address as
        # the firewall's destination): the checks judge the simulated hosts as they judged it.
        self.baseline = baseline if baseline is not None else load_baseline()
        self.record_via = record_via  # a command prefix that runs the batch on a real host
        self.slow_s, self.rtt_s, self.lifetime_s = slow_s, rtt_s, lifetime_s
        self.port = 0
        self.batches = 0  # batches answered, all hosts
        self.first_contact: float | None = None  # perf_counter of a connection, reset by audit
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._servers: list[Any] = []

    @property
    def known_hosts(self) -> Path:
        return self.workdir / "known_hosts"

    @property
    def inventory(self) -> Path:
        return self.workdir / "hosts.yml"

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = _free_port(self.hosts[0].address)
        lines, entries = [], []
        keys = {}
        for h in self.hosts:
            key = asyncssh.generate_private_key("ssh-ed25519")
            served = key
            if h.behaviour == "changed-key":  # known_hosts holds the key it had before
                served = asyncssh.generate_private_key("ssh-ed25519")
            keys[h.name] = served
            public = key.export_public_key("openssh").decode().split()[:2]
            lines.append(f"[{h.address}]:{self.port} {' '.join(public)}\n")
            entries.append(f"    {h.name}:\n      ansible_host: {h.address}\n")
        self.known_hosts.write_text("".join(lines))
        connection = {
            "ansible_port": self.port,
            "ansible_user": "audit",
            "ansible_password": PASSWORD,
            "ansible_become": True,
            "driftvakt_known_hosts": str(self.known_hosts),
        }
        self.inventory.write_text(
            "all:\n  vars: "
            + json.dumps({**self.baseline, **connection})  # JSON is YAML: one line, any value
            + "\n  hosts:\n"
            + "".join(entries)
        )
        self._thread.start()
        started = asyncio.run_coroutine_threadsafe(self._listen(keys), self._loop)
        started.result(timeout=600)
        self._loop.call_later(self.lifetime_s, self._loop.stop)

    async def _listen(self, keys: dict[str, asyncssh.SSHKey]) -> None:
        for h in self.hosts:
            if h.behaviour == "refusing":
                continue
            if h.behaviour == "hanging":
                self._servers.append(await asyncio.start_server(_hang, h.address, self.port))
                continue
            self._servers.append(
                await asyncssh.listen(
                    h.address,
                    self.port,
                    server_factory=lambda: _Login(self),
                    server_host_keys=[keys[h.name]],
                    process_factory=lambda p, h=h: self._answer(p, h),
                    encoding=None,
                    reuse_address=True,
                )
            )

    async def _answer(self, process: asyncssh.SSHServerProcess[bytes], host: SimHost) -> None:
        script = (await process.stdin.read()).decode()
        self.batches += 1
        if self.rtt_s:
            await asyncio.sleep(2 * self.rtt_s)
        if host.behaviour == "slow":
            await asyncio.sleep(self.slow_s)
        if host.behaviour == "garbage":
            await _send(
                process,
                random.randbytes(512)  # noqa: S311 -- noise, not a secret
                + b"\n@@driftvakt 1 x\n",
                0,
            )
            return
        if host.behaviour == "record":
            real = await asyncio.create_subprocess_exec(
                *self.record_via, "sh", "-s", stdin=subprocess.PIPE, stdout=subprocess.PIPE
            )
            stdout, _ = await real.communicate(script.encode())
            _record(script, stdout, self.recording)
            await _send(process, stdout, real.returncode or 0)
            return
        recording = self.drifted if host.behaviour == "drifted" else self.recording
        answer = replay(script, recording, host.behaviour == "unreadable")
        if host.behaviour == "failing":  # the host died halfway through the batch, between lines
            await _send(process, answer[: answer.rfind(b"\n", 0, len(answer) // 2) + 1], 137)
            return
        await _send(process, answer, 0)

    def stop(self) -> None:
        async def close() -> None:
            for server in self._servers:
                server.close()

        if self._loop.is_running():
            with suppress(Exception):
                asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=30)
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)


async def _send(process: asyncssh.SSHServerProcess[bytes], data: bytes, status: int) -> None:
    process.stdout.write(data)
    await process.stdout.drain()  # exit closes the channel: what is still queued would be lost
    process.exit(status)


async def _hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A host whose TCP answers but whose SSH never does: read and never reply."""
    with suppress(Exception):
        while await reader.read(4096):
            pass
    writer.close()


def _free_port(address: str) -> int:
    with socket.socket() as probe:
        probe.bind((address, 0))
        return int(probe.getsockname()[1])


def load_recording(path: Path = RECORDING) -> dict[str, list[Any]]:
    data: dict[str, list[Any]] = json.loads(path.read_text())["outputs"]
    return data


def load_baseline(path: Path = RECORDING) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text()).get("baseline", {})
    return data


@contextmanager
def fleet(hosts: list[SimHost], workdir: Path, **options: Any) -> Iterator[Fleet]:
    sim = Fleet(hosts, workdir, **options)
    sim.start()
    try:
        yield sim
    finally:
        sim.stop()


@dataclass(frozen=True)
class AuditRun:
    """One ``driftvakt audit`` of a simulated fleet, measured from outside its process."""

    returncode: int
    wall_s: float
    cpu_s: float  # the auditor's own user + system time
    peak_rss_mib: float
    first_contact_s: float | None  # from its start to the first SSH connection of any host
    run: dict[str, Any]


def audit(sim: Fleet, work: Path, *extra: str, timeout_s: float = 3) -> AuditRun:
    """Audit the whole simulated fleet once, as a user would (the ``driftvakt`` command)."""
    command = [
        str(Path(sys.executable).parent / "driftvakt"), "audit", "-q", "-i", str(sim.inventory),
        "--store", str(work / "runs.db"), "-o", str(work / "run.json"),
        "--timeout", str(timeout_s), *extra,
    ]  # fmt: skip
    sim.first_contact = None
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stderr: list[bytes] = []
    reader = threading.Thread(target=lambda: stderr.append(process.stderr.read()))  # type: ignore[union-attr]
    reader.start()
    _, status, usage = os.wait4(process.pid, 0)  # this audit's own CPU time and peak memory
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    reader.join()
    run = json.loads((work / "run.json").read_text()) if (work / "run.json").exists() else {}
    if not run:
        raise RuntimeError(
            f"the audit wrote no run (exit {process.returncode}): {stderr[0][-2000:].decode()}"
        )
    first = None if sim.first_contact is None else sim.first_contact - start
    cpu = usage.ru_utime + usage.ru_stime
    return AuditRun(process.returncode, wall, cpu, usage.ru_maxrss / 1024, first, run)


def warm(sim: Fleet, work: Path) -> None:
    """Put the fleet in its nightly state: every host read last night, so the prefetch cache
    names its commands. One host is audited cold and its commands are given to every host
    (they are all the same recorded host)."""
    audit(sim, work, "--limit", sim.hosts[0].name)
    cache = work / "runs.prefetch.json"
    data = json.loads(cache.read_text())
    commands = data["hosts"][sim.hosts[0].name]
    data["hosts"] = {h.name: commands for h in sim.hosts}
    cache.write_text(json.dumps(data))
    (work / "run.json").unlink()


def _lab_host(lab: str, host: str) -> tuple[tuple[str, ...], dict[str, Any], str]:
    """How to run a batch as root on a lab host (its console: nsenter), the baseline
    variables its inventory gives it, and what it is."""
    from labkit import PROJECT, container_pid

    from driftvakt.inventory import host_variables

    inventory = PROJECT / "inventories" / f"lab-{lab}"
    variables = host_variables(str(inventory), host)
    baseline = {
        k: v
        for k, v in variables.items()
        if not k.startswith(("ansible_", "driftvakt_"))
        and k not in ("groups", "group_names", "inventory_hostname", "inventory_hostname_short")
        and not k.startswith(("inventory_", "playbook_", "omit"))
    }
    # The recorded host's firewall judged itself by its own address: the simulated ones too.
    baseline["firewall_host_address"] = variables.get("firewall_host_address") or variables.get(
        "ansible_host"
    )
    via = ("nsenter", "--target", str(container_pid(lab, host)), "--all")
    return via, baseline, f"lab host {host} of lab {lab} (Debian 12, systemd-nspawn)"


def _record_main(out: Path, lab: str | None = None, host: str | None = None) -> int:
    """Record a host's answers to the audit's batch: audit one "record" host, twice (the
    second run asks again for everything, from the prefetch cache the first left)."""
    recording: dict[str, list[Any]] = {}
    work = Path(f"/tmp/driftvakt-fleetsim-record-{time.time_ns()}")
    via: tuple[str, ...] = ()
    baseline: dict[str, Any] = {}
    source = "the development machine (a real Debian 12, not hardened)"
    if lab and host:
        via, baseline, source = _lab_host(lab, host)
    with fleet(
        [SimHost("recorded", "127.99.0.1", "record")],
        work,
        recording=recording,
        record_via=via,
        baseline=baseline,
    ) as sim:
        for _ in range(2):
            audit(sim, work, timeout_s=60)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "source": f"recorded by audit/tests/fleetsim.py record from {source}, running "
                "the audit's batch as root",
                "baseline": baseline,
                "outputs": dict(sorted(recording.items())),
            },
            indent=1,
            default=str,
        )
        + "\n"
    )
    print(f"{len(recording)} commands recorded to {out}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "record":
        sys.exit(_record_main(Path(sys.argv[2])))
    if len(sys.argv) == 6 and sys.argv[1] == "record" and sys.argv[3] == "--lab":
        sys.exit(_record_main(Path(sys.argv[2]), sys.argv[4], sys.argv[5]))
    sys.exit(__doc__.splitlines()[-1] if __doc__ else "usage")
