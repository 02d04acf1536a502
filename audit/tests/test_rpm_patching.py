"""The patching check's RHEL and SLES paths against the real dnf and zypper, in every unit run.

Each scenario builds the lab's RPM repository (driftvakt.lab.rpm_repos: rpmbuild, createrepo_c,
modifyrepo_c) and a root with its own rpm database, then runs the check's unchanged commands
through Debian's dnf 4.14 (``--installroot``) or zypper 1.14 (``--root``), see rpmkit.py.
.ci/setup installs the clients; without them these tests fail with what to install.
"""

from __future__ import annotations

import datetime
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
