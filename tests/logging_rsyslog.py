"""rsyslog forwarding rules, parsed from its configuration (legacy and RainerScript), for
test_logging.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ACTION = re.compile(r"action\s*\((.*?)\)", re.DOTALL | re.IGNORECASE)


_PARAM = re.compile(r'([\w.]+)\s*=\s*"([^"]*)"')


_SELECTOR = re.compile(r"^[\w*]+(,[\w*]+)*\.[!=]?[\w*]+(;[\w*]+(,[\w*]+)*\.[!=]?[\w*]+)*$")


# legacy forwarding: "<selector> @host[:port]" (UDP) or "@@host[:port]" (TCP), optional (o...)
_LEGACY = re.compile(r"^(\S+)\s+(@@?)(\([^)]*\))?(\[[^\]]+\]|[^\s:;]+)(?::(\d+))?")


_INCLUDE_LEGACY = re.compile(r"^\$IncludeConfig\s+(\S+)", re.IGNORECASE)


_INCLUDE = re.compile(r'include\s*\(\s*file\s*=\s*"([^"]+)"', re.IGNORECASE)


@dataclass(frozen=True)
class Forward:
    """One forwarding action: its selector (None inside a ruleset), target, protocol, queue."""

    selector: str | None
    target: str
    port: str
    protocol: str
    disk_queue: bool

    def __str__(self) -> str:
        queue = "disk-assisted queue" if self.disk_queue else "no disk queue"
        where = f"{self.protocol}://{self.target}:{self.port}"
        return f"{self.selector or '(ruleset)'} -> {where} ({queue})"


def _strip_comments(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


def parse_forwards(text: str) -> list[Forward]:
    """Every omfwd action and legacy ``@``/``@@`` forwarding line in one rsyslog file."""
    text = _strip_comments(text)
    found = []
    for match in _ACTION.finditer(text):
        params = {k.lower(): v for k, v in _PARAM.findall(match.group(1))}
        if params.get("type", "").lower() != "omfwd":
            continue
        before = text[: match.start()].rsplit("\n", 1)[-1].strip()
        found.append(
            Forward(
                selector=before if _SELECTOR.match(before) else None,
                target=params.get("target", ""),
                port=params.get("port", "514"),
                protocol=params.get("protocol", "udp").lower(),
                disk_queue=bool(params.get("queue.filename")),
            )
        )
    for line in text.splitlines():
        legacy = _LEGACY.match(line.strip())
        if legacy and _SELECTOR.match(legacy.group(1)):
            found.append(
                Forward(
                    selector=legacy.group(1),
                    target=legacy.group(4).strip("[]"),
                    port=legacy.group(5) or "514",
                    protocol="tcp" if legacy.group(2) == "@@" else "udp",
                    disk_queue=False,
                )
            )
    return found


def parse_includes(text: str) -> list[str]:
    """The file globs an rsyslog file includes (``$IncludeConfig`` and ``include(file=…)``)."""
    text = _strip_comments(text)
    globs = [m.group(1) for m in map(_INCLUDE_LEGACY.match, text.splitlines()) if m]
    return globs + _INCLUDE.findall(text)


def selector_covers(selector: str | None, facility: str) -> bool:
    """Does a selector such as ``auth,authpriv.*`` or ``*.info;mail.none`` take this facility?"""
    if not selector:
        return False
    covered = False
    for part in selector.split(";"):
        facilities, _, priority = part.partition(".")
        names = facilities.split(",")
        if facility in names or "*" in names:
            covered = priority != "none"
    return covered
