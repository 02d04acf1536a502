"""Checks every role of this shape shares: defaults and argument specs agree, and the role
passes ansible-playbook --syntax-check on its own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

PROJECT = Path(__file__).resolve().parents[2]
ROLES = ["crypto", "file_integrity", "logging", "services"]


@pytest.mark.parametrize("role", ROLES)
def test_defaults_match_the_argument_specs(role: str) -> None:
    defaults = yaml.safe_load((PROJECT / "roles" / role / "defaults" / "main.yml").read_text())
    specs = yaml.safe_load((PROJECT / "roles" / role / "meta" / "argument_specs.yml").read_text())
    options = specs["argument_specs"]["main"]["options"]
    assert set(defaults) == set(options)
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
