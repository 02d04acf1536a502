"""Security auditing on Windows: audit policy, the Security log, event forwarding.

Pure judges of the host's collection (windows_facts.py); each returns the problems found
(empty: compliant). The checks are in test_logging.py.
"""

from __future__ import annotations

from .required_vars import required
from .windows_facts import Facts, HostVars, section, services_by_name

# Advanced audit subcategories (auditpol GUIDs, locale-independent) and the bits required:
# 1 success, 2 failure. Source: Microsoft Learn, "Advanced security audit policy settings".
AUDIT_REQUIRED = {
    "{0CCE9215-69AE-11D9-BED3-505054503030}": ("Logon", 3),
    "{0CCE921B-69AE-11D9-BED3-505054503030}": ("Special Logon", 1),
    "{0CCE923F-69AE-11D9-BED3-505054503030}": ("Credential Validation", 3),
    "{0CCE9228-69AE-11D9-BED3-505054503030}": ("Sensitive Privilege Use", 3),
    "{0CCE9235-69AE-11D9-BED3-505054503030}": ("User Account Management", 3),
    "{0CCE9237-69AE-11D9-BED3-505054503030}": ("Security Group Management", 1),
}

NETWORK_SERVICE_SID = "S-1-5-20"

DEFAULT_SECURITY_LOG_BYTES = 192 * 1024 * 1024


def judge_win_audit_policy(facts: Facts, hostvars: HostVars) -> list[str]:
    audit = section(facts, "audit")
    settings = {
        str(r["SubcategoryGuid"]).upper(): int(r.get("SettingValue") or 0)
        for r in audit.get("Subcategories") or []
    }
    problems = []
    for guid, (name, bits) in AUDIT_REQUIRED.items():
        have = settings.get(guid, 0)
        if have & bits != bits:
            want = {1: "success", 2: "failure", 3: "success and failure"}[bits]
            problems.append(f"{name} audits {have} (bits), needs {want}")
    if audit.get("SCENoApplyLegacyAuditPolicy") != 1:
        problems.append("SCENoApplyLegacyAuditPolicy is not 1: legacy categories may override")
    return problems


def judge_win_security_log_size(facts: Facts, hostvars: HostVars) -> list[str]:
    log = section(facts, "eventlog")
    minimum = int(hostvars.get("windows_security_log_min_bytes", DEFAULT_SECURITY_LOG_BYTES))
    size = int(log.get("SecurityMaximumSizeInBytes") or 0)
    problems = []
    if size < minimum:
        problems.append(f"Security log maximum size is {size} bytes, at least {minimum} required")
    if log.get("SecurityIsEnabled") is not True:
        problems.append("the Security log is disabled")
    return problems


def judge_win_event_forwarding(facts: Facts, hostvars: HostVars) -> list[str]:
    collector = str(required(hostvars, "logging_central_host")).lower()
    log = section(facts, "eventlog")
    managers = [str(m) for m in log.get("SubscriptionManagers") or []]
    problems = []
    if not any(
        f"server=http://{collector}:" in m.lower() or f"server=https://{collector}:" in m.lower()
        for m in managers
    ):
        problems.append(
            f"no subscription manager points at the collector {collector} (found {managers})"
        )
    if NETWORK_SERVICE_SID not in (log.get("EventLogReaders") or []):
        problems.append(
            "NETWORK SERVICE is not in Event Log Readers: the Security log cannot be forwarded"
        )
    winrm = services_by_name(facts).get("winrm")
    if not winrm or (winrm.get("State"), winrm.get("StartMode")) != ("Running", "Auto"):
        problems.append("WinRM (which forwards events) is not running/automatic")
    return problems
