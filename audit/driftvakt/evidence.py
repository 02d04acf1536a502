"""A result's evidence as the commands it ran, and the change between two runs per command.

Evidence is what the engine recorded (:class:`driftvakt.checkrun._Recorder`): per command a
header ``$ COMMAND (rc=N)`` and its first output lines, indented. testinfra runs its platform
detection (``uname -s``, ``cat /etc/os-release``, ...) once per host, inside whichever check
asks first, so those lines come and go between runs without anything changing: they are the
preamble, and never a change. A command is matched with the same command (its n-th run, if a
check runs it twice) of the other run; only commands whose output or exit code changed count.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

# testinfra's SystemInfo commands (testinfra/modules/systeminfo.py), exactly as it runs them
PREAMBLE = frozenset(
    {
        "uname -s",
        "uname -r",
        "uname -m",
        "cat /etc/os-release",
        "cat /etc/redhat-release",
        "cat /etc/alpine-release",
        "lsb_release -a",
        "sw_vers",
    }
)
_HEADER = re.compile(r"^\$ (.*) \(rc=(-?\d+)\)$", re.S)


@dataclass(frozen=True)
class Command:
    command: str  # "" for lines before any command (a waiver's note, a check's message)
    rc: str | None
    output: tuple[str, ...]

    @property
    def header(self) -> tuple[str, ...]:
        return (f"$ {self.command} (rc={self.rc})",) if self.command else ()


@dataclass(frozen=True)
class CommandChange:
    """One command whose output or exit code changed, appeared or disappeared."""

    command: str
    rc_before: str | None  # None: not run before
    rc_after: str | None  # None: not run now
    removed: tuple[str, ...]
    added: tuple[str, ...]


def commands(lines: list[str]) -> list[Command]:
    found: list[Command] = []
    command, rc, output = "", None, []  # type: ignore[var-annotated]
    started = False
    for line in lines:
        header = _HEADER.match(line)
        if header:
            if started or output:
                found.append(Command(command, rc, tuple(output)))
            command, rc, output, started = header.group(1), header.group(2), [], True
        else:
            output.append(line)
    if started or output:
        found.append(Command(command, rc, tuple(output)))
    return found


def _keyed(lines: list[str]) -> dict[tuple[str, int], Command]:
    keyed: dict[tuple[str, int], Command] = {}
    seen: dict[str, int] = {}
    for c in commands(lines):
        if c.command in PREAMBLE:
            continue
        n = seen[c.command] = seen.get(c.command, -1) + 1
        keyed[(c.command, n)] = c
    return keyed


def _lines_diff(before: tuple[str, ...], after: tuple[str, ...]) -> tuple[list[str], list[str]]:
    removed: list[str] = []
    added: list[str] = []
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op in ("replace", "delete"):
            removed.extend(before[i1:i2])
        if op in ("replace", "insert"):
            added.extend(after[j1:j2])
    return removed, added


def changes(before: list[str], after: list[str]) -> tuple[list[CommandChange], list[str]]:
    """The commands that changed (in the later run's order, then those gone), and the
    commands run in both with the same exit code and output (collapsed in the report)."""
    was, now = _keyed(before), _keyed(after)
    changed: list[CommandChange] = []
    unchanged: list[str] = []
    for key in list(now) + [k for k in was if k not in now]:
        old, new = was.get(key), now.get(key)
        if old is not None and new is not None:
            if old.rc == new.rc and old.output == new.output:
                unchanged.append(key[0])
                continue
            removed, added = _lines_diff(old.output, new.output)
            if old.rc != new.rc:  # the exit code is part of what changed: show both headers
                removed, added = [*old.header, *removed], [*new.header, *added]
            changed.append(CommandChange(key[0], old.rc, new.rc, tuple(removed), tuple(added)))
        elif new is not None:
            changed.append(CommandChange(key[0], None, new.rc, (), (*new.header, *new.output)))
        elif old is not None:
            changed.append(CommandChange(key[0], old.rc, None, (*old.header, *old.output), ()))
    return changed, unchanged
