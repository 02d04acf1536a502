"""SLES's stock sudoers (issue 15): `Defaults targetpw` with `ALL ALL=(ALL) ALL`.

What the control requires, decided here: that rule makes no account an administrator by itself
(sudo asks for root's password, not the user's), so the admins check no longer names every
account as an unapproved administrator; but it does give root to anyone who knows root's
password, which the baseline's named-administrator requirement does not allow. The check fails
on it as one finding, and the accounts role comments out both lines on SLES, as

- the stock file itself says above them: "When configuring sudo, delete the two following
  lines" (SLES 15 /etc/sudoers, below);
- the DISA SLES 15 STIG, SLES-15-020101 "The SUSE operating system must restrict privilege
  elevation to authorized personnel": "Remove the following entries from /etc/sudoers or any
  file in /etc/sudoers.d/*: ALL ALL=(ALL) ALL, ALL ALL=(ALL:ALL) ALL" (as ComplianceAsCode's
  rule sudo_restrict_privilege_elevation_to_authorized carries it), and SLES-15-020103 (sudo
  asks for the invoking user's password, i.e. no targetpw: rule sudoers_validate_passwd).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from driftvakt.reasons import shown
from driftvakt_checks import accounts_rights as RIGHTS

PROJECT = Path(__file__).resolve().parents[2]
ROLE = PROJECT / "roles" / "accounts"

# SLES 15's /etc/sudoers as the sudo package ships it (comments abridged, rules verbatim).
SLES_SUDOERS = """\
## sudoers file.
Defaults always_set_home
Defaults secure_path="/usr/sbin:/usr/bin:/sbin:/bin:/usr/local/bin:/usr/local/sbin"
Defaults env_reset
Defaults env_keep = "LANG LC_ADDRESS LC_CTYPE LC_COLLATE LC_IDENTIFICATION LC_MEASUREMENT \\
LC_MESSAGES LC_MONETARY LC_NAME LC_NUMERIC LC_PAPER LC_TELEPHONE LC_TIME LC_ALL \\
LANGUAGE LINGUAS XDG_SESSION_COOKIE"
## In the default (unconfigured) configuration, sudo asks for the root password.
## This allows use of an ordinary user account for administration of a freshly
## installed system. When configuring sudo, delete the two
## following lines:
Defaults targetpw   # ask for the password of the target user i.e. root
ALL   ALL=(ALL) ALL   # WARNING! Only use this together with 'Defaults targetpw'!
root ALL=(ALL) ALL
@includedir /etc/sudoers.d
"""
USER_DB = """\
root:x:0:0:root:/root:/bin/bash
ops:x:1000:100::/home/ops:/bin/bash
alice:x:1001:100::/home/alice:/bin/bash
wwwrun:x:465:465:WWW daemon apache:/var/lib/wwwrun:/usr/sbin/nologin
"""
GROUP = "root:x:0:\nwheel:x:10:\nusers:x:100:\nwww:x:465:\n"
AUTOMATION = "### /etc/sudoers.d/driftvakt-ops\nops ALL=(ALL) NOPASSWD: ALL\n"


def _admins(sudoers_text: str) -> dict[str, list[str]]:
    sudoers = RIGHTS.parse_sudoers(sudoers_text)
    accounts, groups = RIGHTS.parse_passwd(USER_DB), RIGHTS.parse_group(GROUP)
    admins: dict[str, list[str]] = RIGHTS.administrators(accounts, groups, sudoers, ["wheel"])
    return admins


def _stock() -> str:
    return "### /etc/sudoers\n" + SLES_SUDOERS + AUTOMATION


def test_stock_rule_is_no_accounts_admin_right_but_one_finding() -> None:
    # Before: every account (wwwrun too) was "sudo ALL via ALL", an unapproved administrator.
    assert _admins(_stock()) == {"ops": ["sudo ALL via ops"]}
    found = RIGHTS.root_password_rules(RIGHTS.parse_sudoers(_stock()))
    assert [rule.source for rule in found] == ["/etc/sudoers: ALL   ALL=(ALL) ALL"]


def test_without_targetpw_the_rule_makes_every_account_an_admin() -> None:
    for flip in ("Defaults !targetpw\n", "Defaults env_reset, !targetpw\n"):
        text = _stock() + "### /etc/sudoers.d/zz\n" + flip
        assert RIGHTS.root_password_rules(RIGHTS.parse_sudoers(text)) == []
        admins = _admins(text)
        assert set(admins) == {"ops", "alice", "wwwrun"}, flip
        assert admins["alice"] == ["sudo ALL via ALL"]
    # rootpw asks for root's password just as targetpw does
    rootpw = _stock().replace("Defaults targetpw", "Defaults rootpw")
    assert len(RIGHTS.root_password_rules(RIGHTS.parse_sudoers(rootpw))) == 1


def test_the_finding_reads_in_swedish() -> None:
    rules = "/etc/sudoers: ALL   ALL=(ALL) ALL"
    message = "sudo gives root to anyone who knows root's password: " + rules
    assert shown(message, "sv") == "sudo ger root åt alla som kan roots lösenord: " + rules


def _role_vars() -> dict[str, str]:
    data = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())
    assert isinstance(data, dict)
    return data


def _apply_role_regex(text: str) -> str:
    """What the role's replace does (ansible.builtin.replace uses re.MULTILINE)."""
    variables = _role_vars()
    pattern = re.compile(variables["__accounts_root_password_re"], re.MULTILINE)
    return pattern.sub(lambda m: variables["__accounts_root_password_mark"] + m.group(0), text)


def test_role_comments_out_both_stock_lines_and_nothing_else() -> None:
    fixed = _apply_role_regex(SLES_SUDOERS)
    changed = [line for line in fixed.splitlines() if line not in SLES_SUDOERS.splitlines()]
    assert [line.split(": ", 1)[1] for line in changed] == [
        "Defaults targetpw   # ask for the password of the target user i.e. root",
        "ALL   ALL=(ALL) ALL   # WARNING! Only use this together with 'Defaults targetpw'!",
    ]
    assert all(line.startswith("# driftvakt accounts_admins_approved") for line in changed)
    assert _apply_role_regex(fixed) == fixed  # a second run changes nothing
    text = "### /etc/sudoers\n" + fixed + AUTOMATION
    assert RIGHTS.root_password_rules(RIGHTS.parse_sudoers(text)) == []
    assert _admins(text) == {"ops": ["sudo ALL via ops"]}
    # `ALL ALL=(ALL:ALL) ALL` is the same rule (SLES-15-020101 names both)
    assert "# driftvakt" in _apply_role_regex("ALL ALL=(ALL:ALL) ALL\n")
    # a person's own rule is left alone
    assert _apply_role_regex("alice ALL=(ALL) ALL\n") == "alice ALL=(ALL) ALL\n"


@pytest.mark.skipif(shutil.which("visudo") is None, reason="visudo is not installed")
def test_the_rewritten_stock_file_passes_visudo(tmp_path: Path) -> None:
    path = tmp_path / "sudoers"
    path.write_text(_apply_role_regex(SLES_SUDOERS).replace("@includedir /etc/sudoers.d\n", ""))
    done = subprocess.run(["visudo", "-cf", str(path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_role_only_touches_it_on_suse_and_guards_its_own_sudo() -> None:
    tasks = yaml.safe_load((ROLE / "tasks" / "accounts_admins_approved.yml").read_text())
    (preview,) = [t for t in tasks if "See whether sudo gives root" in t["name"]]
    assert preview["when"] == "ansible_facts['os_family'] == 'Suse'"
    assert preview["check_mode"] is True
    names = [t["name"] for t in tasks]
    guard = names.index(
        "accounts_admins_approved | Fail when removing the stock rule would cut this play's"
        " sudo (SLES)"
    )
    apply = names.index(
        "accounts_admins_approved | Comment out SLES's stock targetpw and ALL ALL rule"
    )
    assert guard < apply
    assert tasks[apply]["ansible.builtin.replace"]["validate"].endswith("-cf %s")
