"""Windows Update: critical and security updates installed in time.

Pure judges of the host's collection (windows_facts.py); each returns the problems found
(empty: compliant). The checks are in test_patching.py.
"""

from __future__ import annotations

from datetime import timedelta

from .windows_facts import Facts, HostVars, section, when

SECURITY_CATEGORIES = {"Security Updates", "Critical Updates"}

DEFAULT_PATCH_HOURS = 48


def judge_win_updates_critical_48h(facts: Facts, hostvars: HostVars) -> list[str]:
    now = when(str(facts["collected"]))
    limit = timedelta(hours=int(hostvars.get("windows_patch_max_age_hours", DEFAULT_PATCH_HOURS)))
    late = []
    for update in section(facts, "updates"):
        critical = update.get("MsrcSeverity") == "Critical"
        security = bool(SECURITY_CATEGORIES & set(update.get("Categories") or []))
        released = update.get("LastDeploymentChangeTime")
        if not (critical or security) or not released:
            continue
        age = now - when(str(released))
        if age > limit:
            late.append(
                f"{update.get('Title')} (severity {update.get('MsrcSeverity') or 'n/a'}, "
                f"released {released[:10]}, {age.days} days ago)"
            )
    if late:
        return [f"{len(late)} critical/security update(s) missing past {limit}: " + "; ".join(late)]
    return []
