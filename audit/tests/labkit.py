"""Helpers for the lab tests: bring a lab up, converge it, audit it, break it — all for real."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# The shared hardened lab's name: "ci" in CI; another name lets a second engineer's run of the
# shared-lab modules (e.g. one new control's drift case) go on beside a running suite.
CI_LAB = os.environ.get("DRIFTVAKT_CI_LAB", "ci")


def lab_possible() -> str | None:
    """None when this machine can run the lab, else why not."""
    if os.geteuid() != 0:
        return "the lab needs root"
    for tool in ("systemd-nspawn", "debootstrap", "ip"):
        if not shutil.which(tool):
            return f"{tool} is not installed (.ci/setup installs it)"
    return None


def driftvakt(
    *args: str, check: bool = True, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(BIN / "driftvakt"), *args],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    if check and done.returncode != 0:
        raise AssertionError(
            f"driftvakt {' '.join(args)} exited {done.returncode}:\n"
            f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    return done


@dataclass
class PlaybookRun:
    rc: int
    output: str
    recap: dict[str, dict[str, int]]

    def total(self, key: str) -> int:
        return sum(host.get(key, 0) for host in self.recap.values())


RECAP = re.compile(r"^(\S+)\s+:\s+(.*)$")


def playbook(inventory: Path, *args: str, book: Path | str = "site.yml") -> PlaybookRun:
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(PROJECT / "ansible.cfg"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        PATH=f"{BIN}:{os.environ['PATH']}",
    )
    done = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", str(inventory), str(book), *args],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=1500,
        check=False,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    recap: dict[str, dict[str, int]] = {}
    in_recap = False
    for line in done.stdout.splitlines():
        if line.startswith("PLAY RECAP"):
            in_recap = True
            continue
        match = RECAP.match(line) if in_recap else None
        if match:
            recap[match.group(1)] = {
                k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", match.group(2))
            }
    return PlaybookRun(done.returncode, done.stdout + done.stderr, recap)


def audit(inventory: Path, out: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    store = ["--store", str(out.parent / "runs.db")] if "--store" not in extra else []
    done = driftvakt(
        "audit", "-i", str(inventory), "-o", str(out), "-q", *store, *extra, check=False
    )
    if not out.exists():
        raise AssertionError(f"audit wrote no result (exit {done.returncode}): {done.stderr}")
    data = json.loads(out.read_text())
    out.unlink()
    return done.returncode, data


def statuses(data: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {(r["host"], r["control"]): r["status"] for r in data["results"]}


def not_passing(data: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {
        k: v for k, v in statuses(data).items() if v not in ("pass", "not_applicable", "waived")
    }


def inject(lab: str, host: str, script: str) -> None:
    # Retried when ssh itself fails (255): a previous sshd reload re-execs the daemon and
    # briefly refuses new connections.
    for attempt in range(5):
        done = driftvakt(
            "lab", "ssh", "--name", lab, host, "sudo", "sh", "-euc", _quote(script), check=False
        )
        if done.returncode != 255:
            assert done.returncode == 0, f"drift script failed: {done.stderr}"
            return
        time.sleep(1 + attempt)
    raise AssertionError(f"cannot reach {host}: {done.stderr}")


def _quote(script: str) -> str:
    return "'" + script.replace("'", "'\"'\"'") + "'"


def container_pid(lab: str, host: str) -> int:
    """PID (on this machine) of the lab host's PID 1, for nsenter when SSH is down."""
    from driftvakt.lab import LabConfig
    from driftvakt.lab.machine import nspawn_pids

    cfg = LabConfig(lab, PROJECT)
    nspawn = nspawn_pids(cfg.state / "hosts" / host)[0]
    children = Path(f"/proc/{nspawn}/task/{nspawn}/children").read_text().split()
    return int(children[0])


def console(lab: str, host: str, command: str) -> None:
    """Run a root command inside a lab host without SSH (as its console would)."""
    pid = container_pid(lab, host)
    subprocess.run(
        ["nsenter", "--target", str(pid), "--all", "sh", "-c", command],
        check=True,
        timeout=60,
        capture_output=True,
    )


def run_suite(inventory: Path, host: str, module: str, *extra: str) -> tuple[bool, str]:
    """Run a compliance suite module on a lab host as plain testinfra (its own pytest, over
    Ansible's connection): (passed, its output). A run that errors is the test's failure."""
    done = subprocess.run(
        [
            str(BIN / "pytest"),
            "-q",
            "-p",
            "no:cacheprovider",
            f"tests/{module}",
            *extra,
            f"--hosts={host}",
            f"--ansible-inventory={inventory}",
            "--connection=ansible",
        ],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={"PATH": f"{BIN}:/usr/bin:/bin", "ANSIBLE_CONFIG": str(PROJECT / "ansible.cfg")},
    )
    assert done.returncode in (0, 1), done.stdout[-3000:] + done.stderr[-2000:]
    return done.returncode == 0, done.stdout


# What a lab host's login machinery is doing, read from its console (SSH may be what is stuck).
SESSION_DIAGNOSTICS = (
    "systemctl list-jobs --no-pager; loginctl list-sessions --no-pager; "
    "loginctl list-users --no-pager; systemctl --no-pager --no-legend list-units "
    "'user@*' 'user-runtime-dir@*' 'session-*'; "
    "journalctl --no-pager -n 40 -u systemd-logind -u 'user@*' -u ssh; uptime"
)


def session_diagnostics(lab: str, hosts: list[str]) -> str:
    """Each host's login-session state, for a failure report; never raises."""
    parts = []
    for host in hosts:
        try:
            pid = str(container_pid(lab, host))
            out = subprocess.run(
                ["nsenter", "--target", pid, "--all", "sh", "-c", SESSION_DIAGNOSTICS],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
            parts.append(f"== {host}\n{out.stdout[-6000:]}{out.stderr[-1000:]}")
        except (OSError, subprocess.SubprocessError, IndexError, ValueError) as exc:
            parts.append(f"== {host}: no diagnostics ({exc})")
    return "\n".join(parts)


def netns_pids(lab: str, host: str) -> list[int]:
    from driftvakt.lab import LabConfig

    cfg = LabConfig(lab, PROJECT)
    target = next(h for h in cfg.targets(9) if h.name == host)
    out = subprocess.run(
        ["ip", "netns", "pids", cfg.netns(target)], capture_output=True, text=True, check=True
    ).stdout
    return [int(p) for p in out.split()]


@contextmanager
def own_lab(name: str, hosts: int = 1, *converge_args: str) -> Iterator[Path]:
    """A lab of this module's own, up for the module and down afterwards, whatever happens.
    With ``converge_args`` (e.g. ``"--tags", "logging"``) site.yml converges it first."""
    driftvakt("lab", "up", "--name", name, "--hosts", str(hosts), timeout=1800)
    inventory = PROJECT / "inventories" / f"lab-{name}"
    try:
        if converge_args:
            run = playbook(inventory, *converge_args)
            assert run.rc == 0, run.output[-4000:]
        yield inventory
    finally:
        driftvakt("lab", "down", "--name", name)


def shared_lab(request: Any) -> tuple[str, Path]:
    """The session's hardened ``ci`` lab, or the hardened lab ``DRIFTVAKT_TEST_LAB`` names
    (to run one module alone against a lab that is already up)."""
    own = os.environ.get("DRIFTVAKT_TEST_LAB")
    if own:
        path = PROJECT / "inventories" / f"lab-{own}"
        assert path.is_dir(), f"lab {own} is not up: driftvakt lab up --name {own}"
        return own, path
    return CI_LAB, request.getfixturevalue("ci_lab")
