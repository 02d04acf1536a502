"""known_hosts, read once per audit and looked up per host.

paramiko's own loader re-reads and re-parses the whole file for every connection (O(fleet) per
host, O(fleet²) per audit) and stops at the first line it does not understand, such as OpenSSH's
``@revoked`` marker, which would end the audit of every host. Here the file is parsed once per
content (cached by path, size and modification time), lines OpenSSH itself would skip are
skipped, and a key marked ``@revoked`` is never trusted for any host, whatever other line lists it.
``@cert-authority`` lines trust nothing here: paramiko cannot verify host certificates.
"""

from __future__ import annotations

import functools
import hmac
from dataclasses import dataclass, field
from pathlib import Path

import paramiko
from paramiko.hostkeys import HostKeyEntry, InvalidHostKey

KeyId = tuple[str, str]  # (key type, base64 blob): what a revocation names


def _key_id(key: paramiko.PKey) -> KeyId:
    return (key.get_name(), key.get_base64())


@dataclass
class KnownHosts:
    by_name: dict[str, list[paramiko.PKey]] = field(default_factory=dict)
    hashed: list[tuple[str, paramiko.PKey]] = field(default_factory=list)  # ("|1|salt|hash", key)
    revoked: set[KeyId] = field(default_factory=set)
    skipped: int = 0  # malformed or unsupported lines, ignored as OpenSSH ignores them

    def add(self, entry: HostKeyEntry) -> None:
        for name in entry.hostnames:
            if name.startswith("|1|"):
                self.hashed.append((name, entry.key))
            else:
                self.by_name.setdefault(name, []).append(entry.key)

    def keys_for(self, name: str) -> list[paramiko.PKey]:
        """The trusted keys of ``name`` (``host`` or ``[host]:port``), revoked ones left out."""
        found = list(self.by_name.get(name, ()))
        found += [
            key
            for hashed, key in self.hashed
            if hmac.compare_digest(paramiko.HostKeys.hash_host(name, hashed), hashed)
        ]
        return [key for key in found if _key_id(key) not in self.revoked]

    def is_revoked(self, key: paramiko.PKey) -> bool:
        return _key_id(key) in self.revoked


def _entry(line: str) -> HostKeyEntry | None:
    try:
        return HostKeyEntry.from_line(line)
    except (InvalidHostKey, paramiko.SSHException, ValueError, IndexError, TypeError):
        return None  # paramiko raises all of these for one garbled line


def parse(text: str) -> KnownHosts:
    known = KnownHosts()
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        marker = ""
        if line.startswith("@"):
            marker, _, line = line.partition(" ")
        entry = _entry(line)
        if entry is None or marker not in ("", "@revoked"):
            known.skipped += 1
        elif marker == "@revoked":
            known.revoked.add(_key_id(entry.key))
        else:
            known.add(entry)
    return known


@functools.lru_cache(maxsize=8)
def _parsed(path: str, _size: int, _mtime_ns: int) -> KnownHosts:
    return parse(Path(path).read_text("utf-8", errors="replace"))


def read(path: Path) -> KnownHosts:
    """The parsed file; re-read only when its size or modification time changes.

    Raises FileNotFoundError (and other OSErrors) for the caller to word.
    """
    stat = path.stat()
    return _parsed(str(path), stat.st_size, stat.st_mtime_ns)
