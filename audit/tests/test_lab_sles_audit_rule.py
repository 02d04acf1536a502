"""On a real lab host: SLES's stock "-a task,never" audit rule is found and removed.

SUSE ships ``-a task,never`` in /etc/audit/rules.d/audit.rules (DISA STIG SLES-12-020199: it
"supersedes all other defined syscall rules; therefore no syscall auditing can take place").
augenrules compiles it ahead of driftvakt.rules. Here it is put into a hardened Debian host's
stock audit.rules, where SUSE has it: the auditd_rules_present check fails naming it; the
logging role under ``--check`` reports its removal and changes nothing, then removes it and
recompiles, and a second run changes nothing; the check passes again.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from labkit import driftvakt, lab_possible, own_lab, playbook, run_suite

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(lab_possible() is not None, reason=str(lab_possible())),
]
LAB = "rpm2"
HOST = "lab-01"
STOCK = "/etc/audit/rules.d/audit.rules"
COUNT = f"sudo grep -c -- '-a task,never' {STOCK} /etc/audit/audit.rules || true"


@pytest.fixture(scope="module")
def inventory() -> Iterator[Path]:
    with own_lab(LAB, 1, "--tags", "logging") as inv:
        yield inv


def _on(command: str) -> str:
    return driftvakt("lab", "ssh", "--name", LAB, HOST, command).stdout


def _check(inventory: Path) -> tuple[bool, str]:
    return run_suite(inventory, HOST, "test_logging.py", "-k", "auditd_rules_record")


def test_suse_task_never_rule_fails_the_check_and_the_role_removes_it(inventory: Path) -> None:
    assert _check(inventory)[0]
    _on(f"sudo sed -i '/^-b /a -a task,never' {STOCK} && sudo augenrules >/dev/null")
    assert f"{STOCK}:1" in _on(COUNT) and "/etc/audit/audit.rules:1" in _on(COUNT)
    passed, output = _check(inventory)
    assert not passed
    found = f"no other rule ever fires: ['{STOCK}: -a task,never']"
    assert f"switches all syscall auditing off, so {found}" in output, output[-3000:]

    tags = ("--tags", "auditd_rules_present")
    preview = playbook(inventory, *tags, "--check", "--diff")
    assert preview.rc == 0 and preview.recap[HOST]["changed"] >= 1, preview.output[-3000:]
    assert "-a task,never" in preview.output  # the diff shows the line going
    assert f"{STOCK}:1" in _on(COUNT)
    repair = playbook(inventory, *tags)
    assert repair.rc == 0 and repair.recap[HOST]["changed"] >= 1, repair.output[-3000:]
    assert f"{STOCK}:0" in _on(COUNT) and "/etc/audit/audit.rules:0" in _on(COUNT)
    again = playbook(inventory, *tags)
    assert again.rc == 0 and again.recap[HOST]["changed"] == 0, again.output[-3000:]
    assert _check(inventory)[0]
