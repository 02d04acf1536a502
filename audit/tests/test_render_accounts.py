"""The accounts role on every family (no host): paths, the NOPASSWD rewrite, the group filter."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_parse_accounts import RIGHTS, SUDOERS

from driftvakt.rendering import FAMILY_FACTS, family_vars

PROJECT = Path(__file__).resolve().parents[2]
ROLE = PROJECT / "roles" / "accounts"
TASKS = ROLE / "tasks" / "accounts_sudo_nopasswd_automation_only.yml"


def _vars(family: str, **extra: Any) -> dict[str, Any]:
    return family_vars(ROLE, family, **extra)


def _task(name: str) -> dict[str, Any]:
    tasks: list[dict[str, Any]] = yaml.safe_load(TASKS.read_text())
    return next(t for t in tasks if t["name"].endswith(name))


def _rewrite(
    text: str,
    automation: list[str],
    connecting: str = "ansible",
    groups: str = "ansible",
    automation_groups: str = "",
) -> str:
    """The role's rewrite of ``text``, as run by the account ``connecting`` (in ``groups``)."""
    pattern = _task("Name the rules that keep passwordless sudo")["ansible.builtin.set_fact"]
    task = _task("See which rules for people would need a password")["ansible.builtin.replace"]
    variables = _vars(
        "debian12",
        accounts_automation=automation,
        __accounts_connecting={"stdout_lines": [connecting, groups]},
        __accounts_automation_groups={"stdout": automation_groups},
        __re=pattern["__accounts_people_nopasswd_re"],
    )
    replace = task["replace"].replace("\\g<1>", "\\1")
    return re.sub(variables["__re"], replace, text, flags=re.MULTILINE)


@pytest.mark.parametrize("family", sorted(FAMILY_FACTS))
def test_platform_paths(family: str) -> None:
    variables = _vars(family)
    assert variables["__accounts_sudoers"] == "/etc/sudoers"
    assert variables["__accounts_sudoers_dir"] == "/etc/sudoers.d"
    assert variables["__accounts_visudo"] == "/usr/sbin/visudo"
    assert {"sudo", "wheel"} <= set(variables["accounts_admin_groups"])


def test_nopasswd_rewrite_spares_only_automation_accounts() -> None:
    rewritten = _rewrite(SUDOERS, ["ops"])
    assert "ops ALL=(ALL:ALL) NOPASSWD: ALL" in rewritten
    assert "dbadmin ALL=(root) PASSWD: /usr/bin/systemctl restart cron" in rewritten
    assert RIGHTS.nopasswd_for_people(RIGHTS.parse_sudoers(rewritten), ["ops"]) == []
    assert _rewrite(rewritten, ["ops"]) == rewritten  # idempotent


def test_nopasswd_rewrite_with_groups_comments_and_no_automation() -> None:
    text = "# ops ALL=(ALL) NOPASSWD: ALL\n%wheel ALL=(ALL) NOPASSWD: ALL\nopsx ALL=NOPASSWD: ALL\n"
    rewritten = _rewrite(text, ["ops"])
    assert rewritten.splitlines() == [
        "# ops ALL=(ALL) NOPASSWD: ALL",
        "%wheel ALL=(ALL) PASSWD: ALL",
        "opsx ALL=PASSWD: ALL",
    ]
    assert "NOPASSWD" not in _rewrite("ops ALL=(ALL) NOPASSWD: ALL\n", []).replace("#", "")


def test_group_filter_finds_unapproved_admin_members() -> None:
    path = ROLE.parents[1] / "filter_plugins" / "accounts_groups.py"
    spec = importlib.util.spec_from_file_location("accounts_groups", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    lines = ["sudo:x:27:ops,appadmin", "adm:x:4:appadmin", "users:x:100:dbadmin", "wheel:x:10:"]
    assert module.supplementary_groups(lines) == {
        "ops": ["sudo"],
        "appadmin": ["sudo", "adm"],
        "dbadmin": ["users"],
    }
    assert module.supplementary_groups(lines, ["sudo", "wheel"]) == {
        "ops": ["sudo"],
        "appadmin": ["sudo", "adm"],
    }


def test_every_path_of_the_connecting_account_to_passwordless_sudo_is_kept() -> None:
    # Found as a new user would: with ansible_user unset the connecting account's own rule was
    # rewritten, and so was a `%sudo` rule or a shared list that was the automation's way in.
    text = (
        "%sudo ALL=(ALL:ALL) NOPASSWD: ALL\n"
        "deploy,ops ALL=(ALL) NOPASSWD: ALL\n"
        "ops ALL=(ALL) NOPASSWD: /usr/bin/true\n"
        "alice ALL=(ALL) NOPASSWD: ALL\n"
        "%staff ALL=(ALL) NOPASSWD: ALL\n"
    )
    kept = _rewrite(text, [], connecting="ops", groups="ops sudo")
    assert kept.splitlines() == [
        "%sudo ALL=(ALL:ALL) NOPASSWD: ALL",
        "deploy,ops ALL=(ALL) NOPASSWD: ALL",
        "ops ALL=(ALL) NOPASSWD: /usr/bin/true",
        "alice ALL=(ALL) PASSWD: ALL",
        "%staff ALL=(ALL) PASSWD: ALL",
    ]
    # an automation account's groups count too, and spacing in a user list does not matter
    automation = _rewrite(
        "%svc ALL=NOPASSWD: ALL\nbob , deploy ALL=NOPASSWD: ALL\n",
        ["deploy"],
        automation_groups="deploy svc",
    )
    assert "PASSWD" not in automation.replace("NOPASSWD", "")
