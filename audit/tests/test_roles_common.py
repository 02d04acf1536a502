"""Checks every role shares: a typed argument spec that agrees with the defaults, internal
variables kept out of the defaults, and ansible-playbook --syntax-check on its own. Roles are
discovered, so a new role is covered."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

PROJECT = Path(__file__).resolve().parents[2]
ROLES = sorted(p.name for p in (PROJECT / "roles").iterdir() if (p / "tasks").is_dir())


def role_defaults(role: str) -> dict[str, object]:
    defaults = yaml.safe_load((PROJECT / "roles" / role / "defaults" / "main.yml").read_text())
    return defaults or {}


def role_options(role: str) -> dict[str, dict[str, object]]:
    specs = yaml.safe_load((PROJECT / "roles" / role / "meta" / "argument_specs.yml").read_text())
    options: dict[str, dict[str, object]] = specs["argument_specs"]["main"]["options"]
    return options


def test_the_roles_are_discovered() -> None:
    assert {"ssh", "firewall", "remote_access", "guarded_change", "timesync"} <= set(ROLES)
    assert "windows" not in ROLES  # folded into the concern roles


@pytest.mark.parametrize("role", ROLES)
def test_defaults_match_the_argument_specs(role: str) -> None:
    defaults = role_defaults(role)
    # Internal ("__") variables live in vars/, not among the inputs (linux-system-roles' rule).
    assert [name for name in defaults if name.startswith("__")] == []
    options = role_options(role)
    assert set(defaults) == set(options)
    # Defaults live in defaults/main.yml only, so the two can never disagree; every input is typed.
    assert all("default" not in spec for spec in options.values())
    assert all(spec.get("type") and spec.get("description") for spec in options.values())


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


def test_the_guarded_change_arming_script_parses_as_powershell() -> None:
    """The Windows rollback's arming script (no templating: its inputs are parameters)."""
    ts = pytest.importorskip("tree_sitter")
    grammar = pytest.importorskip("tree_sitter_powershell")
    tasks = yaml.safe_load(
        (PROJECT / "roles/guarded_change/tasks/windows/arm.yml").read_text("utf-8")
    )
    (arm,) = [t for t in tasks if "ansible.windows.win_powershell" in t]
    script = arm["ansible.windows.win_powershell"]["script"]
    assert "{{" not in script and script.isascii()
    parser = ts.Parser(ts.Language(grammar.language()))
    assert not parser.parse(script.encode()).root_node.has_error
    assert parser.parse(script.replace("}", "", 1).encode()).root_node.has_error
