"""auditd rules, parsed from rules files or ``auditctl -l``, and the security events they must
record, for test_logging.py.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class AuditRule:
    """One audit rule: a file watch (path, perms) or a syscall rule (arches, syscalls, fields)."""

    key: str
    watch: str | None = None
    perms: str = ""
    arches: frozenset[str] = frozenset()
    syscalls: frozenset[str] = frozenset()
    fields: dict[str, str] = field(default_factory=dict, hash=False)


def parse_audit_rules(text: str) -> list[AuditRule]:
    """Rules from a rules file or ``auditctl -l`` (``-k key`` and ``-F key=`` both understood)."""
    rules = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            tokens = shlex.split(line)
        except ValueError:
            continue
        watch, perms, key = None, "", ""
        arches: set[str] = set()
        syscalls: set[str] = set()
        fields: dict[str, str] = {}
        is_rule = False
        pairs = iter(tokens)
        for option in pairs:
            value = next(pairs, "")
            if option == "-w":
                watch, is_rule = value, True
            elif option == "-p":
                perms = value
            elif option in ("-k", "--key"):
                key = value
            elif option == "-a":
                is_rule = True
            elif option == "-S":
                syscalls |= set(value.split(","))
            elif option == "-F":
                name, _, val = [*re.split(r"(!=|>=|<=|=|>|<)", value, maxsplit=1), "", ""][:3]
                if name == "key":
                    key = val
                elif name == "arch":
                    arches.add(val)
                elif name == "perm":
                    perms = val
                else:
                    fields[name] = val
        if is_rule:
            rules.append(
                AuditRule(key, watch, perms, frozenset(arches), frozenset(syscalls), fields)
            )
    return rules


# "-a task,never" (auditctl -l shows it as "-a never,task"): no task gets an audit context, so no
# syscall rule or watch ever fires, whatever follows it. SUSE ships it in rules.d/audit.rules.
SUPPRESS_ALL = re.compile(r"^\s*-a\s+(?:task,never|never,task)\s*(?:#.*)?$")


def suppressing_rules(text: str) -> list[str]:
    """The lines of a rules file or ``auditctl -l`` that switch all syscall auditing off."""
    return [line.strip() for line in text.splitlines() if SUPPRESS_ALL.match(line)]


# What the baseline requires auditd to record: (what, predicate over a rule).
ACCOUNT_FILES = ("/etc/passwd", "/etc/shadow", "/etc/group", "/etc/gshadow")


PRIVILEGED_COMMANDS = ("/usr/bin/sudo", "/usr/bin/su")


TIME_SYSCALLS = frozenset({"adjtimex", "settimeofday", "clock_settime"})


def _watched(rule: AuditRule, path: str) -> bool:
    return rule.watch is not None and rule.watch.rstrip("/") == path and "w" in rule.perms


def _executed(rule: AuditRule, path: str) -> bool:
    if rule.fields.get("path") == path and "x" in rule.perms:
        return True
    return "execve" in rule.syscalls and path in (rule.fields.get("exe"), rule.fields.get("path"))


def missing_audit_events(rules: list[AuditRule]) -> list[str]:
    """The security events of the baseline that these rules do not record."""
    needed: list[tuple[str, Any]] = [
        ("logins: writes to /var/log/lastlog", lambda r: _watched(r, "/var/log/lastlog")),
        (
            "logins: writes to the faillock directory",
            lambda r: _watched(r, "/var/run/faillock") or _watched(r, "/run/faillock"),
        ),
        ("privilege use: changes to /etc/sudoers", lambda r: _watched(r, "/etc/sudoers")),
        (
            "clock changes: b64 adjtimex, settimeofday, clock_settime",
            lambda r: "b64" in r.arches and r.syscalls >= TIME_SYSCALLS,
        ),
        ("clock changes: writes to /etc/localtime", lambda r: _watched(r, "/etc/localtime")),
    ]
    needed += [(f"account changes: writes to {p}", _bind(_watched, p)) for p in ACCOUNT_FILES]
    needed += [
        (f"privilege use: executions of {p}", _bind(_executed, p)) for p in PRIVILEGED_COMMANDS
    ]
    return [what for what, test in needed if not any(test(rule) for rule in rules)]


def _bind(test: Any, path: str) -> Any:
    return lambda rule: test(rule, path)
