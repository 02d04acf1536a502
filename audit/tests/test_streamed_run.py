"""The audit's output read back host by host: the JSON file, the drift and the summary come out
as they did when the whole run was held in memory."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from driftvakt.audit import print_summary
from driftvakt.comparison import stored_drift
from driftvakt.drift import compare
from driftvakt.results import Result, Run, Status, write_json_atomic, write_run_json_atomic
from driftvakt.store import Store


def make_run(results: list[Result], hosts: list[str]) -> Run:
    return Run(
        id=str(uuid.uuid4()),
        started="2026-01-01T00:00:00+00:00",
        finished="2026-01-01T00:01:00+00:00",
        user="ops",
        driftvakt_version="0.1.0",
        baseline_revision="abc123",
        inventory="inventory.yml",
        limit=None,
        hosts=hosts,
        results=results,
    )


def save_staged(store: Store, run: Run) -> None:
    data = run.to_json()
    meta = {k: v for k, v in data.items() if k != "results"}
    store.begin(meta)
    for host in reversed(run.hosts):  # finishing in another order than the run's
        store.stage(run.id, [r for r in data["results"] if r["host"] == host])
    store.save_staged(meta)


BEFORE = [
    Result("db1", "ntp", Status.PASS, ["server a"], "", 0.5),
    Result("db1", "ssh", Status.FAIL, ["PermitRootLogin yes"], "root may log in", 0.25),
    Result("web1", "ntp", Status.ERROR, [], "ssh: timed out", 10.0),
    Result("web1", "fw", Status.PASS, ["policy drop"], "", 0.1),
]
AFTER = [
    Result("db1", "ntp", Status.FAIL, ["server b", "line\nbreak"], "wrong server", 0.5),
    Result("db1", "ssh", Status.FAIL, ["PermitRootLogin yes", "x"], "root may log in", 0.2),
    Result("web1", "ntp", Status.PASS, ["server a"], "", 1.0, {"rights": {"z": 1, "a": [2]}}),
    Result("web2", "ntp", Status.NOT_APPLICABLE, [], "no chrony", 0.0),
]


def test_the_streamed_json_file_is_the_one_written_whole(tmp_path: Path) -> None:
    run = make_run(AFTER, ["db1", "web1", "web2"])
    whole, streamed = tmp_path / "whole.json", tmp_path / "streamed.json"
    write_json_atomic(whole, run.to_json())
    data = run.to_json()
    write_run_json_atomic(streamed, {**data, "results": []}, iter(data["results"]))
    assert streamed.read_text() == whole.read_text()
    empty = make_run([], ["db1"])
    write_json_atomic(whole, empty.to_json())
    write_run_json_atomic(streamed, empty.to_json(), iter([]))
    assert streamed.read_text() == whole.read_text()
    assert set(tmp_path.iterdir()) == {whole, streamed}  # no temporary file left


def test_a_failed_stream_leaves_the_previous_file(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    out.write_text("previous\n")

    def broken() -> Any:
        yield {"host": "h"}
        raise OSError("store gone")

    with pytest.raises(OSError, match="store gone"):
        write_run_json_atomic(out, {"id": "x", "results": []}, broken())
    assert out.read_text() == "previous\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_drift_read_host_by_host_from_the_store_is_the_whole_runs_drift(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        first = make_run(BEFORE, ["db1", "web1"])
        second = make_run(AFTER, ["db1", "web1", "web2"])
        save_staged(store, first)
        assert stored_drift(store, first.id) == compare(None, store.load(first.id))
        save_staged(store, second)
        expected = compare(store.load(first.id), store.load(second.id))
        assert stored_drift(store, second.id) == expected
        assert expected.changes  # the runs differ: there is something to compare
        assert expected.hosts_appeared == ("web2",)


def test_the_summary_is_read_host_by_host(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Store(tmp_path / "s.db") as store:
        run = make_run(AFTER, ["web2", "db1", "web1"])
        save_staged(store, run)
        print_summary(run.hosts, lambda host: store.host_results(run.id, host), run.counts(), "en")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "web2: 0 pass, 0 fail, 0 error, 1 n/a"  # the inventory's order
    assert lines[1] == "db1: 0 pass, 2 fail, 0 error, 0 n/a"
    assert lines[2].split() == ["FAIL", "ntp:"]
    assert lines[3].strip() == "wrong server"
    assert lines[-1] == "total: 1 pass, 2 fail, 0 error, 1 not applicable, 0 waived"
