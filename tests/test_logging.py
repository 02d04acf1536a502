"""Security logging: events forwarded to the region's central log host; auditd records them.

Requirements RST-9.4.1 (security-relevant events logged with time and detail), RST-9.4.2 (logs
made available centrally) and RSK-ACC-02 (access is logged). The central log host comes from the
inventory variable ``logging_central_host``, the same one the ``logging`` role is applied with.

The checks never depend on another host: forwarding is judged from rsyslog's configuration
(validated by ``rsyslogd -N1``, following its includes) and rsyslog running. That an event really
arrives is proved in the lab (audit/tests/test_lab_logging.py). The pure parsers are
logging_rsyslog.py and logging_auditd.py.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

import pytest

from . import windows_logging
from .logging_auditd import missing_audit_events, parse_audit_rules, suppressing_rules
from .logging_rsyslog import Forward, parse_forwards, parse_includes, selector_covers
from .required_vars import required
from .windows_facts import windows_facts

RSYSLOG_CONF = "/etc/rsyslog.conf"
AUDIT_RULES_DIR = "/etc/audit/rules.d"
_SAFE_GLOB = re.compile(r"^[\w./*?\[\]-]+$")


def _linux_only(host: Any) -> None:
    if host.system_info.type != "linux":
        pytest.skip(f"not applicable: checked on Linux, this is {host.system_info.type}")


def _central_host(hostvars: dict[str, Any]) -> str:
    return str(required(hostvars, "logging_central_host"))


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
    suppressing = [
        f"{name}: {line}" for name, text in files.items() for line in suppressing_rules(text)
    ]
    assert not suppressing, (
        f"a rule switches all syscall auditing off, so no other rule ever fires: {suppressing}"
    )
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
    suppressing = suppressing_rules(loaded.stdout)
    assert not suppressing, (
        f"the kernel has {suppressing[0]!r} loaded: no syscall rule or watch fires, whatever "
        "else is loaded"
    )
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
