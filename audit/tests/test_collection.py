"""The roles, plugins and playbooks build as an Ansible collection (galaxy.yml), and the built
collection's hardening playbook resolves every role and plugin from the collection alone, as
AWX runs it (``ansible-playbook driftvakt.baseline.site``). That it hardens a host, and that its
audit playbook audits it, is a lab test (test_lab_awx.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import yaml

PROJECT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def run(argv: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    environ.update(env)
    return subprocess.run(
        argv, cwd=cwd, env=environ, capture_output=True, text=True, check=False, timeout=300
    )


def build_and_install(tmp_path: Path) -> tuple[Path, Path]:
    built = run([str(BIN / "ansible-galaxy"), "collection", "build", "--output-path",
                 str(tmp_path)], PROJECT)  # fmt: skip
    assert built.returncode == 0, built.stderr
    (tarball,) = tmp_path.glob("driftvakt-baseline-*.tar.gz")
    installed = run([str(BIN / "ansible-galaxy"), "collection", "install", "--no-deps", "-p",
                     str(tmp_path / "collections"), str(tarball)], tmp_path)  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    return tarball, tmp_path / "collections" / "ansible_collections" / "driftvakt" / "baseline"


def syntax_check(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """From outside the checkout (no ansible.cfg, no roles path): only the collection."""
    site_packages = next(Path(sys.prefix).glob("lib/python3*/site-packages"))
    return run(
        [str(BIN / "ansible-playbook"), "-i", "localhost,", "--syntax-check",
         "driftvakt.baseline.site"],
        tmp_path,
        ANSIBLE_COLLECTIONS_PATH=f"{tmp_path / 'collections'}:{site_packages}",
        ANSIBLE_ROLES_PATH=str(tmp_path / "no-roles"),
    )  # fmt: skip


def test_the_collection_builds_with_the_roles_plugins_and_playbooks_only(tmp_path: Path) -> None:
    tarball, _ = build_and_install(tmp_path)
    with tarfile.open(tarball) as archive:
        names = set(archive.getnames())
    roles = {p.name for p in (PROJECT / "roles").iterdir() if p.is_dir()}
    assert {f"roles/{role}/tasks/main.yml" for role in roles} <= names
    assert {"playbooks/site.yml", "playbooks/audit.yml", "playbooks/export.yml",
            "plugins/action/driftvakt_change_gate.py", "plugins/action/driftvakt_audit.py",
            "plugins/callback/driftvakt_changes.py", "filter_plugins/accounts_groups.py",
            "filter_plugins/firewall_paths.py", "requirements.yml"} <= names  # fmt: skip
    # a role inside a collection cannot carry plugins: Ansible would not load them
    assert not [n for n in names if n.startswith("roles/") and "_plugins/" in n]
    assert not [n for n in names if n.split("/")[0] in {"audit", "tests", "inventories", "var"}]
    assert "ansible.cfg" not in names  # the checkout's lab inventory is not the region's


def test_the_collections_playbook_resolves_everything_from_the_collection(
    tmp_path: Path,
) -> None:
    _, installed = build_and_install(tmp_path)
    found = syntax_check(tmp_path)
    assert found.returncode == 0, found.stderr
    assert "playbooks/site.yml" in found.stdout
    shutil.rmtree(installed / "roles" / "ssh")  # the control: a missing role is noticed
    missing = syntax_check(tmp_path)
    assert missing.returncode != 0 and "ssh" in missing.stderr


def test_requirements_name_every_collection_the_roles_use() -> None:
    used = set()
    for path in [*(PROJECT / "roles").rglob("*.yml"), PROJECT / "site.yml"]:
        for word in path.read_text("utf-8").split():
            parts = word.rstrip(":").split(".")
            if word.endswith(":") and len(parts) == 3 and all(p.isidentifier() for p in parts):
                used.add(".".join(parts[:2]))
    used -= {"ansible.builtin"}
    galaxy = yaml.safe_load((PROJECT / "galaxy.yml").read_text())
    required = yaml.safe_load((PROJECT / "requirements.yml").read_text())
    assert used == set(galaxy["dependencies"])
    assert set(galaxy["dependencies"]) == {c["name"] for c in required["collections"]}


def test_the_execution_environment_definition_makes_a_build_context(tmp_path: Path) -> None:
    """``ansible-builder create`` (no container engine here: the image itself is not built)."""
    for name in ("execution-environment.yml", "requirements.yml"):
        shutil.copy(PROJECT / name, tmp_path / name)
    wheel = run([str(BIN / "pip"), "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                 str(tmp_path / "dist"), str(PROJECT)], tmp_path)  # fmt: skip
    assert wheel.returncode == 0, wheel.stderr
    created = run([str(BIN / "ansible-builder"), "create", "-f", "execution-environment.yml",
                   "-c", str(tmp_path / "context")], tmp_path)  # fmt: skip
    assert created.returncode == 0, created.stderr
    context = tmp_path / "context"
    build = context / "_build"
    assert yaml.safe_load((build / "requirements.yml").read_text()) == yaml.safe_load(
        (PROJECT / "requirements.yml").read_text()
    )
    assert [w.name for w in (build / "wheels").glob("driftvakt-*.whl")]
    assert "psycopg" in (build / "requirements.txt").read_text()
    steps = (context / "Dockerfile").read_text()
    assert "pip install --no-cache-dir /tmp/driftvakt-wheels/*.whl" in steps
