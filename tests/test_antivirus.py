"""Malware protection: the vendor's agent is installed, enabled at boot, running, and its
definitions are fresh.

Requirements SKA-SRV-05 (works with the antivirus in use), RSK-OPS-02 (malware protection that
detects, updates continuously and starts automatically) and RST-9.6.2 (protection against
malicious code). ``antivirus_vendor`` (inventory, default clamav) names the product;
``antivirus_max_definition_age_hours`` (default 48) the allowed age of its newest definitions.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from . import windows_antivirus
from .systemd_units import describe, enabled_and_running, installed, unit_states
from .windows_facts import windows_facts

DEFAULT_VENDOR = "clamav"
DEFAULT_MAX_AGE_HOURS = 48
CLAMAV_DATABASE_DIR = "/var/lib/clamav"
# ClamAV signature database types (official .cvd/.cld/.cud and locally built ones).
CLAMAV_DATABASE_TYPES = ("cvd", "cld", "cud", "ndb", "hdb", "hsb", "mdb", "msb", "ldb", "cdb")
# vendor -> (its systemd services: at least one enabled and running, how its definitions'
# age is read: "clamav-files", a command printing minutes, or None when unknown).
VENDORS: dict[str, tuple[tuple[str, ...], str | None]] = {
    # clamav-daemon (Debian), clamd@scan (RHEL, EPEL), clamd (SLES)
    "clamav": (("clamav-daemon", "clamd@scan", "clamd"), "clamav-files"),
    "mdatp": (("mdatp",), "mdatp health --field definitions_updated_minutes_ago"),
    "trendmicro": (("ds_agent",), None),
    "trellix": (("mfetpd", "isectpd"), None),
    "withsecure": (("fsbg", "f-secure-linuxsecurity"), None),
    "kaspersky": (("kesl",), None),
    "sophos": (("sophos-spl",), None),
}
_NUMBER = re.compile(r"-?\d+")


def parse_mtimes(output: str) -> tuple[int | None, dict[str, int]]:
    """``now <epoch>`` then ``stat -c '%Y %n'`` lines -> (now, {file: mtime})."""
    now = None
    mtimes = {}
    for line in output.splitlines():
        first, _, rest = line.strip().partition(" ")
        if first == "now" and rest.strip().isdigit():
            now = int(rest)
        elif first.isdigit() and rest:
            mtimes[rest] = int(first)
    return now, mtimes


def parse_minutes(output: str) -> int | None:
    """An agent's "definitions are N minutes old" answer (maybe quoted) -> N."""
    match = _NUMBER.fullmatch(output.strip().strip('"').strip())
    return int(match.group()) if match else None


def _linux_only(host: Any) -> None:
    if host.system_info.type != "linux":
        pytest.skip(f"not applicable: checked on Linux, this is {host.system_info.type}")


def _vendor(hostvars: dict[str, Any]) -> tuple[str, tuple[str, ...], str | None]:
    vendor = str(hostvars.get("antivirus_vendor") or DEFAULT_VENDOR)
    assert vendor in VENDORS, f"antivirus_vendor '{vendor}' is unknown; known: {sorted(VENDORS)}"
    services, probe = VENDORS[vendor]
    return vendor, services, probe


@pytest.mark.control("antivirus_running")
def test_antivirus_is_installed_enabled_and_running(host: Any, hostvars: dict[str, Any]) -> None:
    _linux_only(host)
    vendor, services, _ = _vendor(hostvars)
    units = unit_states(host, services)
    state = describe(units)
    assert installed(units), f"{vendor} is not installed: none of its services exists ({state})"
    running = enabled_and_running(units)
    assert running, f"no {vendor} service is enabled at boot and running: {state}"


@pytest.mark.control("antivirus_definitions_fresh")
def test_antivirus_definitions_are_fresh(host: Any, hostvars: dict[str, Any]) -> None:
    _linux_only(host)
    vendor, _, probe = _vendor(hostvars)
    max_hours = int(hostvars.get("antivirus_max_definition_age_hours") or DEFAULT_MAX_AGE_HOURS)
    assert probe is not None, (
        f"the age of {vendor}'s definitions cannot be read by the audit (no known probe): "
        "not verified"
    )
    if probe == "clamav-files":
        globs = " ".join(f"{CLAMAV_DATABASE_DIR}/*.{t}" for t in CLAMAV_DATABASE_TYPES)
        with host.sudo():
            out = host.run(f"echo now $(date +%s); stat -c '%Y %n' {globs} 2>/dev/null; true")
        now, mtimes = parse_mtimes(out.stdout)
        assert now is not None, f"cannot read the host's clock: {out.stdout.strip()[:200]}"
        assert mtimes, f"no ClamAV signature database in {CLAMAV_DATABASE_DIR}"
        newest = max(mtimes, key=lambda f: mtimes[f])
        age_hours = (now - mtimes[newest]) / 3600
        assert age_hours <= max_hours, (
            f"newest ClamAV signatures {newest} are {age_hours:.1f} h old (at most {max_hours} h)"
        )
        return
    with host.sudo():
        out = host.run(probe)
    minutes = parse_minutes(out.stdout)
    assert out.rc == 0 and minutes is not None, (
        f"`{probe}` gave no age (rc={out.rc}): {(out.stdout + out.stderr).strip()[:200]}"
    )
    assert minutes <= max_hours * 60, (
        f"{vendor} definitions are {minutes / 60:.1f} h old (at most {max_hours} h)"
    )


# --- Windows Server (one collection per host, judged in windows_antivirus.py) ---------------------


@pytest.mark.windows
@pytest.mark.control("win_antivirus_active")
def test_windows_antivirus_active(host: Any, hostvars: dict[str, Any]) -> None:
    found = windows_antivirus.judge_win_antivirus_active(windows_facts(host), hostvars)
    assert not found, "; ".join(found)
