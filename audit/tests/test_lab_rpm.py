"""On the lab's RPM hosts: the patch level judged by the real dnf and zypper, and the patching
role's RHEL and SLES package tasks run against them.

``lab up --rpm`` (driftvakt.lab.rpm_host) gives lab-01 dnf and lab-02 zypper, each with its own
rpm database holding driftvakt-lab-canary 1.0, and labsvc's Red Hat and SUSE style repositories
carrying 1.1 with a Critical advisory issued 60 hours before. Each host, in turn: the check
(tests/test_patching.py, plain testinfra over SSH) fails at 60 h, passes at 10 h and with an
Important-only advisory, and is an error when the repository has no updateinfo; then the patching
role, presented with the host's family (its facts say Debian), reports the pending update under
``--check`` and changes nothing, installs it, and changes nothing the second time; the check
passes.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from labkit import PROJECT, driftvakt, lab_possible, playbook, run_suite

from driftvakt.lab import LabConfig, rpm_host, rpm_repos
from driftvakt.lab.machine import merged_dir

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(lab_possible() is not None, reason=str(lab_possible())),
]
LAB = "rpm"
# host -> (kind, the facts a real host of that family has)
HOSTS = {
    "lab-01": ("redhat", {"os_family": "RedHat", "distribution": "RedHat", "major": "9"}),
    "lab-02": ("suse", {"os_family": "Suse", "distribution": "SLES", "major": "15"}),
}
PKG_MGR = {"redhat": "dnf", "suse": "zypper"}


@pytest.fixture(scope="module")
def inventory() -> Iterator[Path]:
    driftvakt("lab", "up", "--name", LAB, "--hosts", "2", "--rpm", timeout=1800)
    try:
        yield PROJECT / "inventories" / f"lab-{LAB}"
    finally:
        driftvakt("lab", "down", "--name", LAB)


def _on(host: str, *command: str) -> str:
    return driftvakt("lab", "ssh", "--name", LAB, host, *command).stdout


def _publish(kind: rpm_repos.Style, severity: str | None, hours: float) -> None:
    """labsvc's repository of ``kind``: 1.1 with an advisory ``hours`` old (None: no updateinfo)."""
    cfg = LabConfig(LAB, PROJECT)
    now = datetime.datetime.now(datetime.UTC)
    advisories = None
    if severity is not None:
        issued = now - datetime.timedelta(hours=hours)
        advisories = [rpm_repos.Advisory(rpm_host.FIRST_ADVISORY, severity, issued)]
    labsvc = merged_dir(cfg, cfg.services_host())
    rpm_host.publish(labsvc, kind, rpm_repos.FIRST_UPDATE, advisories)


def _check(inventory: Path, host: str) -> tuple[bool, str]:
    """The compliance check on the host as plain testinfra: (passed, its output)."""
    return run_suite(inventory, host, "test_patching.py")


def _role(inventory: Path, host: str, tmp_path: Path, *args: str) -> dict[str, int]:
    """The patching role alone on ``host``, its facts set to the family whose client it has."""
    kind, facts = HOSTS[host]
    book = tmp_path / f"patching-{host}.yml"
    present = {
        "ansible_os_family": facts["os_family"],
        "ansible_distribution": facts["distribution"],
        "ansible_distribution_major_version": facts["major"],
        "ansible_pkg_mgr": PKG_MGR[kind],
        "cacheable": True,
    }
    book.write_text(
        yaml.safe_dump(
            [
                {
                    "name": "The patching role on a lab RPM host",
                    "hosts": host,
                    "become": True,
                    "pre_tasks": [
                        {
                            "name": "Present the host as the family whose package client it has",
                            "ansible.builtin.set_fact": present,
                        }
                    ],
                    "roles": [{"role": "patching"}],
                }
            ],
            sort_keys=False,
        )
    )
    run = playbook(inventory, *args, book=book)
    assert run.rc == 0, run.output[-4000:]
    return run.recap[host]


@pytest.mark.parametrize("host", sorted(HOSTS))
def test_patch_level_by_the_real_client_and_the_role_repairs_it(
    inventory: Path, host: str, tmp_path: Path
) -> None:
    kind, _ = HOSTS[host]
    client = PKG_MGR[kind]
    assert _on(host, "command -v zypper dnf || true").strip() == f"/usr/bin/{client}"
    installed = ["rpm", "-q", "driftvakt-lab-canary"]
    assert _on(host, *installed).strip() == "driftvakt-lab-canary-1.0-1.noarch"

    # As `lab up` published it: Critical, issued 60 h ago, not installed.
    passed, output = _check(inventory, host)
    assert not passed and "missing more than 48 h after release" in output, output[-3000:]
    assert f"{rpm_host.FIRST_ADVISORY} (" in output and "60.0 h ago" in output, output[-3000:]

    _publish(kind, "Critical", 10)
    passed, output = _check(inventory, host)
    assert passed, output[-3000:]

    _publish(kind, "Important", 60)  # no critical advisory pending
    passed, output = _check(inventory, host)
    assert passed, output[-3000:]

    _publish(kind, None, 0)  # a repository without updateinfo: never a pass
    passed, output = _check(inventory, host)
    assert not passed and "cannot be told" in output, output[-3000:]

    # The role: --check reports the pending update and changes nothing; then it installs it;
    # a second run changes nothing; the check passes.
    _publish(kind, "Critical", 60)
    assert _role(inventory, host, tmp_path, "--check", "--diff")["changed"] >= 1
    assert _on(host, *installed).strip() == "driftvakt-lab-canary-1.0-1.noarch"
    assert _role(inventory, host, tmp_path)["changed"] >= 1
    assert _on(host, *installed).strip() == "driftvakt-lab-canary-1.1-1.noarch"
    assert _role(inventory, host, tmp_path)["changed"] == 0
    passed, output = _check(inventory, host)
    assert passed, output[-3000:]
