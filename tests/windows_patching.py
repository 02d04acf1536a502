"""Windows Update: critical and security updates installed in time.

Pure judges of the host's collection (windows_facts.py); each returns the problems found
(empty: compliant). The checks are in test_patching.py.
"""

from __future__ import annotations

from datetime import timedelta

from .windows_facts import Facts, HostVars, section, when

# Update classifications by CategoryID: ICategory.Name is localised ("Security Updates" is another
# word on a Swedish host), the IDs are not. Source: Microsoft Learn, "WSUS Classification GUIDs":
# "CriticalUpdates | E6CF1350-C01B-414D-A61F-263D14D133B4", "SecurityUpdates |
# 0FA1201D-4330-4FA8-8AE9-B877473B6441". A region overrides with windows_patch_category_ids.
SECURITY_UPDATES = "0fa1201d-4330-4fa8-8ae9-b877473b6441"
CRITICAL_UPDATES = "e6cf1350-c01b-414d-a61f-263d14d133b4"
SECURITY_CATEGORY_IDS = (SECURITY_UPDATES, CRITICAL_UPDATES)

DEFAULT_PATCH_HOURS = 48


def judge_win_updates_critical_48h(facts: Facts, hostvars: HostVars) -> list[str]:
    now = when(str(facts["collected"]))
    limit = timedelta(hours=int(hostvars.get("windows_patch_max_age_hours", DEFAULT_PATCH_HOURS)))
    wanted = {
        str(c).lower() for c in hostvars.get("windows_patch_category_ids") or SECURITY_CATEGORY_IDS
    }
    late = []
    for update in section(facts, "updates"):
        critical = update.get("MsrcSeverity") == "Critical"
        security = bool(wanted & {str(c).lower() for c in update["CategoryIDs"]})
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
