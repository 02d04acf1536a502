"""The machine inactivity limit on Windows.

Pure judges of the host's collection (windows_facts.py); each returns the problems found
(empty: compliant). The checks are in test_session_lock.py.
"""

from __future__ import annotations

from .windows_facts import Facts, HostVars, section


def judge_win_session_lock(facts: Facts, hostvars: HostVars) -> list[str]:
    limit = int(hostvars.get("session_lock_tmout", 900))
    value = section(facts, "session").get("InactivityTimeoutSecs")
    if not isinstance(value, int) or value == 0 or value > limit:
        return [f"machine inactivity limit (InactivityTimeoutSecs) is {value}, at most {limit} s"]
    return []
