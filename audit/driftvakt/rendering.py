"""Render a role's variables and templates for a given OS family, without a host.

RHEL and SLES cannot boot in the lab, so their code paths are proved by rendering: the same
``first_found`` variable files the role's ``tasks/main.yml`` picks, the role defaults, the
inventory's variables and a family's facts go through Ansible's own templar, and the tests
assert on the result (paths, package names, rendered configuration).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

FAMILY_FACTS: dict[str, dict[str, Any]] = {
    "debian12": {
        "ansible_os_family": "Debian",
        "ansible_distribution": "Debian",
        "ansible_distribution_major_version": "12",
        "ansible_distribution_version": "12.8",
    },
    "rhel8": {
        "ansible_os_family": "RedHat",
        "ansible_distribution": "RedHat",
        "ansible_distribution_major_version": "8",
        "ansible_distribution_version": "8.10",
    },
    "rhel9": {
        "ansible_os_family": "RedHat",
        "ansible_distribution": "RedHat",
        "ansible_distribution_major_version": "9",
        "ansible_distribution_version": "9.5",
    },
    "rhel10": {
        "ansible_os_family": "RedHat",
        "ansible_distribution": "RedHat",
        "ansible_distribution_major_version": "10",
        "ansible_distribution_version": "10.0",
    },
    "sles15": {
        "ansible_os_family": "Suse",
        "ansible_distribution": "SLES",
        "ansible_distribution_major_version": "15",
        "ansible_distribution_version": "15.6",
    },
}


def _yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text("utf-8"))
    return data if isinstance(data, dict) else {}


def role_vars(
    role_dir: Path, facts: dict[str, Any], extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """defaults < vars/main < vars/{distribution}_{major} | {distribution} | {os_family} |
    default < extra (the roles include their platform file over their vars/main.yml)."""
    merged: dict[str, Any] = dict(facts)
    merged.update(_yaml(role_dir / "defaults" / "main.yml"))
    merged.update(_yaml(role_dir / "vars" / "main.yml"))
    for candidate in (
        f"{facts['ansible_distribution']}_{facts['ansible_distribution_major_version']}.yml",
        f"{facts['ansible_distribution']}.yml",
        f"{facts['ansible_os_family']}.yml",
        "default.yml",
    ):
        path = role_dir / "vars" / candidate
        if path.is_file():
            merged.update(_yaml(path))
            break
    merged.update(extra or {})
    merged.setdefault("ansible_managed", "Managed by driftvakt (Ansible); local edits are reverted")
    merged.setdefault("inventory_hostname", "render-host")
    return _resolve(merged)


def family_vars(role_dir: Path, family: str, **extra: Any) -> dict[str, Any]:
    """A role's variables on one of FAMILY_FACTS' platforms, facts also as ``ansible_facts``."""
    facts = FAMILY_FACTS[family]
    ansible_facts = {k.removeprefix("ansible_"): v for k, v in facts.items()}
    return role_vars(role_dir, facts, {"ansible_facts": ansible_facts, **extra})


def trusted(value: Any) -> Any:
    """Mark strings as templates: ansible-core >= 2.19 renders only trusted template text."""
    try:
        from ansible.template import trust_as_template
    except ImportError:  # ansible-core < 2.19 trusts every string
        return value
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, dict):
        return {k: trusted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [trusted(v) for v in value]
    return value


def _resolve(variables: dict[str, Any]) -> dict[str, Any]:
    from ansible.template import Templar

    templar = Templar(loader=None, variables=trusted(variables))
    return {k: templar.template(trusted(v)) for k, v in variables.items()}


def render_template(role_dir: Path, template: str, variables: dict[str, Any]) -> str:
    """Render ``roles/<role>/templates/<template>`` as the template module would."""
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar

    loader = DataLoader()
    loader.set_basedir(str(role_dir / "templates"))
    source = (role_dir / "templates" / template).read_text("utf-8")
    templar = Templar(loader=loader, variables=trusted(variables))
    return str(templar.template(trusted(source)))
