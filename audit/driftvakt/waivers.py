"""Waivers: documented, approved, time-limited exceptions (RSK-NET-01: any override of a
protection needs a documented risk analysis).

A waived result is ``waived``, never ``pass``; an expired waiver stops counting and the result
says so; a malformed waiver file is an error naming the file and line, never ignored.

```yaml
waivers:
  - control: auditd_running
    hosts: [lab]                 # host names, groups or Ansible patterns
    reason: "containers get no kernel audit socket"
    risk_analysis: "RA-2026-014"
    approver: "Anna Andersson, CISO"
    expires: 2027-06-30
```
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import yaml

from driftvakt.errors import BadInputError

REQUIRED = ("control", "hosts", "reason", "risk_analysis", "approver", "expires")


@dataclass(frozen=True)
class Waiver:
    control: str
    hosts: tuple[str, ...]
    reason: str
    risk_analysis: str
    approver: str
    expires: dt.date
    source: str  # file:line, for reports

    def covers(self, host: str, groups: set[str]) -> bool:
        return any(p == "all" or p in groups or fnmatch(host, p) for p in self.hosts)

    def expired(self, today: dt.date) -> bool:
        return today > self.expires


def _where(path: Path, node: yaml.Node) -> str:
    return f"{path}:{node.start_mark.line + 1}"


def load(path: Path, known_controls: set[str]) -> list[Waiver]:
    """Parse and validate a waiver file; every problem is a BadInputError naming file:line."""
    try:
        text = path.read_text("utf-8")
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except OSError as exc:
        raise BadInputError(f"waivers {path}: cannot read ({exc.strerror})") from exc
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 0
        raise BadInputError(f"waivers {path}:{line}: not valid YAML ({exc.problem})") from exc
    if root is None:
        return []
    data = yaml.safe_load(text)
    if not isinstance(data, dict) or not isinstance(data.get("waivers"), list):
        raise BadInputError(
            f"waivers {_where(path, root)}: expected a mapping with a 'waivers' list"
        )
    waivers_node = next(v for k, v in root.value if k.value == "waivers")
    return [
        _parse(entry, node, path, known_controls)
        for entry, node in zip(data["waivers"], waivers_node.value, strict=True)
    ]


def _parse(entry: Any, node: yaml.Node, path: Path, known: set[str]) -> Waiver:
    where = _where(path, node)
    if not isinstance(entry, dict):
        raise BadInputError(f"waivers {where}: each waiver must be a mapping")
    missing = [key for key in REQUIRED if not entry.get(key)]
    if missing:
        raise BadInputError(f"waivers {where}: missing {', '.join(missing)}")
    unknown = sorted(set(entry) - set(REQUIRED))
    if unknown:
        raise BadInputError(f"waivers {where}: unknown field(s) {', '.join(unknown)}")
    if entry["control"] not in known:
        raise BadInputError(f"waivers {where}: unknown control {entry['control']!r}")
    expires = entry["expires"]
    if isinstance(expires, str):
        try:
            expires = dt.date.fromisoformat(expires)
        except ValueError as exc:
            raise BadInputError(f"waivers {where}: expires must be a date (YYYY-MM-DD)") from exc
    if not isinstance(expires, dt.date):
        raise BadInputError(f"waivers {where}: expires must be a date (YYYY-MM-DD)")
    hosts = entry["hosts"]
    hosts = (hosts,) if isinstance(hosts, str) else tuple(str(h) for h in hosts)
    return Waiver(
        str(entry["control"]),
        hosts,
        str(entry["reason"]),
        str(entry["risk_analysis"]),
        str(entry["approver"]),
        expires,
        where,
    )


def default_path(inventory: str) -> Path:
    """Beside the inventory: ``<folder>.waivers.yml`` for an inventory folder (a file inside it
    would be read by Ansible as an inventory source), ``waivers.yml`` next to an inventory file."""
    inv = Path(inventory.rstrip("/"))
    return inv.with_name(inv.name + ".waivers.yml") if inv.is_dir() else inv.parent / "waivers.yml"


def find(waivers: list[Waiver], control: str, host: str, groups: set[str]) -> Waiver | None:
    return next((w for w in waivers if w.control == control and w.covers(host, groups)), None)
