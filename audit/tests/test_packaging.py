"""An install of driftvakt carries its compliance suites and the audit finds them.

The wheel is built from a copy of the sources (so no build/ appears in the checkout) and
installed into a folder outside it; a fresh Python that sees only that folder first must find
the suites there, and the audit's engine must collect from them the same checks as from the
checkout's tests/.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]

# Run in a fresh interpreter: where the suites are, and the checks the engine collects there.
COLLECT = """
import json, sys
import driftvakt, driftvakt_checks
from driftvakt import replay
from driftvakt.checkrun import check_key, run_checks
from driftvakt.suites import suites_dir

replay.register()
checks = suites_dir()
found = []

def drive(runner):
    for item in runner.items:
        found.append([item.name.partition("[")[0], runner.test_controls[check_key(item)]])

run_checks(checks, sys.argv[1], checks.parent, drive)
print(json.dumps({
    "suites": str(checks),
    "driftvakt": driftvakt.__file__,
    "driftvakt_checks": driftvakt_checks.__file__,
    "checks": sorted(found),
}))
"""


def _collect(cwd: Path, inventory: Path, pythonpath: Path | None = None) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    out = subprocess.run(
        [sys.executable, "-c", COLLECT, str(inventory)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_every_package_under_audit_is_listed_for_installation() -> None:
    listed = set(
        tomllib.loads((PROJECT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(init.parent.relative_to(PROJECT / "audit").parts)
        for init in (PROJECT / "audit").rglob("__init__.py")
        if "tests" not in init.parts
    }
    assert found - listed == set(), "add them to [tool.setuptools] packages in pyproject.toml"
    assert "driftvakt_checks" in listed


def test_a_wheel_installed_outside_the_checkout_carries_and_finds_the_checks(
    tmp_path: Path,
) -> None:
    source = tmp_path / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
    for name in ("pyproject.toml", "README.md"):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(PROJECT / name, source / name)
    shutil.copytree(PROJECT / "audit" / "driftvakt", source / "audit" / "driftvakt", ignore=ignore)
    shutil.copytree(PROJECT / "tests", source / "tests", ignore=ignore)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(
        [
            *pip,
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-w",
            "dist",
            str(source),
        ],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = (tmp_path / "dist").glob("driftvakt-*.whl")
    site = tmp_path / "site"
    subprocess.run(
        [*pip, "install", "--no-deps", "--no-index", "--target", str(site), str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    inventory = tmp_path / "hosts.yml"
    inventory.write_text("all:\n  hosts:\n    placeholder:\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    installed = _collect(elsewhere, inventory, pythonpath=site)
    checkout = _collect(PROJECT, inventory)

    assert installed["suites"] == str(site / "driftvakt_checks")
    assert str(installed["driftvakt"]).startswith(str(site))
    assert (site / "driftvakt_checks" / "platform_lifecycle.yml").is_file()
    assert checkout["suites"] == str(PROJECT / "tests")
    assert installed["checks"], "no checks collected from the installed suites"
    assert installed["checks"] == checkout["checks"]
