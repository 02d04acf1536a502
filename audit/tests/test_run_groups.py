"""Run groups: the runs of one launch (the slices of a sliced AWX job) read as one by
``report``, ``drift``, ``rights`` and ``export --group``; the audit action's group and
connection context (playbooks/audit.yml)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from driftvakt.cli import main
from driftvakt.exitcodes import Exit
from driftvakt.export import signing
from driftvakt.inventory import Target
from driftvakt.playcontext import PlayContext
from driftvakt.results import Run
from driftvakt.runref import load_group
from driftvakt.store import Store

ACTION = Path(__file__).resolve().parents[2] / "plugins" / "action" / "driftvakt_audit.py"


def run(
    run_id: str, hosts: list[str], group: str, day: int, status: str = "pass"
) -> dict[str, Any]:
    return {
        "id": run_id, "started": f"2026-03-0{day}T02:30:00+00:00",
        "finished": f"2026-03-0{day}T02:31:00+00:00", "user": "awx", "driftvakt_version": "t",
        "baseline_revision": "t", "inventory": "inv", "limit": ",".join(hosts), "hosts": hosts,
        **({"run_group": group} if group else {}),
        "results": [{"host": h, "control": "ssh_root_login_disabled", "status": status,
                     "evidence": [], "reason": "", "duration": 0.1} for h in hosts],
        "summary": {"pass": 0, "fail": 0, "error": 0, "waived": 0, "not_applicable": 0},
    }  # fmt: skip


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    path = tmp_path / "runs.db"
    with Store(path) as store:
        store.save(run("solo", ["a", "b", "c"], "", 1))
        store.save(run("s1", ["a", "c"], "awx-7", 2, "fail"))  # slice 1 of 2
        store.save(run("s2", ["b"], "awx-7", 2, "fail"))  # slice 2 of 2
        store.save(run("s2-again", ["b"], "awx-7", 2))  # the slice relaunched
    return path


def test_a_group_reads_as_one_run_with_every_host_once(store_path: Path) -> None:
    group = load_group("awx-7", store_path)
    assert group["runs"] == ["s1", "s2", "s2-again"]
    assert group["hosts"] == ["a", "b", "c"]
    assert [(r["host"], r["status"]) for r in group["results"]] == [
        ("a", "fail"), ("b", "pass"), ("c", "fail")  # b from the newest run that audited it
    ]  # fmt: skip
    assert group["summary"]["fail"] == 2 and group["summary"]["pass"] == 1


@pytest.mark.fault(
    "input",
    "report, drift, rights or export --group naming a group the store does not hold",
    "one line naming the group, exit 3 (bad input); nothing written",
)
@pytest.mark.parametrize("command", ["report", "drift", "rights", "export"])
def test_an_unknown_group_is_one_line(
    command: str, store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command, "--group", "awx-99", "--store", str(store_path)]) == Exit.BAD_INPUT
    err = capsys.readouterr().err.strip()
    assert "awx-99" in err and len(err.splitlines()) == 1, err


def test_report_and_drift_take_a_group(
    store_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "group.json"
    argv = ["--group", "awx-7", "--store", str(store_path)]
    assert main(["report", *argv, "--format", "json", "-o", str(out)]) == Exit.OK
    data = json.loads(out.read_text())
    assert data["hosts"] == ["a", "b", "c"] and data["runs"] == ["s1", "s2", "s2-again"]
    html = tmp_path / "group.html"
    assert main(["report", *argv, "-o", str(html)]) == Exit.OK
    assert "awx-7" in html.read_text()
    capsys.readouterr()
    assert main(["drift", *argv]) == Exit.OK  # against "solo", the run saved before the group
    text = capsys.readouterr().out
    assert "ssh_root_login_disabled" in text and "a" in text and "c" in text


def test_export_takes_a_group_one_bundle_per_run(
    store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(signing.PASSPHRASE_ENV, "")
    key = tmp_path / "signing.key"
    assert main(["export", "keygen", "--key", str(key)]) == Exit.OK
    out = tmp_path / "export"
    argv = ["--group", "awx-7", "--store", str(store_path), "--key", str(key), "--out", str(out)]
    assert main(["export", *argv]) == Exit.OK
    bundles = sorted(out.glob("*.tar"))
    assert len(bundles) == 3
    for bundle in bundles:
        assert main(["verify", str(bundle), "--pubkey", f"{key}.pub"]) == Exit.OK


def target(**given: Any) -> Target:
    return Target("h", "10.0.0.1", 22, given.get("user"), given.get("key"), "ssh", False, "",
                  None, None, vars=given.get("vars", {}))  # fmt: skip


def test_the_command_line_context_fills_only_what_the_inventory_leaves_unset() -> None:
    context = PlayContext("awx", True, "~/awx.key")
    bare = context.apply([target()])[0]
    assert (bare.user, bare.become) == ("awx", True)
    assert bare.private_key is not None and bare.private_key.endswith("/awx.key")
    assert "~" not in bare.private_key
    own = context.apply(
        [target(user="ops", key="/k", vars={"ansible_become": False})]
    )[0]  # fmt: skip
    assert (own.user, own.private_key, own.become) == ("ops", "/k", False)  # as Ansible


def test_a_run_of_a_launch_carries_its_group_and_job() -> None:
    meta = Run("r", "", "", "u", "v", "b", "inv", None, ["h"],
               launch={"run_group": "awx-7", "awx_job_id": "8"}).to_json()  # fmt: skip
    assert (meta["run_group"], meta["launch"]) == ("awx-7", {"awx_job_id": "8"})
    alone = Run("r", "", "", "u", "v", "b", "inv", None, ["h"]).to_json()
    assert "run_group" not in alone and "launch" not in alone


def action() -> Any:
    spec = importlib.util.spec_from_file_location("driftvakt_audit_action", ACTION)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_every_slice_of_a_launch_gets_the_workflow_s_group() -> None:
    group = action().run_group
    assert group({"awx_workflow_job_id": 41, "awx_job_id": 43}, None) == "awx-41"
    assert group({"awx_job_id": 43}, None) == "awx-43"  # a job outside a workflow
    assert group({"awx_job_id": 43}, "nightly-1") == "nightly-1"
    assert group({}, None) == ""


def audit_playbook(inventory: Path, store: str, tmp_path: Path) -> tuple[int, str]:
    root = Path(__file__).resolve().parents[2]
    binaries = Path(sys.executable).parent
    env = dict(os.environ, DRIFTVAKT_STORE=store, ANSIBLE_CONFIG=str(root / "ansible.cfg"),
               ANSIBLE_NOCOLOR="1", PATH=f"{binaries}:{os.environ['PATH']}")  # fmt: skip
    done = subprocess.run(
        [str(binaries / "ansible-playbook"), "-i", str(inventory),
         "playbooks/audit.yml", "-e", f"driftvakt_results_file={tmp_path / 'r.json'}"],
        cwd=root, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    return done.returncode, done.stdout + done.stderr


@pytest.mark.fault(
    "input",
    "playbooks/audit.yml over an inventory without hosts",
    "the play fails with one line naming the inventory; no traceback, no run",
)
def test_the_audit_playbook_refuses_an_inventory_without_hosts(tmp_path: Path) -> None:
    inventory = tmp_path / "empty.yml"
    inventory.write_text("all:\n  hosts: {}\n", "utf-8")
    store = tmp_path / "runs.db"
    rc, out = audit_playbook(inventory, str(store), tmp_path)
    assert rc != 0 and "Traceback" not in out, out
    assert f"the inventory {inventory} has no hosts to audit" in out, out
    assert not store.exists()


@pytest.mark.fault(
    "input",
    "playbooks/audit.yml with DRIFTVAKT_STORE naming a PostgreSQL server that does not answer",
    "the audit task fails with one line naming the store, before any host is contacted",
)
def test_the_audit_playbook_names_an_unreachable_store_in_one_line(tmp_path: Path) -> None:
    inventory = tmp_path / "hosts.yml"
    # a host nobody can reach: the store is opened first, so it is never tried
    inventory.write_text("all:\n  hosts:\n    web1:\n      ansible_host: 192.0.2.1\n", "utf-8")
    rc, out = audit_playbook(inventory, "postgresql://driftvakt@127.0.0.1:1/runs", tmp_path)
    assert rc != 0 and "Traceback" not in out, out
    failed = [line for line in out.splitlines() if '"msg":' in line or "msg:" in line]
    assert len(failed) == 1 and "cannot open run store" in failed[0], out
    assert "127.0.0.1:1" in failed[0], out
