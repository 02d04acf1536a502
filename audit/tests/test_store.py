"""The run store: roundtrip, a tamper-evident chain, pruning, concurrent writers, killed saves."""

from __future__ import annotations

import json
import os
import select
import signal
import sqlite3
import subprocess
import sys
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import driftvakt
import driftvakt.store.chain as chain_module
from driftvakt.errors import BadInputError
from driftvakt.results import Result, Run, Status
from driftvakt.store import (
    GENESIS_HASH,
    SCHEMA_VERSION,
    Store,
    StoreError,
    canonical_json,
    chain_hash,
    headlog,
)

PACKAGE_ROOT = str(Path(driftvakt.__file__).resolve().parents[1])


def make_run(
    started: datetime | None = None, status: Status = Status.FAIL, run_id: str | None = None
) -> dict[str, Any]:
    when = (started or datetime.now(UTC)).isoformat(timespec="seconds")
    run = Run(
        id=run_id or str(uuid.uuid4()),
        started=when,
        finished=when,
        user="ops",
        driftvakt_version="0.1.0",
        baseline_revision="abc123",
        inventory="inventory.yml",
        limit=None,
        hosts=["web1", "db1"],
        results=[
            Result("web1", "ntp-servers", status, ["server ntp1.region.example iburst"], "", 0.5),
            Result("web1", "ssh-root-login", Status.PASS, ["PermitRootLogin no"], "", 0.25),
            Result("db1", "ntp-servers", Status.ERROR, [], "ssh: timed out åäö", 10.0),
        ],
    )
    data: dict[str, Any] = run.to_json()
    return data


def roundtrip(run: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(json.dumps(run))
    return result


def raw(path: Path, sql: str, *args: Any) -> None:
    db = sqlite3.connect(path)
    with db:
        db.execute(sql, args)
    db.close()


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [PACKAGE_ROOT, env.get("PYTHONPATH")]))
    return env


@pytest.fixture
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """An SQLite store, or (a test marked BOTH_BACKENDS) a PostgreSQL one too."""
    backend = getattr(request, "param", "sqlite")
    location: Path | str = tmp_path / "var" / "driftvakt.db"
    if backend == "postgresql":
        location = request.getfixturevalue("postgres_url")
    with Store(location) as s:
        yield s


# The tests that touch no SQLite file directly run against both backends.
BOTH_BACKENDS = pytest.mark.parametrize("store", ["sqlite", "postgresql"], indirect=True)


@BOTH_BACKENDS
def test_save_load_roundtrip_and_queries(store: Store) -> None:
    first, second, third = make_run(), make_run(status=Status.PASS), make_run()
    saved = [store.save(run) for run in (first, second, third)]
    assert [s.seq for s in saved] == [1, 2, 3]
    assert saved[0].prev_hash == GENESIS_HASH
    assert saved[1].prev_hash == saved[0].hash
    assert saved[0].counts == {"fail": 1, "pass": 1, "error": 1}
    assert store.load(first["id"]) == roundtrip(first)
    assert store.load(second["id"][:8]) == roundtrip(second)
    assert [r.id for r in store.runs()] == [first["id"], second["id"], third["id"]]
    assert store.runs()[2].counts == {"fail": 1, "pass": 1, "error": 1}
    assert [r["id"] for r in store.latest(2)] == [third["id"], second["id"]]
    assert store.latest()[0]["id"] == third["id"]
    assert store.before(third["id"]) == roundtrip(second)
    assert store.before(first["id"]) is None
    assert store.head() == saved[2].hash
    assert store.verify() == []


def test_schema_is_versioned_and_in_wal_mode(store: Store) -> None:
    db = sqlite3.connect(store.path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()
    with Store(store.path) as again:  # reopening keeps what is there
        assert again.runs() == store.runs()


@BOTH_BACKENDS
def test_since_and_as_of_use_the_start_time(store: Store) -> None:
    now = datetime.now(UTC)
    old, mid, new = (make_run(now - timedelta(days=d)) for d in (10, 3, 0))
    for run in (old, mid, new):
        store.save(run)
    assert [r["id"] for r in store.since(now - timedelta(days=5))] == [mid["id"], new["id"]]
    naive = (now - timedelta(days=5)).replace(tzinfo=None)
    assert [r["id"] for r in store.since(naive)] == [mid["id"], new["id"]]
    baseline = store.as_of(now - timedelta(days=1))
    assert baseline is not None
    assert baseline["id"] == mid["id"]
    assert store.as_of(now - timedelta(days=30)) is None


@BOTH_BACKENDS
def test_unknown_ambiguous_and_duplicate_runs_are_clear_errors(store: Store) -> None:
    a = make_run(run_id="abc-1")
    store.save(a)
    store.save(make_run(run_id="abc-2"))
    with pytest.raises(StoreError, match="ambiguous"):
        store.load("abc")
    with pytest.raises(StoreError, match="no stored run"):
        store.load("zzz")
    with pytest.raises(StoreError, match="already stored"):
        store.save(a)
    with pytest.raises(StoreError, match="no id"):
        store.save({"results": []})
    assert store.verify() == []


def test_a_file_that_is_not_a_store_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.db"
    bogus.write_text("not a database at all, just text\n" * 100)
    with pytest.raises(StoreError, match="not a usable run store"):
        Store(bogus)


def test_editing_a_run_is_named_by_verify(store: Store) -> None:
    runs = [make_run() for _ in range(3)]
    for run in runs:
        store.save(run)
    edited = json.dumps({**runs[1], "user": "mallory"}, sort_keys=True, separators=(",", ":"))
    raw(store.path, "UPDATE runs SET content = ? WHERE seq = 2", edited)
    problems = store.verify()
    assert len(problems) == 1
    assert "seq 2" in problems[0]
    assert runs[1]["id"] in problems[0]
    assert "edited" in problems[0]


def test_editing_a_run_and_its_hash_breaks_the_next_link(store: Store) -> None:
    runs = [make_run() for _ in range(3)]
    for run in runs:
        store.save(run)
    raw(store.path, "UPDATE runs SET hash = ? WHERE seq = 2", "f" * 64)
    problems = store.verify()
    assert any("seq 2" in p and "edited" in p for p in problems)
    assert any("seq 3" in p and "does not link" in p for p in problems)


def test_editing_a_results_row_is_named_by_verify(store: Store) -> None:
    run = make_run()
    store.save(run)
    raw(store.path, "UPDATE results SET status = 'pass' WHERE run_seq = 1 AND status = 'fail'")
    problems = store.verify()
    assert len(problems) == 1
    assert "seq 1" in problems[0]
    assert "results rows" in problems[0]


def test_deleting_a_middle_run_is_named_by_verify(store: Store) -> None:
    runs = [make_run() for _ in range(4)]
    for run in runs:
        store.save(run)
    raw(store.path, "DELETE FROM results WHERE run_seq = 2")
    raw(store.path, "DELETE FROM runs WHERE seq = 2")
    problems = store.verify()
    assert len(problems) == 2
    assert "seq 3" in problems[0]
    assert runs[2]["id"] in problems[0]
    assert "deleted" in problems[0]
    assert "run seq 2" in problems[1] and "is not in the store" in problems[1]  # head log


def test_deleting_the_newest_run_shows_as_a_gap_once_the_chain_goes_on(store: Store) -> None:
    for _ in range(3):
        store.save(make_run())
    raw(store.path, "DELETE FROM results WHERE run_seq = 3")
    raw(store.path, "DELETE FROM runs WHERE seq = 3")
    store.save(make_run())
    problems = store.verify()
    assert len(problems) == 2
    assert "seq 3 missing" in problems[0]
    assert "run seq 3" in problems[1] and "is not in the store" in problems[1]  # head log


@pytest.mark.fault(
    "store", "the newest runs deleted from the store", "`store verify` names them (was: intact)"
)
def test_deleting_the_newest_runs_is_found_against_the_head_log(store: Store) -> None:
    # A local chain cannot show its own newest runs gone; the head log beside it can.
    runs = [make_run() for _ in range(3)]
    for run in runs:
        store.save(run)
    exported = store.head()
    raw(store.path, "DELETE FROM results WHERE run_seq = 3")
    raw(store.path, "DELETE FROM runs WHERE seq = 3")
    [problem] = store.verify()
    assert f"run seq 3 ({runs[2]['id']}" in problem
    assert "runs were deleted" in problem
    # Without the head log (deleted too), a hash kept elsewhere (a signed export) still tells.
    headlog.log_path(store.path).unlink()
    assert store.verify() == []  # the documented limit of a chain with no anchor outside it
    problems = store.verify(known_hashes=[exported])
    assert len(problems) == 1
    assert "not in the chain" in problems[0]


@pytest.mark.fault(
    "store", "the store file emptied", "`store verify` names every logged run (was: intact)"
)
def test_an_emptied_store_file_is_found(store: Store) -> None:
    for _ in range(2):
        store.save(make_run())
    path = store.path
    store.close()
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if leftover.exists():
            leftover.write_bytes(b"")
    with Store(path) as emptied:
        problems = emptied.verify()
    assert [p.split(" (")[0] for p in problems] == ["run seq 1", "run seq 2"]
    assert all("store was emptied" in p for p in problems)


@pytest.mark.fault(
    "store",
    "the whole chain rewritten with recomputed hashes",
    "`store verify` names every changed run (was: intact)",
)
def test_a_chain_rewritten_with_recomputed_hashes_is_found(store: Store) -> None:
    for _ in range(2):
        store.save(make_run())
    path = store.path
    log = headlog.log_path(path).read_bytes()
    store.close()
    for leftover in path.parent.glob(path.name + "*"):
        leftover.unlink()
    with Store(path) as forged:  # a whole new, internally consistent chain
        forged.save(make_run())
        forged.save(make_run())
        headlog.log_path(path).write_bytes(log)  # the log outside kept the real heads
        problems = forged.verify()
    assert len(problems) == 2
    assert all("another hash than when it was saved" in p for p in problems)


def test_an_edited_head_log_line_is_named(store: Store) -> None:
    store.save(make_run())
    log = headlog.log_path(store.path)
    log.write_text(log.read_text() + "not json\n")
    [problem] = store.verify()
    assert problem.endswith(":2 is not a head entry: it was edited")


def test_verify_never_creates_a_store(tmp_path: Path) -> None:
    missing = tmp_path / "typo.db"
    with pytest.raises(BadInputError, match=r"no run store at .*typo\.db"):
        Store(missing, create=False)
    assert not missing.exists()


def test_the_store_and_its_head_log_are_private(store: Store) -> None:
    store.save(make_run())
    assert store.path.stat().st_mode & 0o777 == 0o600
    assert headlog.log_path(store.path).stat().st_mode & 0o777 == 0o600


def test_prune_keeps_verify_clean_and_later_edits_are_still_found(store: Store) -> None:
    now = datetime.now(UTC)
    runs = [make_run(now - timedelta(days=d)) for d in (40, 35, 30, 10, 1)]
    for run in runs:
        store.save(run)
    kept_hash = store.runs()[3].hash
    assert store.prune(timedelta(days=20)) == 3
    assert [r.id for r in store.runs()] == [runs[3]["id"], runs[4]["id"]]
    assert store.verify() == []
    assert store.verify(known_hashes=[kept_hash]) == []
    db = sqlite3.connect(store.path)
    anchors = db.execute("SELECT seq, count FROM chain_anchors").fetchall()
    leftover = db.execute("SELECT count(*) FROM results WHERE run_seq <= 3").fetchone()[0]
    db.close()
    assert anchors == [(3, 3)]
    assert leftover == 0
    assert store.prune(timedelta(days=20)) == 0

    store.save(make_run())
    assert store.verify() == []
    raw(store.path, "UPDATE runs SET content = replace(content, 'ops', 'eve') WHERE seq = 4")
    problems = store.verify()
    assert len(problems) == 1
    assert "seq 4" in problems[0]
    assert runs[3]["id"] in problems[0]


@BOTH_BACKENDS
def test_prune_never_drops_the_newest_run_and_the_chain_goes_on(store: Store) -> None:
    now = datetime.now(UTC)
    for d in (9, 8, 7):
        store.save(make_run(now - timedelta(days=d)))
    assert store.prune(timedelta(0)) == 2
    assert len(store.runs()) == 1
    assert store.prune(timedelta(0)) == 0
    store.save(make_run())
    assert store.verify() == []


def test_deleting_the_first_kept_run_after_a_prune_is_found(store: Store) -> None:
    now = datetime.now(UTC)
    for d in (9, 8, 2, 1):
        store.save(make_run(now - timedelta(days=d)))
    assert store.prune(timedelta(days=5)) == 2
    raw(store.path, "DELETE FROM results WHERE run_seq = 3")
    raw(store.path, "DELETE FROM runs WHERE seq = 3")
    problems = store.verify()
    assert len(problems) == 2
    assert "seq 4" in problems[0]
    assert "prune anchor" in problems[0]
    assert "run seq 3" in problems[1] and "is not in the store" in problems[1]  # head log


def test_prune_refuses_a_broken_chain(store: Store) -> None:
    now = datetime.now(UTC)
    for d in (9, 8, 1):
        store.save(make_run(now - timedelta(days=d)))
    raw(store.path, "UPDATE runs SET content = replace(content, 'ops', 'eve') WHERE seq = 1")
    with pytest.raises(StoreError, match="refusing to prune"):
        store.prune(timedelta(days=5))
    assert len(store.runs()) == 3


def test_two_stores_writing_from_threads(tmp_path: Path) -> None:
    path = tmp_path / "driftvakt.db"
    Store(path).close()
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            with Store(path) as s:
                for _ in range(15):
                    s.save(make_run())
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    with Store(path) as s:
        assert len(s.runs()) == 30
        assert s.verify() == []


WRITER = """
import sys, uuid
from pathlib import Path
from driftvakt.store import Store
with Store(Path(sys.argv[1])) as s:
    for i in range(int(sys.argv[2])):
        run_id = str(uuid.uuid4())
        s.begin({"id": run_id, "started": "2024-01-01T00:00:00+00:00"})
        s.save({"id": run_id, "started": "2024-01-01T00:00:00+00:00", "finished": "",
                "hosts": ["h"], "results": [{"host": "h", "control": "c", "status": "pass",
                "evidence": [str(i)], "reason": "", "duration": 0.1}]})
"""


def test_two_processes_writing_concurrently(tmp_path: Path) -> None:
    path = tmp_path / "driftvakt.db"
    Store(path).close()
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), "20"], env=child_env())
        for _ in range(2)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    with Store(path) as s:
        assert len(s.runs()) == 40
        assert s.verify() == []
        assert s.incomplete() == []


KILLED_MID_SAVE = """
import json, sys, time
from pathlib import Path
import driftvakt.store as store
import driftvakt.store.writing as writing

real = writing.result_row

def slow(run_seq, idx, result):
    if idx == 1:  # the run row and one result row are written, nothing committed
        print("inside", flush=True)
        time.sleep(300)
    return real(run_seq, idx, result)

writing.result_row = slow
run = json.loads(sys.argv[2])
with store.Store(Path(sys.argv[1])) as s:
    s.begin({k: v for k, v in run.items() if k != "results"})
    s.save(run)
"""


def test_a_save_killed_before_commit_leaves_no_half_run(tmp_path: Path) -> None:
    path = tmp_path / "driftvakt.db"
    with Store(path) as s:
        earlier = [make_run() for _ in range(2)]
        for run in earlier:
            s.save(run)
    doomed = make_run()
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_MID_SAVE, str(path), json.dumps(doomed)],
        stdout=subprocess.PIPE,
        text=True,
        env=child_env(),
    )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        assert ready, "the child never got inside the transaction"
        assert proc.stdout.readline().strip() == "inside"

        with Store(path, timeout=0.3) as other:
            assert [r.id for r in other.runs()] == [r["id"] for r in earlier]  # readers go on
            with pytest.raises(StoreError, match="busy") as busy:
                other.save(make_run())
            assert "\n" not in str(busy.value)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL

    with Store(path) as s:
        assert [r.id for r in s.runs()] == [r["id"] for r in earlier]
        assert s.verify() == []
        assert [i.id for i in s.incomplete()] == [doomed["id"]]
        assert s.incomplete()[0].meta["started"] == doomed["started"]
        with pytest.raises(StoreError, match="no stored run"):
            s.load(doomed["id"])
        db = sqlite3.connect(path)
        assert db.execute("SELECT count(*) FROM results WHERE run_seq > 2").fetchone()[0] == 0
        db.close()
        # the lock is gone with the process: the chain goes on, and the run can still be saved
        s.save(doomed)
        assert s.incomplete() == []
        assert s.abandon(doomed["id"]) is False
        assert s.verify() == []


@BOTH_BACKENDS
def test_begin_then_save_clears_the_in_progress_row(store: Store) -> None:
    run = make_run()
    run_id = store.begin({k: v for k, v in run.items() if k != "results"})
    assert run_id == run["id"]
    assert [i.id for i in store.incomplete()] == [run_id]
    assert store.incomplete()[0].pid == os.getpid()
    store.save(run)
    assert store.incomplete() == []
    other = store.begin({"started": "2024-01-01T00:00:00+00:00"})
    assert store.abandon(other) is True
    assert store.incomplete() == []


# -- runs written host by host (schema 2) -----------------------------------------------------


def staged(store: Store, run: dict[str, Any], hosts: list[str]) -> Any:
    """Begin ``run``, stage its results host by host in the order given, then save it."""
    meta = {k: v for k, v in run.items() if k != "results"}
    store.begin(meta)
    for host in hosts:
        store.stage(run["id"], [r for r in run["results"] if r["host"] == host])
    return store.save_staged(meta)


def test_a_run_staged_host_by_host_hashes_as_the_whole_run_and_verifies(store: Store) -> None:
    first = make_run()
    store.save(first)
    run = make_run()
    saved = staged(store, run, ["web1", "db1"])  # hosts finish in any order
    by_host = sorted(run["results"], key=lambda r: r["host"])  # stable: web1's order kept
    whole = {**run, "results": by_host}
    # The hashed text is the whole run's canonical JSON, as a schema-1 store hashed it.
    assert saved.hash == chain_hash(store.runs()[0].hash, canonical_json(whole))
    assert saved.counts == {"fail": 1, "pass": 1, "error": 1}
    assert store.load(run["id"]) == roundtrip(whole)
    assert list(store.iter_results(run["id"])) == roundtrip(by_host)
    assert [r["control"] for r in store.host_results(run["id"], "web1")] == [
        "ntp-servers",
        "ssh-root-login",
    ]
    outline = store.outline(run["id"])
    assert (outline.hosts, outline.controls, outline.count) == (
        ("db1", "web1"),
        ("ntp-servers", "ssh-root-login"),
        3,
    )
    assert "results" not in outline.meta
    before = store.outline_before(run["id"])
    assert before is not None
    assert before.meta["id"] == first["id"]
    assert store.incomplete() == []
    assert store.verify() == []
    db = sqlite3.connect(store.path)
    assert db.execute("SELECT count(*) FROM results_in_progress").fetchone()[0] == 0
    db.close()


def test_an_interrupted_staged_run_is_incomplete_and_never_half_present(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    earlier = make_run()
    store.save(earlier)
    run = make_run()
    meta = {k: v for k, v in run.items() if k != "results"}
    store.begin(meta)
    store.stage(run["id"], [r for r in run["results"] if r["host"] == "web1"])
    # killed before the last host: the run is incomplete, nothing of it is a run yet
    with Store(store.path) as after_crash:
        assert [i.id for i in after_crash.incomplete()] == [run["id"]]
        assert [r.id for r in after_crash.runs()] == [earlier["id"]]
        assert after_crash.verify() == []
        with pytest.raises(StoreError, match="no stored run"):
            after_crash.load(run["id"])

    # a save that fails half-way through the chaining leaves everything as it was
    calls = 0
    real_add = chain_module.RunDigest.add

    def failing_add(self: Any, result_json: str) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise OSError("killed")
        real_add(self, result_json)

    store.stage(run["id"], [r for r in run["results"] if r["host"] == "db1"])
    monkeypatch.setattr(chain_module.RunDigest, "add", failing_add)
    with pytest.raises(OSError, match="killed"):
        store.save_staged(meta)
    monkeypatch.setattr(chain_module.RunDigest, "add", real_add)
    assert [r.id for r in store.runs()] == [earlier["id"]]
    assert [i.id for i in store.incomplete()] == [run["id"]]
    assert store.verify() == []
    saved = store.save_staged(meta)  # the staged results survived: the run can still be saved
    assert saved.counts == {"fail": 1, "pass": 1, "error": 1}
    assert store.verify() == []

    other = store.begin({"started": "2024-01-01T00:00:00+00:00"})
    store.stage(other, [run["results"][0]])
    assert store.abandon(other) is True
    db = sqlite3.connect(store.path)
    assert db.execute("SELECT count(*) FROM results_in_progress").fetchone()[0] == 0
    db.close()
    with pytest.raises(StoreError, match="not begun"):
        store.stage(other, [run["results"][0]])
    with pytest.raises(StoreError, match="not begun"):
        store.save_staged({"id": other})


def test_edits_to_a_row_wise_run_are_named_by_verify(store: Store) -> None:
    for _ in range(3):
        store.save(make_run())
    raw(
        store.path,
        "UPDATE results SET content = replace(content, 'ntp1', 'ntp9') WHERE run_seq = 2",
    )
    problems = store.verify()
    assert any("seq 2" in p and "edited" in p for p in problems)
    assert all("seq 2" in p for p in problems)

    raw(
        store.path,
        "UPDATE results SET content = replace(content, 'ntp9', 'ntp1') WHERE run_seq = 2",
    )
    assert store.verify() == []
    raw(store.path, "DELETE FROM results WHERE run_seq = 3 AND idx = 1")
    assert any("seq 3" in p and "edited" in p for p in store.verify())


def test_changing_a_runs_layout_is_named_by_verify(store: Store) -> None:
    run = make_run()
    store.save(run)
    raw(store.path, "UPDATE runs SET layout = 'whole' WHERE seq = 1")
    problems = store.verify()
    assert problems
    assert any("seq 1" in p and "edited" in p for p in problems)


SCHEMA_1_RUNS = """
CREATE TABLE runs (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
    started TEXT NOT NULL, finished TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL,
    saved_at TEXT NOT NULL, content TEXT NOT NULL);
CREATE INDEX runs_started ON runs (started);
CREATE TABLE results (run_seq INTEGER NOT NULL REFERENCES runs (seq), idx INTEGER NOT NULL,
    host TEXT NOT NULL, control TEXT NOT NULL, status TEXT NOT NULL, evidence TEXT NOT NULL,
    reason TEXT NOT NULL, duration REAL NOT NULL, PRIMARY KEY (run_seq, idx));
CREATE INDEX results_host_control ON results (host, control);
CREATE INDEX results_status ON results (status);
CREATE TABLE chain_anchors (seq INTEGER PRIMARY KEY, hash TEXT NOT NULL, pruned_at TEXT NOT NULL,
    count INTEGER NOT NULL);
CREATE TABLE runs_in_progress (id TEXT PRIMARY KEY, started TEXT NOT NULL,
    begun_at TEXT NOT NULL, hostname TEXT NOT NULL, pid INTEGER NOT NULL, meta TEXT NOT NULL);
PRAGMA user_version = 1;
"""


def schema_1_store(path: Path, runs: list[dict[str, Any]]) -> None:
    """A store as schema 1 wrote it: each run's whole JSON in runs.content, hashed as such."""
    db = sqlite3.connect(path)
    db.executescript(SCHEMA_1_RUNS)
    prev = GENESIS_HASH
    with db:
        for seq, run in enumerate(runs, 1):
            content = canonical_json(run)
            digest = chain_hash(prev, content)
            db.execute(
                "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (seq, run["id"], run["started"], run["finished"], prev, digest, "x", content),
            )
            for idx, r in enumerate(run["results"]):
                db.execute(
                    "INSERT INTO results VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        seq,
                        idx,
                        r["host"],
                        r["control"],
                        r["status"],
                        canonical_json(r["evidence"]),
                        r["reason"],
                        r["duration"],
                    ),
                )
            prev = digest
    db.close()


def test_a_schema_1_store_is_upgraded_and_its_runs_still_verify(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = [make_run(), make_run()]
    schema_1_store(path, old)
    with Store(path) as s:
        assert s.verify() == []
        old_head = s.head()
        assert s.load(old[1]["id"]) == roundtrip(old[1])
        assert list(s.iter_results(old[1]["id"])) == roundtrip(old[1]["results"])
        assert [r["status"] for r in s.host_results(old[1]["id"], "web1")] == ["fail", "pass"]
        assert "results" not in s.outline(old[1]["id"]).meta
        new = make_run()
        saved = staged(s, new, ["db1", "web1"])
        assert saved.prev_hash == old_head
        assert s.verify(known_hashes=[old_head]) == []
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("SELECT layout FROM runs ORDER BY seq").fetchall() == [
        ("whole",),
        ("whole",),
        ("rows",),
    ]
    db.close()
    raw(path, "UPDATE runs SET content = replace(content, 'ops', 'eve') WHERE seq = 1")
    with Store(path) as s:
        problems = s.verify()
    assert len(problems) == 1
    assert "seq 1" in problems[0]
    # a schema-1 run passed off as row-wise (its hash still matches) is named too
    raw(path, "UPDATE runs SET content = replace(content, 'eve', 'ops') WHERE seq = 1")
    raw(path, "UPDATE runs SET layout = 'rows' WHERE seq = 2")
    with Store(path) as s:
        problems = s.verify()
    assert len(problems) == 1
    assert "seq 2" in problems[0]
    assert "layout" in problems[0]


def test_prune_drops_audits_killed_long_ago_with_their_staged_results(store: Store) -> None:
    now = datetime.now(UTC)
    for days in (40, 1):
        store.save(make_run(now - timedelta(days=days)))
    killed, running = make_run(), make_run()
    for run in (killed, running):
        store.begin({k: v for k, v in run.items() if k != "results"})
        store.stage(run["id"], run["results"])
    old = (now - timedelta(days=30)).isoformat()
    db = sqlite3.connect(store.path)
    with db:
        db.execute("UPDATE runs_in_progress SET begun_at = ? WHERE id = ?", (old, killed["id"]))
    db.close()
    assert store.prune(timedelta(days=20)) == 1
    assert [i.id for i in store.incomplete()] == [running["id"]], "a running audit stays"
    db = sqlite3.connect(store.path)
    staged = {row[0] for row in db.execute("SELECT DISTINCT run_id FROM results_in_progress")}
    db.close()
    assert staged == {running["id"]}
    assert store.verify() == []


@pytest.mark.fault(
    "input",
    "`store verify` on a mistyped path",
    "one line, exit 3, nothing created (was: an empty store reported intact)",
)
def test_store_verify_on_a_mistyped_path_is_one_line_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # It used to create an empty store there and report it intact.
    from driftvakt.cli import main

    missing = tmp_path / "var" / "driftvakt.dbb"
    assert main(["store", "verify", "--store", str(missing)]) == 3
    assert "no run store at" in capsys.readouterr().err
    assert not missing.exists()
    assert not missing.parent.exists()


def test_store_verify_takes_heads_kept_elsewhere(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    from driftvakt.cli import main

    store.save(make_run())
    kept = store.head()
    store.save(make_run())
    argv = ["store", "verify", "--store", str(store.path), "--known-hash", kept]
    assert main(argv) == 0
    assert "run store intact: 2 runs" in capsys.readouterr().out
    assert main([*argv, "--known-hash", "f" * 64]) == 2
    assert "is not in the chain" in capsys.readouterr().out


def test_an_edited_saved_at_decides_nothing(store: Store) -> None:
    # saved_at is not hashed: an old saved_at on a young run must not get it pruned.
    now = datetime.now(UTC)
    for days in (1, 0):
        store.save(make_run(now - timedelta(days=days)))
    raw(store.path, "UPDATE runs SET saved_at = '2001-01-01T00:00:00+00:00'")
    assert store.prune(timedelta(days=30)) == 0
    assert store.verify() == []


def test_one_hosts_results_are_found_by_index_not_by_walking_the_run(store: Store) -> None:
    # ORDER BY idx made SQLite walk the whole run per host: quadratic in the fleet (#13).
    from driftvakt.store.queries import HOST_RESULTS

    store.save(make_run())
    db = sqlite3.connect(store.path)
    plan = " ".join(str(row) for row in db.execute(f"EXPLAIN QUERY PLAN {HOST_RESULTS}", (1, "x")))
    db.close()
    assert "results_run_host" in plan, plan
