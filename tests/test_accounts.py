"""Local accounts: no empty or default passwords, administrator rights only for the approved.

Requirements SKA-SEC-06 (no default passwords), SKA-SEC-13/SKA-SEC-15/RD-7/RST-6.1.1 (personal,
identifiable accounts with least privilege), RST-6.2.3/RSK-ACC-01/LB-PRIV (administrator rights
restrictive and approved). Approved administrators come from the inventory (``accounts_admins``),
automation accounts allowed sudo without a password from ``accounts_automation``: the same
variables the ``accounts`` role is applied with.

No password and no hash ever leaves the host: /etc/shadow is read through a classification that
keeps only the scheme prefix, and default passwords are tested ON the host by the role's own
script (roles/accounts/files/find_default_passwords.py), which prints account names only.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest

from . import accounts_rights as rights
from . import windows_accounts
from .accounts_inventory import rights_inventory
from .windows_facts import windows_facts

ROLE_FILES = Path(__file__).resolve().parents[1] / "roles" / "accounts" / "files"
DEFAULT_ADMIN_GROUPS = ["sudo", "wheel", "admin"]


def default_passwords() -> list[str]:
    text = (ROLE_FILES / "default_passwords.txt").read_text("utf-8")
    return [w.strip() for w in text.splitlines() if w.strip() and not w.startswith("#")]


def _linux_only(host: Any) -> None:
    if host.system_info.type != "linux":
        pytest.skip(
            f"not applicable: local accounts are checked on Linux, this is {host.system_info.type}"
        )


def _read(host: Any, command: str) -> str:
    with host.sudo():
        result = host.run(command)
    assert result.rc == 0, (
        f"`{command.split()[0]} …` failed (rc {result.rc}): {result.stderr.strip()}"
    )
    return str(result.stdout)


def _identity(host: Any) -> tuple[list[rights.Account], list[rights.Group], rights.Sudoers]:
    accounts = rights.parse_passwd(_read(host, "getent passwd"))
    groups = rights.parse_group(_read(host, "getent group"))
    sudoers = rights.parse_sudoers(_read(host, rights.SUDOERS_DUMP))
    return accounts, groups, sudoers


# RHEL 8's own Python, the only one a minimal RHEL 8 has (no /usr/bin/python3).
PLATFORM_PYTHON = "/usr/libexec/platform-python"


@pytest.mark.control("accounts_no_empty_passwords")
def test_no_account_has_an_empty_password(host: Any, hostvars: dict[str, Any]) -> None:
    _linux_only(host)
    classes = rights.parse_shadow_classes(_read(host, rights.SHADOW_CLASSIFY))
    assert classes, "no entries read from /etc/shadow"
    empty = sorted(name for name, kind in classes.items() if kind == "empty")
    assert not empty, f"accounts with an empty password field (log in without a password): {empty}"


@pytest.mark.control("accounts_no_default_passwords")
def test_no_account_uses_a_default_password(host: Any, hostvars: dict[str, Any]) -> None:
    _linux_only(host)
    script = (ROLE_FILES / "find_default_passwords.py").read_text("utf-8")
    candidates = default_passwords()
    arguments = " ".join([shlex.quote(script), *map(shlex.quote, candidates)])
    with host.sudo():
        result = host.run(f"python3 -c {arguments}")
        if result.rc == 127:  # a minimal RHEL 8 has only the platform Python (3.6)
            result = host.run(f"{PLATFORM_PYTHON} -c {arguments}")
    assert result.rc != 127, (
        f"no Python on the host to test the password hashes with (python3, {PLATFORM_PYTHON})"
    )
    assert result.rc == 0, (
        f"the default-password test failed on the host (rc {result.rc}): "
        f"{result.stderr.strip()[-300:]}"
    )
    found, unverifiable = rights.parse_default_password_report(result.stdout)
    assert not found, (
        f"accounts whose password is one of {len(candidates)} known default passwords: {found}"
    )
    assert not unverifiable, f"password hashes this host cannot test (scheme): {unverifiable}"


@pytest.mark.control("accounts_admins_approved")
def test_only_approved_accounts_are_administrators(
    host: Any, hostvars: dict[str, Any], record_property: Any
) -> None:
    _linux_only(host)
    approved = sorted(str(a) for a in hostvars.get("accounts_admins") or [])
    admin_groups = list(hostvars.get("accounts_admin_groups") or DEFAULT_ADMIN_GROUPS)
    # SKA-SEC-16/RST-6.2.5/LB-ACCESS-REPORT: the rights inventory travels with this result as a
    # fact (not a verdict) for `driftvakt rights`; recorded before the verdict so a failing
    # host still has one.
    record_property("rights_inventory", rights_inventory(host, admin_groups))
    accounts, groups, sudoers = _identity(host)
    admins = rights.administrators(accounts, groups, sudoers, admin_groups)
    unapproved = {name: why for name, why in sorted(admins.items()) if name not in approved}
    assert not unapproved, f"administrators not in accounts_admins {approved}: " + "; ".join(
        f"{name} ({', '.join(why)})" for name, why in unapproved.items()
    )
    # SLES's stock `Defaults targetpw` + `ALL ALL=(ALL) ALL`: no account's own right, but root
    # for anyone who knows root's password (tests/accounts_rights.py: root_password_rules).
    anyone = [rule.source for rule in rights.root_password_rules(sudoers)]
    assert not anyone, "sudo gives root to anyone who knows root's password: " + "; ".join(anyone)


@pytest.mark.control("accounts_sudo_nopasswd_automation_only")
def test_sudo_without_password_only_for_automation(host: Any, hostvars: dict[str, Any]) -> None:
    _linux_only(host)
    automation = [str(a) for a in hostvars.get("accounts_automation") or []]
    sudoers = rights.parse_sudoers(_read(host, rights.SUDOERS_DUMP))
    found = rights.nopasswd_for_people(sudoers, automation)
    assert not found, (
        f"sudo rules without a password for people (automation accounts: {automation}): {found}"
    )


# --- Windows Server (one collection per host, judged in windows_accounts.py) ----------------------


@pytest.mark.windows
@pytest.mark.control("win_local_admins_approved")
def test_windows_local_admins_approved(host: Any, hostvars: dict[str, Any]) -> None:
    found = windows_accounts.judge_win_local_admins_approved(windows_facts(host), hostvars)
    assert not found, "; ".join(found)


@pytest.mark.windows
@pytest.mark.control("win_builtin_accounts")
def test_windows_builtin_accounts(host: Any, hostvars: dict[str, Any]) -> None:
    found = windows_accounts.judge_win_builtin_accounts(windows_facts(host), hostvars)
    assert not found, "; ".join(found)


@pytest.mark.windows
@pytest.mark.control("win_password_policy")
def test_windows_password_policy(host: Any, hostvars: dict[str, Any]) -> None:
    found = windows_accounts.judge_win_password_policy(windows_facts(host), hostvars)
    assert not found, "; ".join(found)


@pytest.mark.windows
@pytest.mark.control("win_no_blank_passwords")
def test_windows_no_blank_passwords(host: Any, hostvars: dict[str, Any]) -> None:
    found = windows_accounts.judge_win_no_blank_passwords(windows_facts(host), hostvars)
    assert not found, "; ".join(found)
