"""The patching check's RHEL and SLES paths against the real dnf and zypper, in every unit run.

Each scenario builds the lab's RPM repository (driftvakt.lab.rpm_repos: rpmbuild, createrepo_c,
modifyrepo_c) and a root with its own rpm database, then runs the check's unchanged commands
through Debian's dnf 4.14 (``--installroot``) or zypper 1.14 (``--root``), see rpmkit.py.
.ci/setup installs the clients; without them these tests fail with what to install.
"""

from __future__ import annotations

import datetime
import subprocess
from pathlib import Path

import pytest
import rpmkit

from driftvakt.lab import rpm_repos

CASES = [
    pytest.param(client, scenario, id=f"{client}-{scenario.name}")
    for scenario in rpmkit.SCENARIOS
    for client in scenario.clients
    if scenario.name != "no-updateinfo"  # its own test below, with its fault mark
]


@pytest.fixture(scope="module", autouse=True)
def _clients() -> None:
    missing = rpmkit.missing_tools()
    assert not missing, (
        f"missing {', '.join(missing)}: run .ci/setup (apt: rpm dnf zypper createrepo-c)"
    )


@pytest.mark.parametrize(("client", "scenario"), CASES)
def test_real_client_verdict(
    client: rpmkit.Client, scenario: rpmkit.Scenario, tmp_path: Path
) -> None:
    host = rpmkit.scenario_host(client, scenario, tmp_path)
    found, evidence = rpmkit.outcome(host)
    assert found == scenario.expect, (evidence, host.answers)
    if found == "overdue":
        assert evidence[0].startswith("DVLAB-2026-0001 (") and evidence[0].endswith("60.0 h ago")
    if found == "within":
        assert len(evidence) == 1 and evidence[0].endswith("10.0 h ago")


@pytest.mark.fault(
    "host",
    "RHEL or SLES repositories without updateinfo (a mirror synced without it; real dnf, zypper)",
    "error: pending security updates cannot be told, never a pass",
)
@pytest.mark.parametrize("client", ["dnf", "zypper"])
def test_no_updateinfo_is_an_error_never_a_pass(client: rpmkit.Client, tmp_path: Path) -> None:
    (scenario,) = [s for s in rpmkit.SCENARIOS if s.name == "no-updateinfo"]
    found, evidence = rpmkit.outcome(rpmkit.scenario_host(client, scenario, tmp_path))
    assert found == "error" and "cannot be told" in evidence[0], evidence


def test_the_repositories_carry_what_the_caller_set(tmp_path: Path) -> None:
    """The built package and the advisory as the clients' own tools read them back."""
    package = rpm_repos.build_rpm("1.1", tmp_path / "out")
    assert package.name == "driftvakt-lab-canary-1.1-1.noarch.rpm"
    xml = rpm_repos.updateinfo_xml(
        [rpm_repos.Advisory("X-1", "Critical", _when(), updated=_when(hours=1))], "redhat"
    )
    assert '<issued date="2026-12-01 10:00:00" />' in xml
    assert '<updated date="2026-12-01 11:00:00" />' in xml
    assert "<severity>Critical</severity>" in xml
    suse = rpm_repos.updateinfo_xml([rpm_repos.Advisory("X-1", "Critical", _when())], "suse")
    assert f'<issued date="{int(_when().timestamp())}" />' in suse
    assert "<severity>critical</severity>" in suse and 'status="stable"' in suse


def _when(hours: int = 0) -> datetime.datetime:
    return datetime.datetime(2026, 12, 1, 10 + hours, tzinfo=datetime.UTC)


def test_rpm_host_is_prepared_as_its_kind(tmp_path: Path) -> None:
    """What `lab up --rpm` writes into a target's root before boot (booted in test_lab_rpm.py)."""
    from driftvakt.lab import LabConfig, rpm_host

    cfg = LabConfig("rpmunit", tmp_path)
    hosts = cfg.targets(2)
    assert [rpm_host.kind_of(h) for h in hosts] == ["redhat", "suse"]
    for host in hosts:
        root = tmp_path / host.name
        for client in ("usr/bin/dnf", "usr/bin/dnf-3", "usr/bin/zypper"):
            (root / client).parent.mkdir(parents=True, exist_ok=True)
            (root / client).write_text("")
        (root / "etc/zypp").mkdir(parents=True)
        (root / "etc/zypp/zypp.conf").write_text("[main]\n# repo.refresh.delay = 10\n")
        rpm_host.prepare(cfg, host, root)
        query = ["rpm", "--root", str(root), "--dbpath", rpm_repos.RPMDB, "-q", rpm_repos.CANARY]
        done = subprocess.run(query, capture_output=True, text=True, check=True)
        assert done.stdout.strip() == "driftvakt-lab-canary-1.0-1.noarch"
        assert (root / "etc/rpm/macros").read_text() == "%_dbpath /var/lib/rpm\n"
        url = f"baseurl=http://{cfg.services_host().address}/rpm/{rpm_host.kind_of(host)}"
        if rpm_host.kind_of(host) == "redhat":
            assert not (root / "usr/bin/zypper").exists() and (root / "usr/bin/dnf").exists()
            assert url in (root / "etc/yum.repos.d/driftvakt-lab.repo").read_text()
        else:
            assert not (root / "usr/bin/dnf").exists() and (root / "usr/bin/zypper").exists()
            assert url in (root / "etc/zypp/repos.d/driftvakt-lab.repo").read_text()
            assert (root / "etc/zypp/zypp.conf").read_text().endswith("repo.refresh.delay = 0\n")
