"""Shared fixtures for the compliance suites.

The suites are plain testinfra: ``pytest tests/ --hosts=lab-01 --ansible-inventory=inventories/lab
--connection=ansible --sudo`` runs them as they are. ``hostvars`` gives each check the same
inventory variables the roles were applied with, so expected values (NTP servers, approved
traffic paths) are named once, in the inventory.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from driftvakt.inventory import host_variables, is_windows


def _inventory(config: pytest.Config) -> str:
    return (
        config.getoption("ansible_inventory", None)
        or os.environ.get("ANSIBLE_INVENTORY")
        or "inventories/lab"
    )


@pytest.fixture
def hostvars(host: Any, request: pytest.FixtureRequest) -> dict[str, Any]:
    """The checked host's Ansible variables (inventory + group_vars + host_vars)."""
    return host_variables(_inventory(request.config), host.backend.get_hostname())


def pytest_configure(config: pytest.Config) -> None:
    # Registered here too, so an installed copy of the suites runs without the checkout's
    # pyproject.toml.
    config.addinivalue_line("markers", "control(id): the catalog control a check verifies")
    config.addinivalue_line(
        "markers", "windows: a check of Windows hosts (beside the Linux ones of its concern)"
    )


@pytest.fixture(autouse=True)
def _platform_applies(request: pytest.FixtureRequest) -> None:
    """Linux checks skip Windows hosts and Windows checks (marked ``windows``) skip the rest,
    before they read anything from the host."""
    if "host" not in request.fixturenames:
        return
    host = request.getfixturevalue("host")
    name = host.backend.get_hostname()
    try:
        windows = is_windows(host_variables(_inventory(request.config), name))
    except Exception:  # a host outside the inventory (pytest --hosts=...): not Windows
        windows = False
    marked = request.node.get_closest_marker("windows") is not None
    if marked and not windows:
        pytest.skip(f"not applicable: a Windows check, and {name} is not a Windows host")
    if windows and not marked:
        pytest.skip(f"not applicable: a Linux check, and {name} is a Windows host")
