"""Antivirus on Windows: Defender, or another vendor's services.

Pure judges of the host's collection (windows_facts.py); each returns the problems found
(empty: compliant). The checks are in test_antivirus.py.
"""

from __future__ import annotations

from .windows_facts import Facts, HostVars, section, services_by_name

DEFAULT_SIGNATURE_AGE_DAYS = 2


def judge_win_antivirus_active(facts: Facts, hostvars: HostVars) -> list[str]:
    vendor_services = [str(s).lower() for s in hostvars.get("windows_antivirus_services") or []]
    if vendor_services:  # another vendor's product: its services must run
        services = services_by_name(facts)
        return [
            f"antivirus service {name}: "
            + (
                "missing"
                if name not in services
                else f"{services[name]['State']}/{services[name]['StartMode']}"
            )
            for name in vendor_services
            if name not in services
            or (services[name]["State"], services[name]["StartMode"]) != ("Running", "Auto")
        ]
    defender = section(facts, "defender")
    problems = []
    for key in ("AMServiceEnabled", "AntivirusEnabled", "RealTimeProtectionEnabled"):
        if defender.get(key) is not True:
            problems.append(f"Defender {key} is {defender.get(key)}")
    max_age = int(hostvars.get("windows_av_signature_max_age_days", DEFAULT_SIGNATURE_AGE_DAYS))
    age = defender.get("AntivirusSignatureAge")
    if not isinstance(age, int) or age > max_age:
        problems.append(
            f"Defender signatures are {age} day(s) old (last updated "
            f"{defender.get('AntivirusSignatureLastUpdated')}), at most {max_age} allowed"
        )
    return problems
