"""File integrity: AIDE watches the baseline's files, has a database, and checks daily.

Requirement RST-5.3.2 (assets whose corruption causes serious harm get protection that detects
unauthorised change). AIDE itself is asked whether the baseline's files are selected
(``aide --path-check``, AIDE 0.17 and later); older AIDE (RHEL 8/9 ship 0.16) cannot answer,
and the evidence says so.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

AIDE_CONFIGS = ("/etc/aide/aide.conf", "/etc/aide.conf")  # Debian; RHEL and SLES
AIDE_DATABASES = ("/var/lib/aide/aide.db", "/var/lib/aide/aide.db.gz")
# Files whose unauthorised change the baseline must detect.
BASELINE_FILES = (
    "/etc/passwd",
    "/etc/shadow",
    "/etc/group",
    "/etc/sudoers",
    "/etc/ssh/sshd_config",
    "/usr/sbin/sshd",
    "/usr/bin/sudo",
)
AIDE_TIMERS = ("dailyaidecheck.timer", "driftvakt-aide-check.timer")
# The role's own check service (RHEL, SLES): its last run is judged, not only its timer.
# `--property=A,B --value` and `-P` need newer systemd than SLES 15 SP2's 234: key=value lines.
OWN_SERVICE = "driftvakt-aide-check.service"
OWN_RESULT = f"systemctl show {OWN_SERVICE} --property=ExecMainExitTimestamp,ExecMainStatus"
# aide --check exits 0 (no changes) or 1..7 (added, removed, changed files as bits); 14..19
# are AIDE's own errors; 127 is the shell's "command not found", 203 systemd's "cannot execute".
AIDE_RAN = range(8)
_PATH_CHECK = re.compile(r"^\[([X ])\] \S+ '(.+?)': (.*)$")


def parse_path_check(output: str) -> dict[str, tuple[bool, str]]:
    """``aide --path-check`` lines: path -> (selected, the rule that decided)."""
    found = {}
    for line in output.splitlines():
        match = _PATH_CHECK.match(line.strip())
        if match:
            found[match.group(2)] = (match.group(1) == "X", match.group(3))
    return found


def parse_sizes(output: str) -> dict[str, int]:
    """``stat -c '%s %n' FILES`` -> {file: size}."""
    sizes = {}
    for line in output.splitlines():
        size, _, name = line.strip().partition(" ")
        if size.isdigit() and name:
            sizes[name] = int(size)
    return sizes


def parse_timers(output: str) -> dict[str, tuple[str, str]]:
    """Lines ``<timer> <is-enabled> <is-active>`` -> {timer: (enabled, active)}."""
    timers = {}
    for line in output.splitlines():
        fields = line.split()
        if len(fields) >= 1:
            padded = [*fields, "unknown", "unknown"]
            timers[fields[0]] = (padded[1], padded[2])
    return timers


def parse_last_run(output: str) -> tuple[bool, int | None]:
    """``systemctl show --property=ExecMainExitTimestamp,ExecMainStatus`` -> (ran since boot,
    its exit status; None when systemd printed none)."""
    fields = dict(line.partition("=")[::2] for line in output.splitlines() if "=" in line)
    status = fields.get("ExecMainStatus", "").strip()
    return bool(fields.get("ExecMainExitTimestamp", "").strip()), (
        int(status) if status.lstrip("-").isdigit() else None
    )


def _linux_only(host: Any) -> None:
    if host.system_info.type != "linux":
        pytest.skip(f"not applicable: AIDE is checked on Linux, this is {host.system_info.type}")


@pytest.mark.control("aide_database_initialised")
def test_aide_watches_the_baseline_and_has_a_database(host: Any, hostvars: dict[str, Any]) -> None:
    _linux_only(host)
    with host.sudo():
        config = host.run(
            "command -v aide >/dev/null || { echo 'not installed'; exit 3; }; "
            f"for c in {' '.join(AIDE_CONFIGS)}; do [ -f $c ] && echo $c && break; done; true"
        )
        assert config.rc != 3, "AIDE is not installed (no aide command)"
        conf = config.stdout.strip()
        assert conf, f"no AIDE configuration at {' or '.join(AIDE_CONFIGS)}"
        sizes = parse_sizes(
            host.run(f"stat -c '%s %n' {' '.join(AIDE_DATABASES)} 2>/dev/null; true").stdout
        )
        probe = host.run(
            f"aide --config {conf} --config-check >/dev/null 2>&1; echo config-check rc=$?; "
            f"for p in {' '.join(BASELINE_FILES)}; do aide --config {conf} --path-check f:$p 2>&1; "
            "done; true"
        )
    assert "config-check rc=0" in probe.stdout, (
        f"`aide --config-check` rejects {conf}: {probe.stdout.strip()[:300]}"
    )
    databases = {path: size for path, size in sizes.items() if size > 0}
    assert databases, (
        f"no initialised AIDE database: {sizes or 'none of ' + ', '.join(AIDE_DATABASES)} "
        "(an empty or missing database leaves nothing to compare)"
    )
    checked = parse_path_check(probe.stdout)
    if checked:  # AIDE >= 0.17 answers; older AIDE cannot be asked (see module docstring)
        unwatched = [f"{p} ({rule})" for p, (sel, rule) in checked.items() if not sel]
        unknown = [p for p in BASELINE_FILES if p not in checked]
        assert not unwatched and not unknown, (
            f"AIDE ({conf}) does not watch baseline files: {unwatched + unknown}"
        )


@pytest.mark.control("aide_check_scheduled")
def test_a_daily_aide_check_is_scheduled(host: Any, hostvars: dict[str, Any]) -> None:
    _linux_only(host)
    out = host.run(
        f"for t in {' '.join(AIDE_TIMERS)}; do "
        "e=$(systemctl is-enabled $t 2>/dev/null); "
        'echo "$t ${e:-absent} $(systemctl is-active $t)"; '
        "done"
    )
    timers = parse_timers(out.stdout)
    running = [t for t, state in timers.items() if state == ("enabled", "active")]
    assert running, "no AIDE check timer is enabled and active: " + "; ".join(
        f"{t}: {e or 'absent'}, {a}" for t, (e, a) in timers.items()
    )
    if running == ["driftvakt-aide-check.timer"]:
        ran, status = parse_last_run(host.run(OWN_RESULT).stdout)
        assert not ran or status in AIDE_RAN, (
            f"{OWN_SERVICE}'s last run did not check anything: it exited {status} (AIDE "
            "exits 0-7 after a check; 127: aide not found, 203: not executable, 14-19: "
            "AIDE's own errors)"
        )
