"""The backup agent on Windows, found by its services.

Pure judges of the host's collection (windows_facts.py); each returns the problems found
(empty: compliant). The checks are in test_backup.py.
"""

from __future__ import annotations

import re

from .windows_facts import Facts, HostVars, section

# backup_agent -> its Windows services, as patterns matched in full (case-insensitive) against a
# service's name or display name: Commvault names its services per instance, IBM Storage
# Protect's setup wizard names them (backup_windows_services replaces the list). Sources: each
# vendor's Windows client documentation. roles/backup/vars/Windows.yml holds the same patterns.
BACKUP_AGENT_SERVICES: dict[str, tuple[str, ...]] = {
    "veeam": ("VeeamEndpointBackupSvc", "Veeam Agent for Microsoft Windows Service"),
    "commvault": (r"GxCVD\(Instance\d+\)", r"GxClMgrS\(Instance\d+\)"),
    "spectrum_protect": ("TSM Client Acceptor", "TSM Client Scheduler"),
    "netbackup": ("bpinetd", "NetBackup Client Service", "VRTSpbx"),
    "rubrik": ("Rubrik Backup Service",),
    "cohesity": ("CohesityAgent", "Cohesity Agent"),
    "bareos": ("Bareos-fd",),
    "bacula": ("Bacula-fd",),
}


def backup_applies(hostvars: HostVars) -> bool:
    """backup_required in the inventory, as YAML or as a string (as tests/test_backup.py)."""
    return str(hostvars.get("backup_required", False)).strip().lower() in ("true", "yes", "1")


def backup_service_patterns(hostvars: HostVars) -> tuple[str, list[str]]:
    """The product's name and its service patterns; an unknown product is a LookupError."""
    agent = str(hostvars.get("backup_agent") or "")
    if agent not in BACKUP_AGENT_SERVICES:
        raise LookupError(
            f"backup_required is true but backup_agent {agent!r} is not one of "
            f"{sorted(BACKUP_AGENT_SERVICES)}"
        )
    named = [re.escape(str(s)) for s in hostvars.get("backup_windows_services") or []]
    return agent, named or list(BACKUP_AGENT_SERVICES[agent])


def judge_backup_agent_running(facts: Facts, hostvars: HostVars) -> list[str]:
    """At least one of the agent's services exists, and every one that exists is Running/Auto.
    Only for hosts where backup_applies(hostvars); the check skips the others."""
    agent, patterns = backup_service_patterns(hostvars)
    wanted = re.compile("|".join(f"(?:{p})" for p in patterns), re.I)
    found = [
        s
        for s in section(facts, "services")
        if wanted.fullmatch(str(s.get("Name") or ""))
        or wanted.fullmatch(str(s.get("DisplayName") or ""))
    ]
    if not found:
        return [f"the {agent} backup agent is not installed: no service matches {patterns}"]
    return [
        f"{agent} backup agent service {s.get('Name')} is {s.get('State')}/{s.get('StartMode')}, "
        "expected Running/Auto"
        for s in found
        if (s.get("State"), s.get("StartMode")) != ("Running", "Auto")
    ]
