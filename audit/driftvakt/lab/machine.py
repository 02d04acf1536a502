"""One lab host: an overlay root filesystem booted by systemd-nspawn in its own namespace."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from driftvakt.errors import LabError
from driftvakt.lab import image
from driftvakt.lab.config import LabConfig, LabHost
from driftvakt.lab.overlay import mount_overlay


def merged_dir(cfg: LabConfig, host: LabHost) -> Path:
    return cfg.host_dir(host) / "merged"


def mount_root(cfg: LabConfig, host: LabHost, rpm: bool = False) -> Path:
    """The host's overlay root; ``rpm``: with the RPM layer (rpm, dnf, zypper) under it."""
    base = cfg.host_dir(host)
    lower = [image.base_dir()]
    if host.is_services:
        lower.insert(0, image.services_layer_dir())
    elif rpm:
        lower.insert(0, image.rpm_layer_dir())
    return mount_overlay(lower, base / "upper", base / "work", base / "merged")


def mounts_under(path: Path) -> list[str]:
    """Mount points below ``path``, deepest first (so they can be unmounted in order)."""
    prefix = str(path).rstrip("/") + "/"
    points = []
    with open("/proc/self/mounts") as mounts:
        for line in mounts:
            point = line.split()[1].replace("\\040", " ")
            if point.startswith(prefix):
                points.append(point)
    return sorted(points, key=len, reverse=True)


def nspawn_pids(path: Path) -> list[int]:
    """systemd-nspawn processes whose command line names a directory below ``path``."""
    marker = str(path).rstrip("/") + "/"
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if (
            argv
            and argv[0].endswith(b"systemd-nspawn")
            and any(
                a.decode(errors="replace").startswith(marker)
                or a.decode(errors="replace").startswith(f"--directory={marker}")
                for a in argv
            )
        ):
            pids.append(int(entry.name))
    return pids


def boot(cfg: LabConfig, host: LabHost) -> int:
    merged = merged_dir(cfg, host)
    args = [
        "systemd-nspawn",
        "--boot",
        "--register=no",
        "--keep-unit",
        f"--network-namespace-path=/run/netns/{cfg.netns(host)}",
        "--capability=CAP_NET_ADMIN",
        "--resolv-conf=off",
        "--timezone=off",
        "--link-journal=no",
        "--console=read-only",
        f"--machine={machine_name(cfg, host)}",
        f"--hostname={host.name}",
        "-D",
        str(merged),
    ]
    if host.is_services:
        args.insert(-2, f"--bind-ro={image.mirror_dir()}:/srv/mirror/debian")
    log = (cfg.host_dir(host) / "console.log").open("wb")
    proc = subprocess.Popen(
        args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    (cfg.host_dir(host) / "pid").write_text(f"{proc.pid}\n")
    return proc.pid


PROPAGATE = Path("/run/systemd/nspawn/propagate")


def machine_name(cfg: LabConfig, host: LabHost) -> str:
    """Unique across labs on this machine (nspawn keeps per-machine state under /run)."""
    return f"dv-{cfg.name}-{host.name}"


def forget(cfg: LabConfig, host: LabHost) -> None:
    """Remove what systemd-nspawn leaves under /run for a stopped machine."""
    shutil.rmtree(PROPAGATE / machine_name(cfg, host), ignore_errors=True)


def stop(path: Path, timeout: float = 20) -> None:
    """Orderly shutdown of every container below ``path`` (SIGTERM -> poweroff), then SIGKILL."""
    pids = nspawn_pids(path)
    for pid in pids:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.2)
    for pid in pids:
        if _alive(pid):
            _signal(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in pids):
        if time.monotonic() > deadline:
            raise LabError(f"containers below {path} did not stop: pids {pids}")
        time.sleep(0.2)


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    if state == "Z":
        with contextlib.suppress(ChildProcessError):  # our own child: reap it
            os.waitpid(pid, os.WNOHANG)
        return False
    return True


def ssh_base(cfg: LabConfig, user: str = "ops", key: Path | None = None) -> list[str]:
    return [
        "ssh",
        "-i",
        str(key or cfg.key),
        "-o",
        "BatchMode=yes",
        "-o",
        "ConnectTimeout=3",
        "-o",
        f"UserKnownHostsFile={cfg.known_hosts}",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "LogLevel=ERROR",
        "-l",
        user,
    ]


def ssh_login(cfg: LabConfig, address: str, command: list[str], terminal: bool) -> list[str]:
    """The ssh command line for ``driftvakt lab ssh``: a password prompt allowed, and a
    terminal for an interactive login (``terminal``) when no command is given."""
    argv = [*ssh_base(cfg), "-o", "BatchMode=no", address, *command]
    if terminal and not command:
        argv.insert(1, "-t")
    return argv


def wait_ready(cfg: LabConfig, host: LabHost, timeout: float = 90) -> float:
    """Wait until sshd answers with the expected host key and systemd finished booting."""
    start = time.monotonic()
    last = ""
    while time.monotonic() - start < timeout:
        pid_file = cfg.host_dir(host) / "pid"
        if pid_file.exists() and not _alive(int(pid_file.read_text())):
            tail = (cfg.host_dir(host) / "console.log").read_text(errors="replace")[-300:]
            raise LabError(f"{host.name} stopped while booting: {tail.strip().splitlines()[-1:]}")
        done = subprocess.run(
            [
                *ssh_base(cfg),
                host.address,
                "systemctl is-system-running --wait >/dev/null 2>&1; true",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode == 0:
            return time.monotonic() - start
        last = done.stderr.strip()
        time.sleep(0.5)
    raise LabError(
        f"{host.name} ({host.address}) did not answer over SSH within {timeout:.0f}s: "
        f"{last or 'no answer'}"
    )
