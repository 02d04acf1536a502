"""Checks every role shares: defaults and argument specs agree, and the role passes
ansible-playbook --syntax-check on its own. Roles are discovered, so a new role is covered."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

PROJECT = Path(__file__).resolve().parents[2]
ROLES = sorted(p.name for p in (PROJECT / "roles").iterdir() if (p / "tasks").is_dir())
SPECCED_ROLES = [
    r for r in ROLES if (PROJECT / "roles" / r / "meta" / "argument_specs.yml").exists()
]


def role_defaults(role: str) -> dict[str, object]:
    defaults = yaml.safe_load((PROJECT / "roles" / role / "defaults" / "main.yml").read_text())
    return defaults or {}


def role_options(role: str) -> dict[str, dict[str, object]]:
    specs = yaml.safe_load((PROJECT / "roles" / role / "meta" / "argument_specs.yml").read_text())
    options: dict[str, dict[str, object]] = specs["argument_specs"]["main"]["options"]
    return options


@pytest.mark.parametrize("role", SPECCED_ROLES)
def test_defaults_match_the_argument_specs(role: str) -> None:
    # "__"-prefixed defaults are the role's internal constants, not inputs.
    public = {name for name in role_defaults(role) if not name.startswith("__")}
    options = role_options(role)
    assert public == set(options)
    # Defaults live in defaults/main.yml only, so the two can never disagree.
    assert all("default" not in spec for spec in options.values())


@pytest.mark.parametrize("role", ROLES)
def test_role_passes_ansible_syntax_check(role: str, tmp_path: Path) -> None:
    playbook = tmp_path / "play.yml"
    playbook.write_text(f"- hosts: all\n  become: true\n  roles: [{role}]\n")
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible-playbook"),
            "-i",
            "localhost,",
            "--syntax-check",
            str(playbook),
        ],
        capture_output=True,
        text=True,
        check=False,
        env={
            "ANSIBLE_ROLES_PATH": str(PROJECT / "roles"),
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
        },
    )
    assert done.returncode == 0, done.stdout + done.stderr
