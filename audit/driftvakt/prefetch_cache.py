"""The prefetch cache: per host, the commands the checks ran there last time.

Its commands are sent to the hosts, as root where the inventory says become, before any check
asks for them. So the cache is trusted no further than the checks themselves:

- it is bound to the exact checks that wrote it (a digest of the suite files and the driftvakt
  version): after an upgrade or any change to a check it is dropped, never replayed;
- it is used only if it, and its folder, can be written by no one but the user running the
  audit (as OpenSSH's StrictModes treats authorized_keys): whoever could forge it could edit
  the checks anyway. A cache that fails either test costs one more round trip, nothing else.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
from pathlib import Path

from driftvakt import __version__
from driftvakt.results import write_json_atomic

SUITE_SUFFIXES = (".py", ".yml", ".yaml", ".json", ".ps1")


def checks_digest(suites: Path) -> str:
    """sha256 over the driftvakt version and every suite file's path and content."""
    digest = hashlib.sha256(f"driftvakt {__version__}\n".encode())
    for path in sorted(p for p in suites.rglob("*") if p.suffix in SUITE_SUFFIXES):
        if "__pycache__" in path.parts:
            continue
        digest.update(f"{path.relative_to(suites).as_posix()}\n".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _writable_by_others(path: Path) -> str | None:
    info = path.stat()
    if info.st_uid != os.geteuid():
        return f"{path} is owned by uid {info.st_uid}, not by the user running the audit"
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"{path} can be written by other users"
    return None


def load(path: Path, digest: str, warn: bool = True) -> dict[str, list[str]]:
    """The cached commands per host, or nothing when the cache is absent, stale or untrusted."""
    try:
        problem = _writable_by_others(path.parent) or _writable_by_others(path)
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    if problem:
        if warn:
            print(f"driftvakt: prefetch cache not used: {problem}", file=sys.stderr)
        return {}
    if not isinstance(data, dict) or data.get("checks") != digest:
        return {}  # written by other checks (or an older format): never replayed
    hosts = data.get("hosts")
    if not isinstance(hosts, dict):
        return {}
    return {
        str(name): [str(c) for c in commands]
        for name, commands in hosts.items()
        if isinstance(commands, list)
    }


def save(
    path: Path, digest: str, previous: dict[str, list[str]], read: dict[str, list[str]]
) -> None:
    merged = dict(previous)
    merged.update({name: commands for name, commands in read.items() if commands})
    write_json_atomic(path, {"checks": digest, "hosts": merged})  # mkstemp: mode 0600
