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
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from labkit import BIN, PROJECT, driftvakt, lab_possible, own_lab

from driftvakt.export import command
from driftvakt.store import Store

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(lab_possible() is not None, reason=str(lab_possible())),
]
LAB = "awx"
KEY = Path(f"/var/lib/driftvakt/lab/{LAB}/id_ed25519")
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
    key = ["--private-key", str(KEY)]
    if agent:  # AWX's way: the credential's key in an ssh-agent, no key file on the command line
        socket = work / f"agent-{job['awx_job_id']}.sock"
        subprocess.run(["ssh-agent", "-a", str(socket)], check=True, capture_output=True)
        subprocess.run(["ssh-add", "-q", str(KEY)], env={**env, "SSH_AUTH_SOCK": str(socket)},
                       check=True, capture_output=True)  # fmt: skip
        env["SSH_AUTH_SOCK"], key = str(socket), []
    return subprocess.Popen(
        [str(BIN / "ansible-playbook"), "-i", str(inventory), "playbooks/audit.yml",
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
    with TIMES.open("a") as out:
        out.write(json.dumps({"hosts": len(hosts), "wall_seconds_by_slices": times}) + "\n")
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
