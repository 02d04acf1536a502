"""Time sync on Windows (W32Time), judged from the host's one collection.

Pure judges of the host's collection (windows_facts.py); each returns the problems found
(empty: compliant). The checks are in test_timesync.py.
"""

from __future__ import annotations

from .required_vars import required
from .windows_facts import Facts, HostVars, section, services_by_name


def ntp_peers(value: str | None) -> list[str]:
    """W32Time's NtpServer value: space-separated peers, each 'name,0xFLAGS'."""
    return [p.split(",")[0].lower() for p in (value or "").split() if p.split(",")[0]]


def judge_ntp_region_servers(facts: Facts, hostvars: HostVars) -> list[str]:
    expected = [str(s).lower() for s in required(hostvars, "timesync_ntp_servers")]
    time = section(facts, "time")
    peers = ntp_peers(time.get("NtpServer"))
    problems = []
    if str(time.get("Type") or "").upper() != "NTP":
        problems.append(f"W32Time Type is {time.get('Type')!r}, expected 'NTP' (manual peers)")
    foreign = [p for p in peers if p not in expected]
    missing = [s for s in expected if s not in peers]
    if foreign or missing:
        problems.append(
            f"W32Time NtpServer {time.get('NtpServer')!r}: not the region's {foreign}, "
            f"region servers missing {missing} (expected {expected})"
        )
    return problems


def judge_ntp_service_enabled(facts: Facts, hostvars: HostVars) -> list[str]:
    service = services_by_name(facts).get("w32time")
    if service is None:
        return ["service W32Time does not exist"]
    problems = []
    if service.get("StartMode") != "Auto":
        problems.append(f"W32Time start mode is {service.get('StartMode')}, expected Auto")
    if service.get("State") != "Running":
        problems.append(f"W32Time is {service.get('State')}, expected Running")
    return problems


def judge_ntp_source_selected(facts: Facts, hostvars: HostVars) -> list[str]:
    expected = [str(s).lower() for s in required(hostvars, "timesync_ntp_servers")]
    time = section(facts, "time")
    source = str(time.get("Source") or "").strip()
    name = source.split(",")[0].lower()
    if time.get("SourceRc") not in (0, None) or name not in expected:
        return [f"time source in use (w32tm /query /source): {source!r}; region servers {expected}"]
    return []
