"""Local accounts and administrators on Windows.

Pure judges of the host's collection (windows_facts.py); each returns the problems found
(empty: compliant). The checks are in test_accounts.py.
"""

from __future__ import annotations

from typing import Any

from .required_vars import required
from .windows_facts import Facts, HostVars, section

DEFAULT_PASSWORD_LENGTH = 14


def admin_names(facts: Facts) -> set[str]:
    return {
        str(m.get("Name")).lower() for m in section(facts, "accounts").get("Administrators") or []
    }


def judge_win_local_admins_approved(facts: Facts, hostvars: HostVars) -> list[str]:
    approved = [str(a).lower() for a in required(hostvars, "windows_local_admins")]
    members = section(facts, "accounts").get("Administrators") or []
    stray, present = [], set()
    for member in members:
        name = str(member.get("Name"))
        short = name.split("\\")[-1].lower()
        local = member.get("PrincipalSource") == "Local"
        match = (
            name.lower()
            if name.lower() in approved
            else short
            if local and short in approved
            else None
        )
        if match is None:
            stray.append(f"{name} ({member.get('SID')})")
        else:
            present.add(match)
    missing = [a for a in approved if a not in present]
    if stray or missing:
        return [
            f"local Administrators members not approved: {', '.join(stray) or 'none'}; "
            f"approved but absent: {', '.join(missing) or 'none'}"
        ]
    return []


def _users_by_rid(facts: Facts) -> dict[str, dict[str, Any]]:
    return {
        str(u["SID"]).rsplit("-", 1)[-1]: u for u in section(facts, "accounts").get("Users") or []
    }


def judge_win_builtin_accounts(facts: Facts, hostvars: HostVars) -> list[str]:
    users = _users_by_rid(facts)
    problems = []
    guest = users.get("501")
    if guest and guest.get("Enabled"):
        problems.append(f"the built-in Guest account ({guest['Name']}) is enabled")
    admin = users.get("500")
    baseline = str(hostvars.get("windows_builtin_administrator", "disabled"))
    if admin:
        if baseline == "disabled" and admin.get("Enabled"):
            problems.append(
                f"the built-in Administrator ({admin['Name']}) is enabled; the "
                "baseline (windows_builtin_administrator) says disabled"
            )
        if baseline == "renamed" and str(admin.get("Name")).lower() == "administrator":
            problems.append("the built-in Administrator still has its default name")
    return problems


def judge_win_password_policy(facts: Facts, hostvars: HostVars) -> list[str]:
    policy = section(facts, "accounts").get("SystemAccess") or {}
    minimum = int(hostvars.get("windows_password_min_length", DEFAULT_PASSWORD_LENGTH))
    problems = []
    length = int(policy.get("MinimumPasswordLength") or 0)
    if length < minimum:
        problems.append(f"MinimumPasswordLength is {length}, at least {minimum} required")
    if str(policy.get("PasswordComplexity")) != "1":
        problems.append(f"PasswordComplexity is {policy.get('PasswordComplexity')}, expected 1")
    if str(policy.get("ClearTextPassword", "0")) != "0":
        problems.append("passwords are stored with reversible encryption (ClearTextPassword)")
    lockout = int(policy.get("LockoutBadCount") or 0)
    if not 1 <= lockout <= 10:
        problems.append(f"LockoutBadCount is {lockout}, expected 1-10")
    return problems


def judge_win_no_blank_passwords(facts: Facts, hostvars: HostVars) -> list[str]:
    accounts = section(facts, "accounts")
    problems = []
    if accounts.get("LimitBlankPasswordUse") != 1:
        problems.append(
            f"LimitBlankPasswordUse is {accounts.get('LimitBlankPasswordUse')}, expected 1"
        )
    lax = [
        u["Name"]
        for u in accounts.get("Users") or []
        if u.get("Enabled") and u.get("PasswordRequired") is False
    ]
    if lax:
        problems.append(
            f"enabled accounts that may have a blank password (PasswordRequired False): {lax}"
        )
    return problems
