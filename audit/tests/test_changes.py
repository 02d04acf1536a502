"""Change records: the callback fed with ansible-core's own objects (inventory, play, task
results, stats), the store tables, the gate and the waiver actions, and `driftvakt changes`."""

from __future__ import annotations

import datetime as dt
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest
from ansible import context
from ansible.executor.stats import AggregateStats
from ansible.executor.task_result import CallbackTaskResult
from ansible.inventory.manager import InventoryManager
from ansible.module_utils.common.collections import ImmutableDict
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play import Play
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task
from ansible.plugins.loader import action_loader, callback_loader, connection_loader
from ansible.vars.manager import VariableManager

from driftvakt import changes, changes_view
from driftvakt.cli import main
from driftvakt.store import Store, StoreError

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"
callback_loader.add_directory(str(PLUGINS / "callback"))
action_loader.add_directory(str(PLUGINS / "action"))

INVENTORY = """\
all:
  hosts:
    web1: {driftvakt_environment: production}
    web2: {}
"""


@pytest.fixture
def play(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    inv = tmp_path / "hosts.yml"
    inv.write_text(INVENTORY)
    monkeypatch.setattr(
        context,
        "CLIARGS",
        ImmutableDict(
            extra_vars=("change_ref=CHG0042", "awx_user_name=anna", "awx_job_id=77"),
            inventory=(str(inv),),
            check=False,
        ),
    )
    monkeypatch.setenv("DRIFTVAKT_STORE", str(tmp_path / "store.db"))
    for suffix in ("ID", "STORE", "REF", "ERROR"):
        # set, then delete: monkeypatch then removes what the callback exports during the test
        monkeypatch.setenv(f"DRIFTVAKT_CHANGE_{suffix}", "")
        monkeypatch.delenv(f"DRIFTVAKT_CHANGE_{suffix}")
    loader = DataLoader()
    inventory = InventoryManager(loader=loader, sources=[str(inv)])
    manager = VariableManager(loader=loader, inventory=inventory)
    return Play.load({"hosts": "all", "tasks": []}, variable_manager=manager, loader=loader)


def _module(loader: Any, name: str) -> Any:
    """A repo plugin's Python module, as Ansible's plugin loader imported it."""
    return sys.modules[loader.get(name, class_only=True).__module__]


def _callback() -> Any:
    callback = callback_loader.get("driftvakt_changes")
    callback.set_options()
    return callback


def _task(name: str, tags: list[str], no_log: bool = False) -> Task:
    task = Task()
    task.name = name
    task.tags = tags
    task.no_log = no_log
    return task


def _result(play: Any, host: str, task: Task, data: dict[str, Any]) -> CallbackTaskResult:
    inventory = play.get_variable_manager()._inventory
    return CallbackTaskResult(inventory.get_host(host), task, data, {})


def test_callback_records_who_when_ref_hosts_and_each_changed_task(
    play: Any, tmp_path: Path
) -> None:
    callback = _callback()
    callback.v2_playbook_on_start(type("Playbook", (), {"_file_name": str(tmp_path / "site.yml")}))
    callback.v2_playbook_on_play_start(play)
    tmout = _task(
        "session_shell_idle_timeout | Render the read-only TMOUT",
        ["session_lock", "session_shell_idle_timeout"],
    )
    diff = {"before": "a\nb\n", "after": "a\nc\nd\n", "after_header": "/etc/profile.d/x.sh"}
    callback.v2_runner_on_ok(_result(play, "web1", tmout, {"changed": True, "diff": diff}))
    callback.v2_runner_on_ok(_result(play, "web2", tmout, {"changed": False}))
    secret = _task("accounts | Set the password", ["accounts"], no_log=True)
    censored = {"changed": True, "censored": "hidden", "_ansible_no_log": True}
    callback.v2_runner_on_ok(_result(play, "web2", secret, censored))
    sshd = _task("ssh_idle_timeout | Render", ["ssh", "ssh_idle_timeout"])
    failure = {"msg": "sshd -t: bad line $6$salt$hash\nsecond line"}
    callback.v2_runner_on_failed(_result(play, "web2", sshd, failure))
    stats = AggregateStats()
    for host, kind in (("web1", "ok"), ("web1", "changed"), ("web2", "ok"), ("web2", "failures")):
        stats.increment(kind, host)
    callback.v2_playbook_on_stats(stats)

    store = tmp_path / "store.db"
    (listed,) = changes.records(store)
    record = changes.load(store, listed.id[:8])
    assert (record.user, record.job, record.change_ref) == ("anna", "77", "CHG0042")
    assert record.environment == "production"
    assert record.hosts == ["web1", "web2"]
    assert record.status == "failed"  # web2 failed a task
    assert record.finished >= record.started
    assert [(t.host, t.status, t.controls, t.diff) for t in record.tasks] == [
        ("web1", "changed", ["session_shell_idle_timeout"], "/etc/profile.d/x.sh: +2 -1 lines"),
        ("web2", "changed", [], "censored (no_log)"),
        ("web2", "failed", ["ssh_idle_timeout"], "sshd -t: bad line [hash redacted]"),
    ]
    assert record.host_stats["web1"]["changed"] == 1


def test_diff_summary_never_holds_content() -> None:
    diff_summary = _module(callback_loader, "driftvakt_changes").diff_summary
    data = {"changed": True, "diff": [{"before": "pw=old\n", "after": "pw=new\n"}]}
    assert "pw" not in diff_summary(data)
    loop = {"results": [{"changed": True, "dest": "/etc/a"}, {"changed": False, "dest": "/b"}]}
    assert diff_summary(loop) == "/etc/a"


def test_unusable_store_is_reported_and_not_a_crash(play: Any, tmp_path: Path) -> None:
    bad = tmp_path / "store.db"
    bad.write_text("not a database")
    callback = _callback()
    callback.v2_playbook_on_play_start(play)
    assert callback.record is None
    assert "not recorded" in callback.failed_to_record
    gate = _action("driftvakt_change_gate")(change_ref="CHG0042", environment="production")
    assert gate["failed"] and "not a usable run store" in gate["msg"]


def test_gate_refuses_production_without_ref_or_record(
    play: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record_exists = _module(action_loader, "driftvakt_change_gate").record_exists
    gate = _action("driftvakt_change_gate")
    out = gate(change_ref="", environment="production")
    assert out["failed"] and "change_ref=CHG" in out["msg"]
    out = gate(change_ref="CHG 1; rm", environment="production")
    assert out["failed"] and "does not match" in out["msg"]
    out = gate(change_ref="CHG0042", environment="production")
    assert out["failed"] and "callback" in out["msg"]  # no record was begun
    assert not gate(change_ref="", environment="test").get("failed")
    assert not gate(change_ref="", environment="production", check=True).get("failed")

    _callback().v2_playbook_on_play_start(play)  # begins the record, exports its id
    out = gate(change_ref="CHG0042", environment="production")
    assert not out.get("failed"), out
    assert record_exists(str(tmp_path / "store.db"), "no-such-id").startswith("change record")


WAIVERS = """\
waivers:
  - control: session_shell_idle_timeout
    hosts: [web2]
    reason: kiosk terminal
    risk_analysis: RA-2026-099
    approver: Anna Andersson
    expires: 2099-01-01
  - control: ssh_idle_timeout
    hosts: [all]
    reason: expired exception
    risk_analysis: RA-2020-001
    approver: Anna Andersson
    expires: 2021-01-01
"""


def test_waivers_action_sets_the_waived_controls_per_host(tmp_path: Path) -> None:
    path = tmp_path / "waivers.yml"
    path.write_text(WAIVERS)
    waivers = _action("driftvakt_waivers")
    web2 = waivers(path=str(path), host="web2")["ansible_facts"]
    assert web2["driftvakt_waived_controls"] == ["session_shell_idle_timeout"]
    assert web2["driftvakt_waivers_applied"][0]["source"] == f"{path}:2"
    assert any(n.startswith("ENFORCED ssh_idle_timeout") for n in web2["driftvakt_waiver_notes"])
    assert waivers(path=str(path), host="web1")["ansible_facts"]["driftvakt_waived_controls"] == []
    path.write_text(WAIVERS.replace("control: ssh_idle_timeout", "control: no_such_control"))
    broken = waivers(path=str(path), host="web1")
    assert broken["failed"] and f"{path}:8" in broken["msg"]


def test_waivers_action_reads_the_file_beside_the_inventory_as_the_audit(tmp_path: Path) -> None:
    inventory = tmp_path / "prod"
    inventory.mkdir()
    waivers = _action("driftvakt_waivers")
    none = waivers(host="web2", sources=(str(inventory),))
    assert (
        none["ansible_facts"]["driftvakt_waived_controls"] == [] and "no waiver file" in none["msg"]
    )
    (tmp_path / "prod.waivers.yml").write_text(WAIVERS)
    found = waivers(host="web2", sources=(str(inventory),))
    assert found["ansible_facts"]["driftvakt_waived_controls"] == ["session_shell_idle_timeout"]


def _action(name: str) -> Any:
    """Run a repo action plugin the way the task executor does, minus the connection."""

    def run(
        host: str = "web1", sources: tuple[str, ...] = (), check: bool = False, **args: Any
    ) -> dict[str, Any]:
        task = Task()
        task.action = name
        task.args = args
        play_context = PlayContext()
        play_context.check_mode = check
        action = action_loader.get(
            name,
            task=task,
            connection=connection_loader.get("local", play_context),
            play_context=play_context,
            loader=DataLoader(),
            templar=None,
            shared_loader_obj=None,
        )
        facts = {
            "inventory_hostname": host,
            "group_names": [],
            "ansible_inventory_sources": sources,
        }
        return dict(action.run(task_vars=facts))

    return run


def test_changes_command_lists_and_details_with_audits_around(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store_path = tmp_path / "store.db"
    now = dt.datetime.now(dt.UTC)

    def audit(run_id: str, at: dt.datetime, status: str) -> None:
        result = {"host": "web1", "control": "ntp_service_enabled", "status": status}
        started = at.isoformat(timespec="seconds")
        run = {"id": run_id, "started": started, "finished": started, "hosts": ["web1"]}
        with Store(store_path) as store:
            store.save({**run, "results": [result]})

    audit("aaaa1111", now - dt.timedelta(hours=2), "fail")
    record = changes.ChangeRecord(
        id="c0ffee00-1",
        started=(now - dt.timedelta(hours=1)).isoformat(timespec="seconds"),
        user="anna",
        change_ref="CHG0042",
        environment="production",
        playbook="site.yml",
        inventory="inv",
        hosts=["web1"],
        check_mode=False,
    )
    changes.begin(store_path, record)
    record.finished = (now - dt.timedelta(minutes=50)).isoformat(timespec="seconds")
    record.status = "ok"
    record.tasks = [
        changes.TaskChange("web1", "ntp | start", ["ntp_service_enabled"], "changed", "")
    ]
    changes.finish(store_path, record)
    audit("bbbb2222", now - dt.timedelta(minutes=40), "pass")

    assert main(["changes", "--store", str(store_path), "--since", "1d", "--host", "web1"]) == 0
    assert "c0ffee00  " in capsys.readouterr().out
    assert main(["changes", "--store", str(store_path), "--host", "web9"]) == 0
    assert "no change records" in capsys.readouterr().out
    assert main(["changes", "c0ffee", "--store", str(store_path)]) == 0
    out = capsys.readouterr().out
    assert "audit before: run aaaa1111" in out and "audit after:  run bbbb2222" in out
    assert "web1 ntp_service_enabled: fail -> pass" in out
    assert "changed     web1       [ntp_service_enabled] ntp | start" in out
    assert main(["changes", "c0ffee", "--store", str(store_path), "--lang", "sv"]) == 0
    out = capsys.readouterr().out
    assert "ändrings-id CHG0042" in out and "granskning efter: körning bbbb2222" in out


def test_finish_without_begin_and_missing_store_are_errors(tmp_path: Path) -> None:
    record = changes.ChangeRecord("x", "2026-01-01T00:00:00+00:00", "u", "", "", "p", "", [], False)
    with pytest.raises(StoreError, match="never begun"):
        changes.finish(tmp_path / "s.db", record)
    with sqlite3.connect(tmp_path / "s.db") as db:
        assert db.execute("SELECT count(*) FROM change_tasks").fetchone() == (0,)
    with pytest.raises(StoreError, match="no run store"):
        changes.records(tmp_path / "absent.db")
    assert changes_view.listing([]) == "no change records match"


def test_callback_and_gate_use_a_postgresql_store_named_by_the_environment(
    play: Any, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The callback writes, and the gate reads, the change record through the store's functions
    only: a PostgreSQL store works the same (the gate once opened the file with raw SQL)."""
    monkeypatch.setenv("DRIFTVAKT_STORE", postgres_url)
    record_exists = _module(action_loader, "driftvakt_change_gate").record_exists
    callback = _callback()
    callback.v2_playbook_on_play_start(play)
    assert callback.record is not None, callback.failed_to_record
    out = _action("driftvakt_change_gate")(change_ref="CHG0042", environment="production")
    assert not out.get("failed"), out
    stats = AggregateStats()
    stats.increment("ok", "web1")
    callback.v2_playbook_on_stats(stats)
    (listed,) = changes.records(postgres_url)
    assert (listed.user, listed.change_ref, listed.status) == ("anna", "CHG0042", "ok")
    assert record_exists(postgres_url, "no-such-id").startswith("change record no-such-")
    assert "password" not in record_exists(postgres_url, "x")
