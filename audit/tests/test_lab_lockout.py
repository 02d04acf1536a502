"""Roles never lock the automation out (#12): the sudo rules the accounts role rewrites keep
every way the connecting account gets passwordless sudo, and a way it cannot see is rolled back
by the host itself. Real lab host, real sudo and visudo, a real systemd rollback timer."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from labkit import CI_LAB, console, driftvakt, lab_possible, playbook

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(lab_possible() is not None, reason=str(lab_possible())),
]
LAB = CI_LAB
HOST = "lab-02"
DROP_IN = "/etc/sudoers.d/driftvakt-lab-ops"
TAGS = ("--tags", "accounts_sudo_nopasswd_automation_only", "--limit", HOST, "-u", "ops")


def _without_ansible_user(inventory: Path, tmp_path: Path, **host_vars: object) -> Path:
    """The lab inventory with no ansible_user (the play connects as `-u ops`) and no
    automation accounts: the role has to find its own way in by itself."""
    copy = tmp_path / "inventory"
    shutil.copytree(inventory, copy)
    group = copy / "group_vars" / "all.yml"
    data = yaml.safe_load(group.read_text())
    data.pop("ansible_user", None)
    data["accounts_automation"] = []
    group.write_text(yaml.safe_dump(data))
    mine = copy / "host_vars" / f"{HOST}.yml"
    merged = {**(yaml.safe_load(mine.read_text()) or {}), **host_vars, "accounts_automation": []}
    mine.write_text(yaml.safe_dump(merged))
    return copy


def _sudo_as_ops() -> int:
    done = driftvakt("lab", "ssh", "--name", LAB, HOST, "sudo", "-n", "true", check=False)
    return done.returncode


@pytest.fixture
def original_rules() -> Iterator[None]:
    console(LAB, HOST, f"cp -p {DROP_IN} /root/drop-in.saved")
    yield None
    console(
        LAB,
        HOST,
        f"cp -p /root/drop-in.saved {DROP_IN}; rm -f /etc/sudoers.d/zz-people; "
        "gpasswd -d ops sudo >/dev/null 2>&1 || true; "
        "systemctl stop driftvakt-sudoers-rollback.timer 2>/dev/null || true",
    )


@pytest.mark.fault(
    "host",
    "`%sudo NOPASSWD` the only way the connecting account gets sudo, ansible_user unset",
    "the group rule is kept, people's rules get PASSWD, sudo -n still works (was: rewritten, "
    "the automation locked out)",
)
@pytest.mark.usefixtures("original_rules")
def test_a_group_rule_that_is_the_automations_way_in_is_kept(
    ci_lab: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # sudo judges the groups a login session started with: a multiplexed connection opened before
    # ops joined `sudo` would not carry it. A fresh login per task sees the host as it is.
    monkeypatch.setenv("ANSIBLE_SSH_ARGS", "-o ControlMaster=no -o StrictHostKeyChecking=yes")
    console(
        LAB,
        HOST,
        "usermod -aG sudo ops && "
        f"printf '%%sudo ALL=(ALL:ALL) NOPASSWD: ALL\\n' > {DROP_IN} && "
        "printf 'alice ALL=(ALL) NOPASSWD: ALL\\n' > /etc/sudoers.d/zz-people && "
        "chmod 0440 /etc/sudoers.d/zz-people",
    )
    run = playbook(_without_ansible_user(ci_lab, tmp_path), *TAGS)
    assert run.rc == 0, run.output[-3000:]
    assert _sudo_as_ops() == 0
    rules = driftvakt(
        "lab", "ssh", "--name", LAB, HOST, "sudo", "-n", "cat", DROP_IN, "/etc/sudoers.d/zz-people"
    ).stdout
    assert "%sudo ALL=(ALL:ALL) NOPASSWD: ALL" in rules
    assert "alice ALL=(ALL) PASSWD: ALL" in rules


@pytest.mark.fault(
    "host",
    "the connecting account's sudo comes through a User_Alias the role cannot read",
    "the play fails with one message and the host restores its sudo rules by itself",
)
@pytest.mark.usefixtures("original_rules")
def test_a_rewrite_that_cuts_sudo_is_rolled_back_by_the_host(ci_lab: Path, tmp_path: Path) -> None:
    console(
        LAB,
        HOST,
        f"printf 'User_Alias AUTO = ops\\nAUTO ALL=(ALL:ALL) NOPASSWD: ALL\\n' > {DROP_IN}",
    )
    inventory = _without_ansible_user(ci_lab, tmp_path, accounts_sudo_rollback_seconds=15)
    run = playbook(inventory, *TAGS)
    assert run.rc != 0
    assert "restores its previous sudo rules" in " ".join(run.output.split())
    deadline = time.monotonic() + 90
    while _sudo_as_ops() != 0:
        assert time.monotonic() < deadline, "the host did not roll its sudo rules back"
        time.sleep(3)
    rules = driftvakt("lab", "ssh", "--name", LAB, HOST, "sudo", "-n", "cat", DROP_IN).stdout
    assert "AUTO ALL=(ALL:ALL) NOPASSWD: ALL" in rules
