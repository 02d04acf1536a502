from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

# labkit and friends are plain helper modules beside the tests: pytest's default import mode
# puts this folder (no __init__.py) on sys.path before it imports this conftest.
from labkit import CI_LAB, PROJECT, driftvakt, playbook, session_diagnostics
from pgcluster import Cluster, cluster

CI_HOSTS = 3


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """One real PostgreSQL server for the session's tests (each takes a fresh database)."""
    with cluster() as started:
        yield started


@pytest.fixture
def postgres_url(pg_cluster: Cluster) -> str:
    """A fresh, empty database on the session's PostgreSQL server."""
    return pg_cluster.new_database()


@pytest.fixture(scope="session")
def ci_lab() -> Iterator[Path]:
    """Three real lab hosts, hardened with site.yml; shared by the control and fault tests.
    A lab named by DRIFTVAKT_CI_LAB that is already up is hardened and used as it is, and left
    up (to run one new control's cases again and again while writing it)."""
    inventory = PROJECT / "inventories" / f"lab-{CI_LAB}"
    reused = CI_LAB != "ci" and inventory.is_dir()
    if not reused:
        driftvakt("lab", "up", "--name", CI_LAB, "--hosts", str(CI_HOSTS), timeout=1800)
    first = playbook(inventory)
    assert first.rc == 0, first.output[-4000:]
    assert reused or first.total("changed") > 0
    yield inventory
    if not reused:
        driftvakt("lab", "down", "--name", CI_LAB)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A lab host that stops opening login sessions is hard to diagnose after the lab is gone:
    such a failure carries the shared lab's session state, read from each host's console."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.when == "call" and report.failed and "opened no session" in str(report.longrepr):
        hosts = [f"lab-{n:02d}" for n in range(1, CI_HOSTS + 1)]
        report.sections.append(("lab login sessions", session_diagnostics(CI_LAB, hosts)))
