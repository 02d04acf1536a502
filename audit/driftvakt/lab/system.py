"""Running host commands for the lab, and the checks made before anything is changed."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from driftvakt.errors import LabError
from driftvakt.progress import Progress

# tool -> Debian package that provides it
REQUIRED_TOOLS = {
    "systemd-nspawn": "systemd-container",
    "debootstrap": "debootstrap",
    "ip": "iproute2",
    "mount": "mount",
    "apt-ftparchive": "apt-utils",
    "ssh": "openssh-client",
    "ssh-keygen": "openssh-client",
    "chroot": "coreutils",
}
MIN_FREE_BYTES = 2 * 1024**3


def run(
    cmd: Sequence[str],
    *,
    check: bool = True,
    timeout: float = 600,
    input_text: str | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a command; on failure raise LabError with its last line of stderr."""
    try:
        done = subprocess.run(
            list(cmd),
            capture_output=True,
            text=True,
            timeout=timeout,
            input=input_text,
            check=False,
            cwd=cwd,
        )
    except subprocess.TimeoutExpired as exc:
        raise LabError(f"'{' '.join(cmd[:3])}…' took longer than {timeout:.0f}s") from exc
    if check and done.returncode != 0:
        detail = (done.stderr.strip() or done.stdout.strip()).splitlines()
        last = detail[-1] if detail else f"exit code {done.returncode}"
        raise LabError(f"'{' '.join(cmd[:4])}' failed: {last}")
    return done


def preflight(*dirs: Path) -> None:
    """Fail with one line, before changing anything, if the lab cannot run here."""
    if os.geteuid() != 0:
        raise LabError(
            "the lab needs root (it creates network namespaces, mounts and "
            "containers): run it as root or with sudo"
        )
    missing = sorted({pkg for tool, pkg in REQUIRED_TOOLS.items() if not shutil.which(tool)})
    if missing:
        raise LabError(f"missing tools for the lab: apt-get install {' '.join(missing)}")
    for folder in dirs:
        existing = folder
        while not existing.exists():
            existing = existing.parent
        free = shutil.disk_usage(existing).free
        if free < MIN_FREE_BYTES:
            raise LabError(
                f"only {free // 1024**2} MiB free under {existing}; the lab needs "
                f"{MIN_FREE_BYTES // 1024**3} GiB: free space or set DRIFTVAKT_LAB_ROOT"
            )


# What `lab up --rpm` builds its RPM repositories with, on this machine (tool -> package).
RPM_TOOLS = {
    "rpm": "rpm",
    "rpmbuild": "rpm",
    "createrepo_c": "createrepo-c",
    "modifyrepo_c": "createrepo-c",
}


def rpm_preflight() -> None:
    missing = sorted({pkg for tool, pkg in RPM_TOOLS.items() if not shutil.which(tool)})
    if missing:
        raise LabError(
            f"missing tools for the lab's RPM hosts: apt-get install {' '.join(missing)}"
        )


# Every container's systemd and journald take inotify instances from the machine's per-user pool
# (all containers run as root here); the default of 128 runs out at about 20 hosts.
INOTIFY_LIMITS = {"max_user_instances": 8192, "max_user_watches": 524288}


def raise_inotify_limits(progress: Progress) -> None:
    """Raise the machine's inotify limits when they are too low for a lab (never lowers them)."""
    for name, wanted in INOTIFY_LIMITS.items():
        path = Path("/proc/sys/fs/inotify") / name
        try:
            current = int(path.read_text())
            if current < wanted:
                path.write_text(f"{wanted}\n")
                progress.step(f"raised fs.inotify.{name} from {current} to {wanted} for the lab")
        except (OSError, ValueError) as exc:
            raise LabError(f"cannot raise fs.inotify.{name} to {wanted}: {exc}") from exc
