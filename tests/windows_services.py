"""Windows services and software that should not run or be there.

Pure judges of the host's collection (windows_facts.py); each returns the problems found
(empty: compliant). The checks are in test_services.py.
"""

from __future__ import annotations

import re

from .windows_accounts import admin_names
from .windows_facts import Facts, HostVars, section, services_by_name

PLUGINS = re.compile(r"flash player|shockwave|silverlight", re.I)

BUILTIN_PRIVILEGED = ("localsystem", "nt authority\\system", "system")


def judge_win_spooler_disabled(facts: Facts, hostvars: HostVars) -> list[str]:
    if hostvars.get("windows_print_spooler_required"):
        return []
    spooler = services_by_name(facts).get("spooler")
    if spooler and (spooler.get("StartMode") != "Disabled" or spooler.get("State") != "Stopped"):
        return [
            f"Print Spooler is {spooler.get('State')}/{spooler.get('StartMode')}, expected "
            "Stopped/Disabled (windows_print_spooler_required is not set)"
        ]
    return []


def judge_win_smb1_removed(facts: Facts, hostvars: HostVars) -> list[str]:
    smb = section(facts, "smb")
    problems = []
    if smb.get("EnableSMB1Protocol") is not False:
        problems.append(f"SMB server EnableSMB1Protocol is {smb.get('EnableSMB1Protocol')}")
    if smb.get("FeatureState") not in (
        "Available",
        "Removed",
        "Disabled",
        "DisabledWithPayloadRemoved",
    ):
        problems.append(f"the SMB 1.0 feature is {smb.get('FeatureState')}")
    return problems


def judge_win_app_services_least_privilege(facts: Facts, hostvars: HostVars) -> list[str]:
    wanted = [str(s) for s in hostvars.get("windows_app_services") or []]
    services = services_by_name(facts)
    admins = admin_names(facts)
    problems = []
    for name in wanted:
        service = services.get(name.lower())
        if service is None:
            problems.append(f"application service {name} does not exist")
            continue
        account = str(service.get("StartName") or "")
        if service.get("StartMode") != "Auto" or service.get("State") != "Running":
            problems.append(
                f"{name} is {service.get('State')}/{service.get('StartMode')}, "
                "expected Running/Auto (a background service)"
            )
        if account.lower() in BUILTIN_PRIVILEGED or account.lower() in admins:
            problems.append(f"{name} runs as {account}, which has administrator rights")
        elif not (
            account.lower().startswith("nt service\\")
            or account.endswith("$")
            or account.lower()
            in {str(a).lower() for a in hostvars.get("windows_service_accounts") or []}
        ):
            problems.append(
                f"{name} runs as {account}: not a virtual (NT SERVICE\\…), managed "
                "(…$) or approved service account (windows_service_accounts)"
            )
    return problems


def judge_win_browser_plugins_absent(facts: Facts, hostvars: HostVars) -> list[str]:
    software = section(facts, "software")
    found = [
        f"{s['DisplayName']} {s.get('DisplayVersion') or ''}".strip()
        for s in software.get("Installed") or []
        if PLUGINS.search(str(s.get("DisplayName")))
    ]
    found += [f"files at {p}" for p in software.get("PluginPaths") or []]
    return [f"browser plug-ins present: {found}"] if found else []
