"""Security logging: events forwarded to the region's central log host; auditd records them.

Requirements RST-9.4.1 (security-relevant events logged with time and detail), RST-9.4.2 (logs
made available centrally) and RSK-ACC-02 (access is logged). The central log host comes from the
inventory variable ``logging_central_host``, the same one the ``logging`` role is applied with.

The checks never depend on another host: forwarding is judged from rsyslog's configuration
(validated by ``rsyslogd -N1``, following its includes) and rsyslog running. That an event really
arrives is proved in the lab (audit/tests/test_lab_logging.py).
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from dataclasses import dataclass, field
from typing import Any

import pytest

from . import windows_logging
from .windows_facts import windows_facts

RSYSLOG_CONF = "/etc/rsyslog.conf"
AUDIT_RULES_DIR = "/etc/audit/rules.d"
_SAFE_GLOB = re.compile(r"^[\w./*?\[\]-]+$")
_ACTION = re.compile(r"action\s*\((.*?)\)", re.DOTALL | re.IGNORECASE)
_PARAM = re.compile(r'([\w.]+)\s*=\s*"([^"]*)"')
_SELECTOR = re.compile(r"^[\w*]+(,[\w*]+)*\.[!=]?[\w*]+(;[\w*]+(,[\w*]+)*\.[!=]?[\w*]+)*$")
# legacy forwarding: "<selector> @host[:port]" (UDP) or "@@host[:port]" (TCP), optional (o...)
_LEGACY = re.compile(r"^(\S+)\s+(@@?)(\([^)]*\))?(\[[^\]]+\]|[^\s:;]+)(?::(\d+))?")
_INCLUDE_LEGACY = re.compile(r"^\$IncludeConfig\s+(\S+)", re.IGNORECASE)
_INCLUDE = re.compile(r'include\s*\(\s*file\s*=\s*"([^"]+)"', re.IGNORECASE)


# --- rsyslog -------------------------------------------------------------------------------


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


# --- auditd --------------------------------------------------------------------------------


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


# --- the checks ----------------------------------------------------------------------------


def _linux_only(host: Any) -> None:
    if host.system_info.type != "linux":
        pytest.skip(f"not applicable: checked on Linux, this is {host.system_info.type}")


def _central_host(hostvars: dict[str, Any]) -> str:
    central = hostvars.get("logging_central_host")
    if not central:
        raise LookupError("the inventory sets no logging_central_host for this host")
    return str(central)


def _addresses(host: Any, name: str) -> set[str]:
    try:
        return {str(ipaddress.ip_address(name))}
    except ValueError:
        out = host.run("getent ahosts %s", name).stdout
        return {line.split()[0] for line in out.splitlines() if line.strip()} | {name}


def split_dump(output: str) -> dict[str, str]:
    """Files printed by ``printf '==> %s <==\\n' FILE; cat FILE`` (as ``tail`` heads them)."""
    files: dict[str, list[str]] = {}
    current = None
    for line in output.splitlines():
        head = re.fullmatch(r"==> (.+) <==", line)
        if head:
            current = head.group(1)
            files[current] = []
        elif current is not None:
            files[current].append(line)
    return {path: "\n".join(lines) + "\n" for path, lines in files.items()}


def _dump(host: Any, globs: list[str]) -> dict[str, str]:
    """Every regular file matching the globs, read in one command."""
    unsafe = [g for g in globs if not _SAFE_GLOB.match(g)]
    if unsafe:
        raise AssertionError(f"cannot expand these file patterns safely: {unsafe}")
    command = (
        f"for f in {' '.join(globs)}; do "
        '[ -f "$f" ] && printf \'==> %s <==\\n\' "$f" && { cat "$f"; echo; }; done; true'
    )
    return split_dump(host.run(command).stdout)


def _rsyslog_forwards(host: Any) -> tuple[list[tuple[Forward, str]], list[str]]:
    """([(forward, file)], files read) following the includes of /etc/rsyslog.conf."""
    found: list[tuple[Forward, str]] = []
    files = _dump(host, [RSYSLOG_CONF])
    assert files, f"no rsyslog configuration at {RSYSLOG_CONF}"
    read: list[str] = []
    while files:
        for path, text in files.items():
            read.append(path)
            found += [(fwd, path) for fwd in parse_forwards(text)]
        globs = sorted({g for text in files.values() for g in parse_includes(text)})
        files = {p: t for p, t in _dump(host, globs).items() if p not in read} if globs else {}
    return found, read


def _units(host: Any, unit: str) -> tuple[str, str]:
    """(active state, enablement) of a systemd unit, read in one command."""
    out = host.run(f"systemctl is-active {unit}; systemctl is-enabled {unit}").stdout.split()
    padded = [*out, "unknown", "unknown"]
    return padded[0], padded[1]


@pytest.mark.control("security_logs_forwarded")
def test_security_logs_go_to_the_central_host_only(host: Any, hostvars: dict[str, Any]) -> None:
    _linux_only(host)
    central = _central_host(hostvars)
    with host.sudo():
        found, files = _rsyslog_forwards(host)
        valid = host.run("command -v rsyslogd >/dev/null && rsyslogd -N1 2>&1")
        active, enabled = _units(host, "rsyslog")
        allowed = _addresses(host, central)
    assert valid.rc == 0, (
        f"rsyslog is not installed or `rsyslogd -N1` rejects its configuration "
        f"(rc {valid.rc}): {valid.stdout.strip()[-300:]}"
    )
    shown = [f"{fwd} ({path})" for fwd, path in found]
    foreign = [s for (fwd, _), s in zip(found, shown, strict=True) if fwd.target not in allowed]
    assert not foreign, f"forwards to hosts other than {central}: {foreign}; all: {shown}"
    for facility in ("auth", "authpriv"):
        good = [
            fwd
            for fwd, _ in found
            if selector_covers(fwd.selector, facility) and fwd.protocol == "tcp" and fwd.disk_queue
        ]
        assert good, (
            f"no forwarding of {facility}.* to {central} over TCP with a disk-assisted queue; "
            f"forwarding found: {shown or 'none'} (files read: {files})"
        )
    assert (active, enabled) == ("active", "enabled"), (
        f"rsyslog is {active} and {enabled} at boot (expected active and enabled)"
    )


@pytest.mark.control("auditd_rules_present")
def test_auditd_rules_record_security_events(host: Any, hostvars: dict[str, Any]) -> None:
    _linux_only(host)
    with host.sudo():
        files = _dump(host, [f"{AUDIT_RULES_DIR}/*.rules"])
        compiled = host.run(
            "command -v auditctl >/dev/null || { echo 'auditd is not installed'; exit 3; }; "
            "augenrules --check 2>&1"
        )
        _, enabled = _units(host, "auditd")
    rules = [rule for text in files.values() for rule in parse_audit_rules(text)]
    assert compiled.rc != 3, "auditd is not installed (no auditctl)"
    missing = missing_audit_events(rules)
    assert not missing, (
        f"the persistent audit rules ({', '.join(files) or f'none in {AUDIT_RULES_DIR}'}) "
        f"do not record: {missing}"
    )
    assert "No change" in compiled.stdout, (
        f"/etc/audit/audit.rules, which auditd loads at boot, differs from {AUDIT_RULES_DIR}: "
        f"`augenrules --check` says {compiled.stdout.strip()!r}"
    )
    assert enabled == "enabled", f"auditd is {enabled} at boot, not enabled"


@pytest.mark.control("auditd_running")
def test_auditd_runs_with_the_rules_loaded(host: Any, hostvars: dict[str, Any]) -> None:
    _linux_only(host)
    with host.sudo():
        active, _ = _units(host, "auditd")
        loaded = host.run("command -v auditctl >/dev/null && auditctl -l 2>&1")
    assert active == "active", (
        f"auditd is {active}, not active; `auditctl -l` (rc {loaded.rc}): "
        f"{loaded.stdout.strip()[:200]}"
    )
    assert loaded.rc == 0, f"`auditctl -l` failed (rc {loaded.rc}): {loaded.stdout.strip()}"
    missing = missing_audit_events(parse_audit_rules(loaded.stdout))
    assert not missing, f"the rules loaded in the kernel do not record: {missing}"


# --- Windows Server (one collection per host, judged in windows_logging.py) -----------------------


@pytest.mark.windows
@pytest.mark.control("win_audit_policy")
def test_windows_audit_policy(host: Any, hostvars: dict[str, Any]) -> None:
    found = windows_logging.judge_win_audit_policy(windows_facts(host), hostvars)
    assert not found, "; ".join(found)


@pytest.mark.windows
@pytest.mark.control("win_security_log_size")
def test_windows_security_log_size(host: Any, hostvars: dict[str, Any]) -> None:
    found = windows_logging.judge_win_security_log_size(windows_facts(host), hostvars)
    assert not found, "; ".join(found)


@pytest.mark.windows
@pytest.mark.control("win_event_forwarding")
def test_windows_event_forwarding(host: Any, hostvars: dict[str, Any]) -> None:
    found = windows_logging.judge_win_event_forwarding(windows_facts(host), hostvars)
    assert not found, "; ".join(found)
