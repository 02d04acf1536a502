"""On the lab's RPM hosts (issue 15): the package sources and the SLES sudoers, for real.

ClamAV is not in RHEL's own repositories (it comes from EPEL) and SLES 15 ships it in a module
that must be enabled. labsvc publishes a stand-in for EPEL (``/rpm/epel-standin``: stand-in
``clamav``, ``clamd`` and ``clamav-update`` packages the lab builds with rpmbuild), and the
antivirus role's package-source and installation tasks run against the real dnf 4.14 (lab-01)
and zypper 1.14 (lab-02), the host presented as RHEL or SLES (its facts say Debian): with no
source named, the role fails before installing anything with one line naming the packages and
the variable; with the stand-in named, ``--check`` reports the repository and the installation
and changes nothing, a run adds the repository and installs the packages from it, and a second
run changes nothing. The SUSE Customer Center registration (``product``) is rendered only.

Then SLES's stock sudoers on lab-02: its two lines put into the real /etc/sudoers make the
admins check fail with one finding; the accounts role, presented with SLES facts, shows under
``--check`` that it comments them out and changes nothing, does it (visudo validates the
file), and changes nothing the second time; the check passes.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from labkit import PROJECT, driftvakt, lab_possible, playbook, run_suite

from driftvakt.lab import LabConfig, rpm_host, rpm_repos
from driftvakt.lab.machine import merged_dir

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(lab_possible() is not None, reason=str(lab_possible())),
]
LAB = "rpmh"
HOSTS = {
    "lab-01": {"os_family": "RedHat", "distribution": "RedHat", "major": "9", "pkg_mgr": "dnf"},
    "lab-02": {"os_family": "Suse", "distribution": "SLES", "major": "15", "pkg_mgr": "zypper"},
}
PACKAGES = {"lab-01": ["clamav", "clamd", "clamav-update"], "lab-02": ["clamav"]}
STANDIN = "epel-standin"
REPO_FILE = {
    "lab-01": f"/etc/yum.repos.d/{STANDIN}.repo",
    "lab-02": f"/etc/zypp/repos.d/{STANDIN}.repo",
}
SLES_STOCK_LINES = (
    "Defaults targetpw   # ask for the password of the target user i.e. root\n"
    "ALL   ALL=(ALL) ALL   # WARNING! Only use this together with 'Defaults targetpw'!\n"
)


@pytest.fixture(scope="module")
def inventory() -> Iterator[Path]:
    # a fresh lab: the tests below start from hosts that have neither ClamAV nor its source
    driftvakt("lab", "down", "--name", LAB)
    driftvakt("lab", "up", "--name", LAB, "--hosts", "2", "--rpm", timeout=1800)
    cfg = LabConfig(LAB, PROJECT)
    labsvc = merged_dir(cfg, cfg.services_host())
    repo = labsvc / rpm_host.SERVED_AT.lstrip("/") / STANDIN
    rpm_repos.publish_packages(repo, PACKAGES["lab-01"], "1.0")
    try:
        yield PROJECT / "inventories" / f"lab-{LAB}"
    finally:
        driftvakt("lab", "down", "--name", LAB)


def _on(host: str, command: str, check: bool = True) -> str:
    return driftvakt("lab", "ssh", "--name", LAB, host, command, check=check).stdout


def _role(
    inventory: Path, host: str, tmp_path: Path, role: str, variables: dict[str, Any], *args: str
) -> tuple[int, str, dict[str, int]]:
    """``role`` alone on ``host``, its facts set to the family whose package client it has."""
    facts = HOSTS[host]
    book = tmp_path / f"{role}-{host}.yml"
    present = {
        "ansible_os_family": facts["os_family"],
        "ansible_distribution": facts["distribution"],
        "ansible_distribution_major_version": facts["major"],
        "ansible_pkg_mgr": facts["pkg_mgr"],
        "cacheable": True,
    }
    play = {
        "name": f"The {role} role on a lab RPM host",
        "hosts": host,
        "become": True,
        "pre_tasks": [
            {
                "name": "Present the host as the family whose package client it has",
                "ansible.builtin.set_fact": present,
                "tags": ["always"],  # the runs below are limited with --tags
            }
        ],
        "roles": [{"role": role, "vars": variables}],
    }
    book.write_text(yaml.safe_dump([play], sort_keys=False))
    run = playbook(inventory, *args, book=book)
    return run.rc, run.output, run.recap.get(host, {})


def _installed(host: str) -> str:
    return _on(host, f"rpm -q {' '.join(PACKAGES[host])} || true").strip()


@pytest.mark.parametrize("host", sorted(HOSTS))
def test_clamav_source_named_or_one_line_saying_what_is_missing(
    inventory: Path, host: str, tmp_path: Path
) -> None:
    assert _on(host, "test -e /usr/sbin/clamd && echo installed || echo absent").strip() == "absent"
    tags = ("--tags", "antivirus_package_source")

    # No source named: the role fails before installing anything, with one line.
    rc, output, recap = _role(inventory, host, tmp_path, "antivirus", {}, *tags)
    assert rc != 0 and recap.get("changed") == 0, output[-3000:]
    line = next(x for x in output.splitlines() if "ClamAV cannot be installed" in x)
    missing = ", ".join(PACKAGES[host])
    verb = "are" if len(PACKAGES[host]) > 1 else "is"
    assert (
        f"ClamAV cannot be installed: {missing} {verb} in none of the enabled repositories" in line
    )
    assert "antivirus_clamav_repository" in line
    assert "EPEL" in line if host == "lab-01" else "module" in line
    assert "is not installed" in _installed(host)

    # The stand-in for EPEL (or the SLES module's mirror) named: --check changes nothing.
    source = {
        "antivirus_clamav_repository": {
            "name": STANDIN,
            "baseurl": rpm_host.repo_url(LabConfig(LAB, PROJECT), STANDIN),
        }
    }
    rc, output, recap = _role(inventory, host, tmp_path, "antivirus", source, *tags, "--check")
    assert rc == 0 and recap["changed"] >= 2, output[-3000:]
    assert "would install" in output
    assert _on(host, f"test -e {REPO_FILE[host]} && echo yes || echo no").strip() == "no"
    assert "is not installed" in _installed(host)

    rc, output, recap = _role(inventory, host, tmp_path, "antivirus", source, *tags)
    assert rc == 0 and recap["changed"] >= 2, output[-3000:]
    baseurl = source["antivirus_clamav_repository"]["baseurl"]
    assert re.search(
        rf"^baseurl ?= ?{re.escape(baseurl)}$", _on(host, f"cat {REPO_FILE[host]}"), re.M
    )
    assert _installed(host).splitlines() == [f"{name}-1.0-1.noarch" for name in PACKAGES[host]]

    rc, output, recap = _role(inventory, host, tmp_path, "antivirus", source, *tags)
    assert rc == 0 and recap["changed"] == 0, output[-3000:]


def test_sles_stock_sudoers_fails_the_admins_check_and_the_role_removes_it(
    inventory: Path, tmp_path: Path
) -> None:
    host = "lab-02"
    before = _on(host, "sudo cat /etc/sudoers")
    # where SLES has them: before the drop-ins are included, so that the automation's own
    # NOPASSWD rule in /etc/sudoers.d still matches last (sudo's last match wins)
    head, include, tail = before.partition("@includedir")
    assert include, before
    stock = head + SLES_STOCK_LINES + include + tail
    _on(host, f"printf '%s' {shlex.quote(stock)} | sudo tee /etc/sudoers >/dev/null")
    _on(host, "sudo visudo -c")
    check = ("-k", "only_approved_accounts_are_administrators")
    passed, output = run_suite(inventory, host, "test_accounts.py", *check)
    assert not passed, output[-3000:]
    assert "sudo gives root to anyone who knows root's password: /etc/sudoers: ALL" in output
    assert "sudo ALL via ALL" not in output  # no longer every account by name

    tags = ("--tags", "accounts_admins_approved")
    rc, output, recap = _role(inventory, host, tmp_path, "accounts", {}, *tags, "--check", "--diff")
    assert rc == 0 and recap["changed"] >= 1, output[-3000:]
    assert _on(host, "sudo cat /etc/sudoers") == stock

    rc, output, recap = _role(inventory, host, tmp_path, "accounts", {}, *tags)
    assert rc == 0 and recap["changed"] >= 1, output[-3000:]
    commented = "".join(
        f"# driftvakt accounts_admins_approved (SLES-15-020101): {line}\n"
        for line in SLES_STOCK_LINES.splitlines()
    )
    assert _on(host, "sudo cat /etc/sudoers") == head + commented + include + tail
    rc, output, recap = _role(inventory, host, tmp_path, "accounts", {}, *tags)
    assert rc == 0 and recap["changed"] == 0, output[-3000:]
    passed, output = run_suite(inventory, host, "test_accounts.py", *check)
    assert passed, output[-3000:]
