"""The audit playbook run as AWX runs a sliced job, on real lab hosts into a real PostgreSQL.

AWX cannot run here, so each slice is what AWX's job for it would run: ``ansible-playbook
playbooks/audit.yml`` with AWX's command-line connection context (``-u``, ``--become``, the
machine credential's key: on one slice through ``--private-key``, on the others through an
ssh-agent as AWX hands it over), the limit AWX computes for slice k of n (hosts ``[k::n]`` of
the name-sorted inventory) and AWX's extra vars (``awx_job_id``, ``awx_workflow_job_id``,
``awx_execution_node``) from a file, as ansible-runner passes them; all slices at once, as
concurrent processes, into one PostgreSQL named by ``DRIFTVAKT_STORE``. The inventory is the
lab's without ``ansible_user``, ``ansible_become`` and the key (an AWX inventory has no
credentials), so a host is only read if the play's context reached the engine.

Own lab ``awx`` (3 hosts); one that is already up is used and left up.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from labkit import BIN, PROJECT, container_pid, driftvakt, lab_possible, own_lab

from driftvakt.export import command
from driftvakt.lab import LabConfig
from driftvakt.store import Store
from driftvakt.waivers import default_path

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(lab_possible() is not None, reason=str(lab_possible())),
]


# Not yet proven end to end (docs/awx.md): the built collection's whole hardening of a fresh
# lab host, and the timer on a lab host acting as controller (whose setup needs that host).
# They run when asked for, and stay out of CI until they have passed here once.
LONG_LAB = pytest.mark.skipif(
    not os.environ.get("DRIFTVAKT_LONG_LAB"),
    reason="the collection and timer lab proofs run with DRIFTVAKT_LONG_LAB=1 (docs/awx.md)",
)
LAB = "awx"
KEY = Path(f"/var/lib/driftvakt/lab/{LAB}/id_ed25519")
HARDENED = "lab-02"  # hardened by the built collection
CONTROLLER = "lab-01"  # the nightly timer's controller, auditing lab-02
CREDENTIAL_VARS = ("ansible_user", "ansible_become", "ansible_ssh_private_key_file")
TIMES = Path(os.environ.get("DRIFTVAKT_AWX_TIMES", "/dev/null"))  # wall times, for the docs


@pytest.fixture(scope="module")
def lab_inventory() -> Iterator[Path]:
    inventory = PROJECT / "inventories" / f"lab-{LAB}"
    if inventory.is_dir():  # already up: used as it is and left up
        yield inventory
        return
    with own_lab(LAB, 3) as made:
        yield made


@pytest.fixture(scope="module")
def awx_inventory(lab_inventory: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The lab's inventory as an AWX inventory holds it: no user, become or key."""
    copy = tmp_path_factory.mktemp("awx") / "inventory"
    shutil.copytree(lab_inventory, copy)
    shared = copy / "group_vars" / "all.yml"
    variables = yaml.safe_load(shared.read_text("utf-8"))
    assert all(key in variables for key in CREDENTIAL_VARS)  # so removing them means something
    for key in CREDENTIAL_VARS:
        del variables[key]
    shared.write_text(yaml.safe_dump(variables, sort_keys=False), "utf-8")
    return copy


def hosts_of(inventory: Path) -> list[str]:
    listed = subprocess.run(
        [str(BIN / "ansible-inventory"), "-i", str(inventory), "--list"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return sorted(json.loads(listed.stdout)["_meta"]["hostvars"])


def slice_limits(hosts: list[str], n: int) -> list[list[str]]:
    """AWX's job slicing: slice k (0-based) of n gets hosts [k::n] of the name-sorted hosts."""
    return [sorted(hosts)[k::n] for k in range(n)]


def start_slice(
    inventory: Path, work: Path, url: str, limit: list[str], job: dict[str, Any], agent: bool
) -> subprocess.Popen[str]:
    extravars = work / f"extravars-{job['awx_job_id']}.json"
    extravars.write_text(json.dumps(job), "utf-8")
    env = dict(
        os.environ,
        DRIFTVAKT_STORE=url,
        ANSIBLE_CONFIG=str(PROJECT / "ansible.cfg"),
        ANSIBLE_NOCOLOR="1",
        PATH=f"{BIN}:{os.environ['PATH']}",
    )
    key, under = ["--private-key", str(KEY)], []
    if agent:  # AWX's way: the credential's key in an ssh-agent, no key file on the command line
        # the job runs under its own agent, which ends with it (nothing left running)
        key, under = [], ["ssh-agent", "sh", "-c", 'ssh-add -q "$0" && exec "$@"', str(KEY)]
    return subprocess.Popen(
        [*under, str(BIN / "ansible-playbook"), "-i", str(inventory), "playbooks/audit.yml",
         "-u", "ops", "--become", *key, "--limit", ",".join(limit), "-e", f"@{extravars}", "-v"],
        cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip


def launch(inventory: Path, work: Path, url: str, workflow: int, n: int) -> float:
    """One sliced launch: n slice jobs at once; the wall time until the last one ends."""
    begun = time.monotonic()
    running = [
        start_slice(
            inventory, work, url, limit,
            {"awx_workflow_job_id": workflow, "awx_job_id": workflow + 1 + k,
             "awx_execution_node": f"exec-{k + 1}"},
            agent=k > 0,
        )
        for k, limit in enumerate(slice_limits(hosts_of(inventory), n))
    ]  # fmt: skip
    outputs = [p.communicate(timeout=900)[0] for p in running]
    took = time.monotonic() - begun
    for p, out in zip(running, outputs, strict=True):
        assert p.returncode == 0, out[-4000:]
        assert "Traceback" not in out and "change record" not in out, out[-4000:]
    return took


def test_a_sliced_launch_is_one_run_per_slice_and_one_group_covering_every_host(
    awx_inventory: Path, postgres_url: str, tmp_path: Path
) -> None:
    hosts = hosts_of(awx_inventory)
    assert len(hosts) == 3
    times = {n: launch(awx_inventory, tmp_path, postgres_url, 100 * n, n) for n in (1, 2, 3)}
    with TIMES.open("a") as log:
        log.write(json.dumps({"hosts": len(hosts), "wall_seconds_by_slices": times}) + "\n")
    store_argv = ["--store", postgres_url]
    verified = driftvakt("store", "verify", *store_argv)
    assert "run store intact: 6 runs" in verified.stdout  # 1 + 2 + 3 slices, one chain
    for n in (1, 2, 3):
        group = f"awx-{100 * n}"
        with Store(postgres_url) as store:
            runs = [store.load(run_id) for run_id in store.group_runs(group)]
        assert len(runs) == n
        # each slice a whole run of its own hosts, carrying its own job and execution node
        assert sorted(sorted(r["hosts"]) for r in runs) == sorted(slice_limits(hosts, n))
        assert {r["launch"]["awx_job_id"] for r in runs} == {str(100 * n + 1 + k) for k in range(n)}
        assert {r["launch"]["awx_execution_node"] for r in runs} == {
            f"exec-{k + 1}" for k in range(n)
        }
        for r in runs:
            reasons = " ".join(x["reason"] for x in r["results"])
            # the play's -u/--become/key reached the engine: every host was read as root
            assert "authentication failed" not in reasons and "could not become" not in reasons
            assert {x["host"] for x in r["results"]} == set(r["hosts"])
        report = tmp_path / f"{group}.json"
        driftvakt("report", "--group", group, "--format", "json", "-o", str(report), *store_argv)
        data = json.loads(report.read_text())
        assert data["hosts"] == hosts
        pairs = [(x["host"], x["control"]) for x in data["results"]]
        assert len(pairs) == len(set(pairs))  # every host's every control exactly once
        assert {h for h, _ in pairs} == set(hosts)
        driftvakt("report", "--group", group, "-o", str(tmp_path / f"{group}.html"), *store_argv)
    key = tmp_path / "signing.key"
    driftvakt("export", "keygen", "--key", str(key))  # no terminal, no passphrase variable
    out = tmp_path / "export"
    driftvakt("export", "--group", "awx-300", "--key", str(key), "--out", str(out), *store_argv)
    bundles = sorted(out.glob("*.tar"))
    assert len(bundles) == 3  # one signed bundle per slice's run
    exported = []
    for bundle in bundles:
        assert "bundle OK" in driftvakt("verify", str(bundle), "--pubkey", f"{key}.pub").stdout
        exported.append(command.verify(bundle, Path(f"{key}.pub")).meta["run"])
    assert sum(run["hosts"] for run in exported) == len(hosts)  # every host in one bundle
    # the launch against the launch before it (awx-200), whole against whole: a slice compared
    # with a slice would show the other slices' hosts as vanished
    drift = driftvakt("drift", "--group", "awx-300", *store_argv).stdout
    assert "awx-200" in drift and "awx-300" in drift, drift
    assert "host vanished" not in drift and "host appeared" not in drift, drift


# -- the built collection hardens a host, and its audit playbook audits it --------------------


def outside_the_checkout(
    argv: list[str], cwd: Path, collections: Path, **env: str
) -> subprocess.CompletedProcess[str]:
    """As AWX runs a collection's playbook: no checkout, no ansible.cfg, no roles path."""
    site_packages = next(Path(sys.prefix).glob("lib/python3*/site-packages"))
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    environ.update(
        ANSIBLE_COLLECTIONS_PATH=f"{collections}:{site_packages}",
        ANSIBLE_ROLES_PATH=str(cwd / "no-roles"),
        ANSIBLE_HOST_KEY_CHECKING="True",
        ANSIBLE_NOCOLOR="1",
        PATH=f"{BIN}:{os.environ['PATH']}",
        **env,
    )
    return subprocess.run(
        argv, cwd=cwd, env=environ, capture_output=True, text=True, timeout=1800, check=False,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip


@pytest.fixture(scope="module")
def fleet_inventory(lab_inventory: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The lab's inventory with lab-01 (the nightly controller below) as an approved SSH
    source, so a hardened host's firewall lets the controller audit it."""
    copy = tmp_path_factory.mktemp("fleet") / "inventory"
    shutil.copytree(lab_inventory, copy)
    # the lab's waivers (LAB_LIMITED_CONTROLS) sit beside the inventory folder: waivers.py
    shutil.copy2(default_path(str(lab_inventory)), default_path(str(copy)))
    listed = yaml.safe_load((copy / "hosts.yml").read_text("utf-8"))
    address = listed["all"]["children"]["lab"]["hosts"][CONTROLLER]["ansible_host"]
    shared = copy / "group_vars" / "all.yml"
    variables = yaml.safe_load(shared.read_text("utf-8"))
    variables["firewall_approved_paths"].append(
        {"name": "nightly-controller", "source": f"{address}/32", "destination": "all",
         "proto": "tcp", "port": 22}
    )  # fmt: skip
    shared.write_text(yaml.safe_dump(variables, sort_keys=False), "utf-8")
    return copy


@pytest.fixture(scope="module")
def collection_hardened(
    fleet_inventory: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    """lab-02 hardened by the built collection's site playbook (the whole baseline, once)."""
    work = tmp_path_factory.mktemp("collection")
    built = subprocess.run(
        [str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(work)],
        cwd=PROJECT, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    (tarball,) = work.glob("driftvakt-baseline-*.tar.gz")
    collections = work / "collections"
    installed = outside_the_checkout(
        [str(BIN / "ansible-galaxy"), "collection", "install", "--no-deps", "-p",
         str(collections), str(tarball)], work, collections,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    harden = [str(BIN / "ansible-playbook"), "-i", str(fleet_inventory), "driftvakt.baseline.site",
              "--limit", HARDENED]  # fmt: skip
    store = f"DRIFTVAKT_STORE={work / 'changes.db'}"
    first = outside_the_checkout(harden, work, collections, **dict([store.split("=", 1)]))
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-2000:]
    assert "changed=0" not in first.stdout  # it did harden the host
    return work, collections


@LONG_LAB
def test_the_built_collection_hardens_a_host_and_its_audit_playbook_passes_it(
    collection_hardened: tuple[Path, Path], fleet_inventory: Path
) -> None:
    work, collections = collection_hardened
    again = outside_the_checkout(
        [str(BIN / "ansible-playbook"), "-i", str(fleet_inventory), "driftvakt.baseline.site",
         "--limit", HARDENED, "--check", "--diff"], work, collections,
    )  # fmt: skip
    assert again.returncode == 0 and "changed=0" in again.stdout, again.stdout[-4000:]
    store = work / "audit.db"
    audited = outside_the_checkout(
        [str(BIN / "ansible-playbook"), "-i", str(fleet_inventory), "driftvakt.baseline.audit",
         "--limit", HARDENED, "-e", f"driftvakt_results_file={work / 'audit.json'}"],
        work, collections, DRIFTVAKT_STORE=str(store),
    )  # fmt: skip
    assert audited.returncode == 0, audited.stdout[-4000:] + audited.stderr[-2000:]
    with Store(store) as runs:
        (run,) = runs.latest(1)
    assert run["hosts"] == [HARDENED]
    assert not [(r["control"], r["reason"]) for r in run["results"]
                if r["status"] not in ("pass", "not_applicable", "waived")]  # fmt: skip


# -- the nightly timer on a lab host acting as controller ---------------------------------------

# This checkout and its virtualenv at the same paths inside the controller, so the units
# `driftvakt schedule install` writes there name a real driftvakt; the virtualenv's Python is
# this machine's (pyenv) 3.11, which the controller's Debian python3.11 stands in for.
PYTHON = Path(sys.prefix, "pyvenv.cfg").read_text().split("home = ", 1)[1].split()[0]
NIGHTLY = "/var/lib/driftvakt-nightly"


def inside(host: str, script: str, timeout: float = 120) -> str:
    done = subprocess.run(
        ["nsenter", "--target", str(container_pid(LAB, host)), "--all", "sh", "-euc", script],
        capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"{script}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def wait_for(host: str, script: str, seconds: float) -> str:
    """Poll until ``script`` prints something inside the host."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        out = inside(host, script).strip()
        if out:
            return out
        time.sleep(5)
    raise AssertionError(f"{host}: nothing from {script!r} within {seconds:.0f} s")


@pytest.fixture
def controller(collection_hardened: tuple[Path, Path], fleet_inventory: Path) -> Iterator[Path]:
    """lab-01 with this checkout (its inventory naming only the hardened lab-02) and the
    driftvakt command; everything put there is removed afterwards."""
    root = LabConfig(LAB, PROJECT).state / "hosts" / CONTROLLER / "merged"
    copy = root / str(PROJECT).lstrip("/")
    copy.mkdir(parents=True)
    skip = {".git", "var", "reports", "inventories"}
    for item in PROJECT.iterdir():
        if item.name not in skip:
            subprocess.run(["cp", "-a", str(item), str(copy)], check=True)
    inventory = copy / "inventories" / "nightly"
    shutil.copytree(fleet_inventory, inventory)
    shutil.copy2(default_path(str(fleet_inventory)), default_path(str(inventory)))
    hosts = inventory / "hosts.yml"
    listed = yaml.safe_load(hosts.read_text("utf-8"))
    lab_hosts = listed["all"]["children"]["lab"]["hosts"]
    listed["all"]["children"]["lab"]["hosts"] = {HARDENED: lab_hosts[HARDENED]}
    hosts.write_text(yaml.safe_dump(listed), "utf-8")
    for name in ("id_ed25519", "known_hosts", "driftpartner_ed25519"):
        source = Path(f"/var/lib/driftvakt/lab/{LAB}/{name}")
        (root / str(source.parent).lstrip("/")).mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, root / str(source).lstrip("/"))
    inside(
        CONTROLLER, f"mkdir -p {PYTHON} {NIGHTLY} && ln -sf /usr/bin/python3.11 {PYTHON}/python3"
    )
    try:
        yield Path("/") / copy.relative_to(root)
    finally:
        inside(
            CONTROLLER,
            "systemctl disable --now driftvakt-audit.timer || true; "
            "rm -f /etc/systemd/system/driftvakt-*; systemctl daemon-reload; "
            f"rm -rf {NIGHTLY} /var/lib/driftvakt /root/.pyenv /{str(PROJECT).lstrip('/')}",
        )


@LONG_LAB
def test_the_installed_timer_fires_the_nightly_audit_and_export_and_on_failure_reports(
    controller: Path,
) -> None:
    exe = f"{controller}/.venv/bin/driftvakt"
    key = f"/var/lib/driftvakt/lab/{LAB}"
    services = LabConfig(LAB, PROJECT).services_host().address
    inside(CONTROLLER, f"{exe} export keygen --key {NIGHTLY}/signing.key </dev/null")
    inside(
        CONTROLLER,
        f"cd {controller} && {exe} schedule install -i inventories/nightly "
        f"--store {NIGHTLY}/runs.db --on-calendar '*-*-* *:*:00' --randomized-delay 0 "
        f"--key {NIGHTLY}/signing.key --export-to sftp://driftpartner@{services}/incoming "
        f"--ssh-key {key}/driftpartner_ed25519 --known-hosts {key}/known_hosts",
    )
    inside(CONTROLLER, "systemctl daemon-reload && systemctl enable --now driftvakt-audit.timer")
    # The timer starts the service at the next minute; the run is audited, stored and delivered.
    done = wait_for(
        CONTROLLER,
        "systemctl show -p Result -p ExecMainExitTimestamp driftvakt-audit.service "
        "| grep -q 'ExecMainExitTimestamp=.' && systemctl show -p Result "
        "driftvakt-audit.service || true",
        300,
    )
    assert done == "Result=success", done + inside(
        CONTROLLER, "journalctl -u driftvakt-audit.service --no-pager | tail -40"
    )
    journal = inside(CONTROLLER, "journalctl -u driftvakt-audit.timer -u driftvakt-audit.service "
                                 "--no-pager")  # fmt: skip
    assert "bundle " in journal and "delivered to sftp://driftpartner@" in journal, journal
    stored = inside(CONTROLLER, f"{exe} store verify --store {NIGHTLY}/runs.db")
    assert "run store intact: 1 runs" in stored, stored
    receipts = inside(CONTROLLER, f"{exe} receipts --store {NIGHTLY}/runs.db")
    assert len(receipts.splitlines()) == 1, receipts
    # A failing audit (its inventory gone): the service fails and OnFailure= reports it.
    inside(CONTROLLER, "systemctl disable --now driftvakt-audit.timer")
    inside(CONTROLLER, f"mv {controller}/inventories/nightly {controller}/inventories/gone")
    inside(CONTROLLER, "systemctl start driftvakt-audit.service || true", timeout=300)
    failed = inside(CONTROLLER, "systemctl show -p Result driftvakt-audit.service").strip()
    assert failed == "Result=exit-code", failed
    reported = wait_for(CONTROLLER, "journalctl -t driftvakt --no-pager -q || true", 60)
    assert "driftvakt-audit.service failed: the nightly audit or its export" in reported
