"""On a real lab host: a critical security update is judged by its release time.

The lab's security suite (``bookworm-security`` on labsvc, driftvakt.lab.security_suite) carries
a security update of driftvakt-lab-canary, a package every lab host has installed. Here the same
host, with that update not installed, fails when the suite released it 60 h ago and passes when
the suite released a newer one 10 h ago; a limit of 8 h from the inventory makes the 10-hour-old
one fail. The check (tests/test_patching.py) runs as plain testinfra against the host; the role's
repair is proved for every control in test_lab_controls.py.
"""

from __future__ import annotations

import datetime
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from labkit import PROJECT, driftvakt, inject, lab_possible, own_lab, run_suite

from driftvakt.catalog import controls
from driftvakt.lab import LabConfig, security_suite
from driftvakt.lab.machine import merged_dir

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(lab_possible() is not None, reason=str(lab_possible())),
]
LAB = "patch"
HOST = "lab-01"
CID = "security_updates_installed"


@pytest.fixture(scope="module")
def inventory() -> Iterator[Path]:
    with own_lab(LAB, 1, "--tags", "patching") as inv:
        yield inv


def _on(*command: str) -> str:
    return driftvakt("lab", "ssh", "--name", LAB, HOST, *command).stdout


def _check(inventory: Path) -> tuple[bool, str]:
    """Run the compliance check on the host as plain testinfra: (passed, its output)."""
    return run_suite(inventory, HOST, "test_patching.py")


def _age_hours(output: str, version: str) -> float:
    match = re.search(
        rf"driftvakt-lab-canary 1\.0 -> {re.escape(version)} .*?([\d.]+) h ago", output
    )
    assert match, output[-3000:]
    return float(match.group(1))


def test_released_60_hours_ago_and_not_installed_fails(inventory: Path) -> None:
    assert "1.1" in _on("dpkg-query", "-W", "-f='${Version}'", "driftvakt-lab-canary")
    inject(LAB, HOST, controls()[CID].drift["linux"].inject)  # back to 1.0: 1.1 is pending again
    passed, output = _check(inventory)
    assert not passed
    assert "missing more than 48 h after release" in output
    assert 59.9 < _age_hours(output, "1.1") < 61, output[-3000:]


def test_released_10_hours_ago_and_not_installed_passes(inventory: Path, tmp_path: Path) -> None:
    released = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=10)
    labsvc = LabConfig(LAB, PROJECT).services_host()
    security_suite.publish(merged_dir(LabConfig(LAB, PROJECT), labsvc), "1.2", released)
    _on("sudo", "apt-get", "-q", "update")  # the role's hook records when 1.2 appeared
    policy = _on("apt-cache", "policy", "driftvakt-lab-canary")
    assert "Installed: 1.0" in policy and "Candidate: 1.2" in policy, policy
    record = _on("cat", "/var/lib/driftvakt/security-first-seen.json")
    assert f'"first_seen": {int(released.timestamp())}' in record, record

    passed, output = _check(inventory)
    assert passed, output[-3000:]

    # The same pending update against a limit of 8 h from the inventory: too old.
    strict = tmp_path / "inventory"
    shutil.copytree(inventory, strict)
    with (strict / "group_vars" / "all.yml").open("a") as group_vars:
        group_vars.write("\npatching_critical_max_age_hours: 8\n")
    passed, output = _check(strict)
    assert not passed
    assert "missing more than 8 h after release" in output
    assert 9.9 < _age_hours(output, "1.2") < 11, output[-3000:]
