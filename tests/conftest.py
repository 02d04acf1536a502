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

from driftvakt.inventory import host_variables


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
