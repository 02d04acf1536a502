"""``driftvakt demo``: the whole story on real lab hosts, start to report.

lab up (3 hosts) -> harden (ansible-playbook site.yml) -> audit (all pass) -> inject one drift
per control on one host -> audit (exactly those fail, on that host only) -> HTML report.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from driftvakt import lab, report, trends
from driftvakt.catalog import controls
from driftvakt.errors import DriftvaktError
from driftvakt.exitcodes import Exit
from driftvakt.lab.inventory_writer import LAB_LIMITED_CONTROLS
from driftvakt.lab.machine import ssh_base
from driftvakt.progress import Progress
from driftvakt.store.location import Location, default, is_url, resolve

DRIFT_HOST = "lab-02"
SSH_FAILED = 255  # ssh's own exit code when the connection itself failed


def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def _harden(project: Path, inventory: Path, progress: Progress) -> None:
    progress.step(f"hardening with: ansible-playbook -i {inventory.relative_to(project)} site.yml")
    env = dict(os.environ, ANSIBLE_CONFIG=str(project / "ansible.cfg"))
    done = subprocess.run(
        [_bin("ansible-playbook"), "-i", str(inventory), "site.yml"],
        cwd=project,
        env=env,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    if done.returncode != 0:
        raise DriftvaktError(
            f"ansible-playbook site.yml failed (exit {done.returncode}); see its output above"
        )


def _audit(project: Path, inventory: Path, out: Path, progress: Progress) -> dict[str, Any]:
    progress.step(f"auditing: driftvakt audit -i {inventory.relative_to(project)} -o {out}")
    subprocess.run(
        [_bin("driftvakt"), "audit", "-i", str(inventory), "-o", str(out)],
        cwd=project,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    data: dict[str, Any] = json.loads(out.read_text())
    return data


def _root_shell(cfg: lab.LabConfig, address: str, script: str, attempts: int = 5) -> None:
    """Run a root script on a lab host. Retried: a drift that reloads sshd (SIGHUP re-exec)
    leaves a short window in which the next connection is refused."""
    quoted = "'" + script.replace("'", "'\"'\"'") + "'"
    for attempt in range(attempts):
        done = subprocess.run(
            [*ssh_base(cfg), address, "sudo", "sh", "-euc", quoted],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != SSH_FAILED:
            if done.returncode:
                raise DriftvaktError(f"drift script failed on {address}: {done.stderr.strip()}")
            return
        time.sleep(1 + attempt)
    raise DriftvaktError(f"cannot reach {address} over SSH: {done.stderr.strip()}")


def _inject_all(cfg: lab.LabConfig, progress: Progress) -> list[str]:
    host = lab.resolve_host(cfg, DRIFT_HOST)
    injected = []
    for cid, control in controls().items():
        if "debian" not in control.platforms or cid in LAB_LIMITED_CONTROLS:
            continue
        scenario = control.drift["linux"]  # the lab's hosts run Debian
        progress.step(f"drift on {DRIFT_HOST}: {scenario.description['en']} ({cid})")
        _root_shell(cfg, host.address, scenario.inject)
        injected.append(cid)
    return injected


def _store(project: Path) -> Location:
    """The store the demo's audits wrote to: the default one, seen from the project (their
    working directory)."""
    location = resolve(default())
    return location if is_url(location) else project / location


def run_demo(project: Path, hosts: int = 3) -> int:
    progress = Progress()
    started = time.monotonic()
    cfg = lab.LabConfig("default", project)
    inventory = lab.up(cfg, hosts, progress)
    _harden(project, inventory, progress)
    results = project / "results"
    baseline = _audit(project, inventory, results / "demo-1-hardened.json", progress)
    injected = _inject_all(cfg, progress)
    drifted = _audit(project, inventory, results / "demo-2-drifted.json", progress)

    failing = {
        (r["host"], r["control"])
        for r in drifted["results"]
        if r["status"] not in ("pass", "not_applicable", "waived")
    }
    expected = {(DRIFT_HOST, cid) for cid in injected}
    clean_before = all(
        r["status"] in ("pass", "not_applicable", "waived") for r in baseline["results"]
    )
    # the trend charts: the demo's runs (and any earlier ones) in the store its audits wrote to
    history = trends.from_store(_store(project), str(drifted.get("id", "")), controls())
    paths = [
        report.write(drifted, project / "reports" / f"demo-{lang}.html", lang, baseline, history)
        for lang in ("en", "sv")
    ]
    took = time.monotonic() - started
    print()
    print(
        f"hardened audit: {'all pass' if clean_before else 'NOT all pass'}; "
        f"after drift: {len(failing)} failing (expected {len(expected)} on {DRIFT_HOST})"
    )
    for path in paths:
        print(f"report: {path}")
    print(
        f"demo took {took:.0f}s. Repair with: ansible-playbook -i {inventory} site.yml; "
        f"stop the lab with: driftvakt lab down"
    )
    if clean_before and failing == expected:
        return Exit.OK
    print(
        f"unexpected: missing {sorted(expected - failing)}, extra {sorted(failing - expected)}",
        file=sys.stderr,
    )
    return Exit.FAILURES
