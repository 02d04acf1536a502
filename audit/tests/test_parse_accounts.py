"""The pure parsers behind tests/test_accounts.py and tests/accounts_inventory.py.

Inputs reproduce a Debian 12 lab host after the accounts role converged it and after the drift
scenarios (an unapproved sudo member, a NOPASSWD rule for a person), plus RHEL-style wheel rules.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from driftvakt_checks import accounts_inventory as INVENTORY
from driftvakt_checks import accounts_rights as RIGHTS
from driftvakt_checks import test_accounts as CHECK

PROJECT = Path(__file__).resolve().parents[2]
SCRIPT = PROJECT / "roles" / "accounts" / "files" / "find_default_passwords.py"

USER_DB = """\
root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
sshd:x:100:65534::/run/sshd:/usr/sbin/nologin
ops:x:1000:1000::/home/ops:/bin/bash
appadmin:x:1001:1001::/home/appadmin:/bin/bash
dbadmin:x:1002:1002::/home/dbadmin:/bin/bash
toor:x:0:0::/root:/bin/bash
"""
GROUP = """\
root:x:0:
sudo:x:27:ops,appadmin
ops:x:1000:
appadmin:x:1001:
dbadmin:x:1002:
wheel:x:10:
"""
SUDOERS = """\
### /etc/sudoers
#
# This file MUST be edited with the 'visudo' command as root.
Defaults\tenv_reset
Defaults\tsecure_path="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
root\tALL=(ALL:ALL) ALL
%sudo\tALL=(ALL:ALL) ALL
@includedir /etc/sudoers.d
### /etc/sudoers.d/driftvakt-lab-ops
# driftvakt lab: the automation account Ansible and the auditor use
ops ALL=(ALL:ALL) NOPASSWD: ALL
### /etc/sudoers.d/dbadmin
dbadmin ALL=(root) NOPASSWD: /usr/bin/systemctl restart cron
"""
SHADOW_CLASSES = """\
root:1:*
daemon:1:*
systemd-network:2:!*
sshd:1:!
ops:1:!
kiosk:0:
dbadmin:73:$y$
appadmin:74:!$y
"""


def test_passwd_and_group() -> None:
    accounts = RIGHTS.parse_passwd(USER_DB)
    assert [a.name for a in accounts][:4] == ["root", "daemon", "sshd", "ops"]
    groups = RIGHTS.parse_group(GROUP)
    sudo = next(g for g in groups if g.name == "sudo")
    assert sudo.members == ("ops", "appadmin") and sudo.gid == 27


def test_shadow_classes_carry_no_secret() -> None:
    classes = RIGHTS.parse_shadow_classes(SHADOW_CLASSES)
    assert classes["kiosk"] == "empty"
    assert classes["dbadmin"] == "hash"
    assert classes["appadmin"] == "locked"
    assert classes["root"] == "no_login"
    assert classes["systemd-network"] == "locked"
    assert RIGHTS.parse_shadow_classes("garbage\n") == {}


def test_sudoers_rules_and_tags() -> None:
    sudoers = RIGHTS.parse_sudoers(SUDOERS)
    rules = {r.principals: r for r in sudoers.rules}
    assert set(rules) == {("root",), ("%sudo",), ("ops",), ("dbadmin",)}
    assert rules[("ops",)].nopasswd and rules[("ops",)].grants_all
    assert rules[("%sudo",)].grants_all and not rules[("%sudo",)].nopasswd
    assert rules[("dbadmin",)].commands == ("/usr/bin/systemctl restart cron",)
    assert rules[("dbadmin",)].source.startswith("/etc/sudoers.d/dbadmin: ")


def test_sudoers_continuations_aliases_and_passwd_tag() -> None:
    text = (
        "### /etc/sudoers.d/x\n"
        "User_Alias ADMINS = alice, bob # the on-call team\n"
        "ADMINS ALL = (ALL) \\\n    NOPASSWD: ALL\n"
        "carol ALL=(root) PASSWD: /usr/bin/journalctl, NOPASSWD: /usr/bin/id\n"
        "dave ALL=(root) NOPASSWD:PASSWD: /bin/ls\n"
        "#includedir /etc/sudoers.d\n"
    )
    sudoers = RIGHTS.parse_sudoers(text)
    assert sudoers.user_aliases == {"ADMINS": ("alice", "bob")}
    admins, carol, dave = sudoers.rules
    assert admins.principals == ("ADMINS",) and admins.nopasswd and admins.grants_all
    assert carol.nopasswd  # the tag of a later command counts too
    assert carol.commands == ("/usr/bin/journalctl", "/usr/bin/id")
    assert not dave.nopasswd  # the last PASSWD/NOPASSWD tag wins


def test_administrators_from_groups_uid0_and_sudo_all() -> None:
    accounts = RIGHTS.parse_passwd(USER_DB)
    groups = RIGHTS.parse_group(GROUP)
    sudoers = RIGHTS.parse_sudoers(SUDOERS)
    admins = RIGHTS.administrators(accounts, groups, sudoers, ["sudo", "wheel", "admin"])
    assert set(admins) == {"ops", "appadmin", "toor"}
    assert admins["appadmin"] == ["member of sudo", "sudo ALL via %sudo"]
    assert admins["toor"] == ["UID 0"]
    assert "sudo ALL via ops" in admins["ops"]


def test_alias_and_gid_principals_expand() -> None:
    accounts = RIGHTS.parse_passwd(USER_DB)
    groups = RIGHTS.parse_group(GROUP)
    aliases = {"TEAM": ("dbadmin", "%#1001", "TEAM")}
    assert RIGHTS.expand("TEAM", accounts, groups, aliases) == {"dbadmin", "appadmin"}
    assert RIGHTS.expand("#1000", accounts, groups, {}) == {"ops"}
    assert RIGHTS.expand("!ops", accounts, groups, {}) == set()


def test_nopasswd_only_for_automation() -> None:
    sudoers = RIGHTS.parse_sudoers(SUDOERS)
    found = RIGHTS.nopasswd_for_people(sudoers, ["ops"])
    assert found == [
        "/etc/sudoers.d/dbadmin: dbadmin ALL=(root) NOPASSWD: /usr/bin/systemctl restart cron"
    ]
    assert len(RIGHTS.nopasswd_for_people(sudoers, [])) == 2


def test_default_password_report() -> None:
    found, unverifiable = RIGHTS.parse_default_password_report(
        "default dbadmin\nunverifiable legacy gost-yescrypt\ndefault alice\n"
    )
    assert found == ["alice", "dbadmin"]
    assert unverifiable == ["legacy (gost-yescrypt)"]
    assert RIGHTS.parse_default_password_report("") == ([], [])


def test_default_password_list_is_read_from_the_role() -> None:
    passwords = CHECK.default_passwords()
    assert {"admin", "password", "changeme", "root", "123456", "Welcome1"} <= set(passwords)
    assert not any(p.startswith("#") or not p for p in passwords)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")
def test_host_script_finds_a_default_password(tmp_path: Path) -> None:
    """Run the role's host script against a fake shadow file (SHA-512 via openssl)."""
    hashed = subprocess.run(
        ["openssl", "passwd", "-6", "-salt", "abcdefgh", "password"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    other = subprocess.run(
        ["openssl", "passwd", "-6", "-salt", "abcdefgh", "a-long-unguessable-one"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    shadow = tmp_path / "shadow"
    shadow.write_text(
        f"root:*:19000:0:99999:7:::\nweak:{hashed}:19000:0:99999:7:::\n"
        f"good:{other}:19000:0:99999:7:::\nlocked:!{hashed}:19000::::::\nkiosk::19000::::::\n"
    )
    source = SCRIPT.read_text().replace('"/etc/shadow"', repr(str(shadow)))
    done = subprocess.run(
        [sys.executable, "-c", source, "admin", "password"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert done.stdout.split("\n") == ["default weak", ""]
    assert hashed not in done.stdout + done.stderr


def test_rights_inventory_is_built_from_plain_outputs() -> None:
    keys = (
        "### ops\n"
        "256 SHA256:Xq3kR0abcDEF0123456789abcdefABCDEF0123456789 lab@controller (ED25519)\n"
        "### dbadmin\n"
    )
    lastlog = (
        "Username         Port     From             Latest\n"
        "root                                       **Never logged in**\n"
        "ops              pts/0    10.77.168.1      Mon Nov 23 10:12:01 +0000 2026\n"
    )
    inv = INVENTORY.build_inventory(
        USER_DB, GROUP, SHADOW_CLASSES, SUDOERS, keys, lastlog, admin_groups=["sudo"]
    )
    ops = next(a for a in inv["accounts"] if a["name"] == "ops")
    assert ops["groups"] == ["sudo"] and ops["password"] == "locked"  # noqa: S105 (a class, not a password)
    assert ops["ssh_keys"][0]["fingerprint"].startswith("SHA256:Xq3k")
    assert ops["ssh_keys"][0]["type"] == "ED25519"
    assert ops["last_login"] == "Mon Nov 23 10:12:01 +0000 2026"
    root = next(a for a in inv["accounts"] if a["name"] == "root")
    assert root["last_login"] is None and root["administrator"] == []
    assert inv["duplicate_uids"] == [0]
    assert len(inv["sudo_rules"]) == 4
