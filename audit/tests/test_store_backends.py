"""The run store's versions and backends: an old SQLite store upgrades; PostgreSQL keeps one
chain with several writers at once; the driver is loaded only for a PostgreSQL store."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from driftvakt.cli import main
from driftvakt.export import receipts
from driftvakt.store import SCHEMA_VERSION, Store, StoreError

FIXTURES = Path(__file__).parent / "fixtures" / "store"
PACKAGE_ROOT = str(Path(__file__).resolve().parents[1])


def old_store(tmp_path: Path, dump: str = "schema2.sql") -> tuple[Path, str]:
    """An SQLite store as driftvakt df0c8f7 (schema 2) left it, and its chain head."""
    text = (FIXTURES / dump).read_text("utf-8")
    head = text.splitlines()[0].rsplit("chain head ", 1)[1].strip()
    path = tmp_path / "var" / "driftvakt.db"
    path.parent.mkdir(parents=True)
    db = sqlite3.connect(path)
    db.executescript(text)
    db.close()
    return path, head


def user_version(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return int(db.execute("PRAGMA user_version").fetchone()[0])
    finally:
        db.close()


def result(host: str, status: str = "pass") -> dict[str, Any]:
    return {"host": host, "control": "c", "status": status, "evidence": [], "reason": "",
            "duration": 0.1}  # fmt: skip


@pytest.mark.fault(
    "store",
    "a schema-2 store made by the previous release (runs, a prune anchor, change records, "
    "receipts)",
    "upgrades in place to the current schema; every run, record and receipt still reads and "
    "verifies",
)
def test_a_store_made_by_the_previous_release_upgrades_and_keeps_everything(
    tmp_path: Path,
) -> None:
    path, head = old_store(tmp_path)
    assert user_version(path) == 2
    with Store(path) as store:
        assert user_version(path) == SCHEMA_VERSION == 4
        assert store.head() == head
        assert store.verify() == []
        assert [r.id for r in store.runs()] == ["run-3", "run-4"]
        assert [r["host"] for r in store.load("run-4")["results"]] == ["db1", "web1"]
        assert [r.id for r in store.incomplete()] == ["run-5-killed"]
        record = store.change("change-1")
        assert (record.change_ref, record.status, [t.task for t in record.tasks]) == (
            "CHG-1",
            "ok",
            ["sshd config"],
        )
        assert [r.bundle for r in store.receipts()] == ["b.tar"]
        new = store.save({"id": "run-6", "started": "2026-02-01T00:00:00+00:00",
                          "finished": "", "results": [result("web1")]})  # fmt: skip
        assert new.prev_hash == head
        assert store.verify() == []
    with Store(path) as again:  # opening an upgraded store changes nothing
        assert len(again.runs()) == 3 and again.verify() == []
    assert [r.run_id for r in receipts.receipts(path)] == ["run-4"]


@pytest.mark.fault(
    "store",
    "an old store whose chain forked (two runs linking to one predecessor)",
    "the upgrade stops with one line naming the schema step; the file stays at schema 2",
)
def test_an_old_store_with_a_forked_chain_is_not_upgraded(tmp_path: Path) -> None:
    path, _ = old_store(tmp_path)
    db = sqlite3.connect(path)
    with db:
        db.execute(
            "INSERT INTO runs (id, started, finished, prev_hash, hash, saved_at, content) "
            "SELECT 'fork', started, finished, prev_hash, hash, saved_at, content FROM runs "
            "WHERE id = 'run-4'"
        )
    db.close()
    with pytest.raises(StoreError, match=r"upgrading to schema 3 failed .*UNIQUE") as caught:
        Store(path)
    assert "\n" not in str(caught.value)
    assert user_version(path) == 2


@pytest.mark.fault(
    "store",
    "a schema-3 store made by the release before run groups (runs staged host by host)",
    "upgrades to schema 4: its runs belong to no group and still verify; a new run's group is "
    "stored, found, hashed and checked by verify",
)
def test_a_schema_3_store_upgrades_to_run_groups(tmp_path: Path) -> None:
    path, head = old_store(tmp_path, "schema3.sql")
    assert user_version(path) == 3
    with Store(path) as store:
        assert user_version(path) == 4
        assert store.head() == head and store.verify() == []
        assert [r.id for r in store.runs()] == ["run-1", "run-2"]
        assert store.group_runs("") == ["run-1", "run-2"]  # the old runs: no group
        for n, host in enumerate(["web1", "db1"]):
            store.save({"id": f"slice-{n}", "started": "2026-03-03T02:30:00+00:00",
                        "finished": "", "run_group": "awx-7", "hosts": [host],
                        "results": [result(host)]})  # fmt: skip
        assert store.group_runs("awx-7") == ["slice-0", "slice-1"]
        assert store.group_before("awx-7") == ""  # run-2, which has no group
        assert store.group_runs("awx-8") == [] and store.verify() == []
    db = sqlite3.connect(path)
    with db:  # the column is a copy of the hashed JSON: a moved run is named
        db.execute("UPDATE runs SET run_group = 'awx-9' WHERE id = 'slice-1'")
    db.close()
    with Store(path) as store:
        assert store.verify() == [
            "run seq 4 (slice-1): id/started/finished/run_group columns do not match the run JSON"
        ]


def test_a_newer_store_is_refused(tmp_path: Path) -> None:
    path, _ = old_store(tmp_path)
    Store(path).close()
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(StoreError, match="schema 99, newer than this driftvakt"):
        Store(path)


# -- PostgreSQL --------------------------------------------------------------------------

WRITER = """
import sys, uuid
from driftvakt.store import Store
url, n, me = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with Store(url) as s:
    for i in range(n):
        run_id = f"{me}-{i}-{uuid.uuid4().hex[:6]}"
        meta = {"id": run_id, "started": "2026-01-01T00:00:00+00:00", "finished": "",
                "hosts": [me]}
        s.begin(meta)
        s.stage(run_id, [{"host": me, "control": "c", "status": "pass", "evidence": [str(i)],
                          "reason": "", "duration": 0.1}])
        s.save_staged(meta)
"""


def child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, **extra)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [PACKAGE_ROOT, env.get("PYTHONPATH")]))
    return env


@pytest.mark.fault(
    "store",
    "4 controllers appending to one PostgreSQL store at once (100 runs)",
    "one chain: every run links to the one before it, 0 forks, `store verify` intact",
)
def test_four_writer_processes_keep_one_chain_in_postgresql(
    postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    Store(postgres_url).close()  # the schema first, so the writers race on appends only
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, postgres_url, "25", f"w{n}"], env=child_env()
        )
        for n in range(4)
    ]
    assert [p.wait(timeout=300) for p in procs] == [0, 0, 0, 0]
    with Store(postgres_url) as store:
        runs = store.runs()
        assert len(runs) == 100
        assert [r.seq for r in runs] == list(range(1, 101))
        links = [r.prev_hash for r in runs]
        assert len(set(links)) == 100  # 0 forks: no two runs share a predecessor
        assert all(runs[i].prev_hash == runs[i - 1].hash for i in range(1, 100))
        assert {r.id.split("-")[0] for r in runs} == {"w0", "w1", "w2", "w3"}
        assert store.verify() == [] and store.incomplete() == []
    assert main(["store", "verify", "--store", postgres_url]) == 0
    assert "run store intact: 100 runs" in capsys.readouterr().out


OPEN = "import sys; from driftvakt.store import Store; Store(sys.argv[1]).close()"


@pytest.mark.fault(
    "store",
    "4 controllers opening a new PostgreSQL store at the same moment",
    "one makes the tables, the others wait and use them (was: 'holds tables but is not a "
    "driftvakt store')",
)
def test_controllers_opening_a_new_postgresql_store_at_once_all_succeed(
    pg_cluster: Any,
) -> None:
    for _ in range(3):  # the race was lost about every other time
        url = pg_cluster.new_database()
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", OPEN, url], env=child_env(), stderr=subprocess.PIPE
            )
            for _ in range(4)
        ]
        outcomes = [(p.wait(timeout=120), p.stderr.read()) for p in procs]  # type: ignore[union-attr]
        assert [code for code, _ in outcomes] == [0, 0, 0, 0], outcomes


def test_postgresql_refuses_a_second_run_on_the_same_predecessor(postgres_url: str) -> None:
    """UNIQUE (prev_hash): the guard behind the chain lock, should anything append without it."""
    import psycopg

    with Store(postgres_url) as store:
        first = store.save({"id": "a", "started": "2026-01-01T00:00:00+00:00",
                            "finished": "", "results": [result("h")]})  # fmt: skip
    with psycopg.connect(postgres_url) as db, pytest.raises(psycopg.errors.UniqueViolation):
        db.execute(
            "INSERT INTO runs (seq, id, started, finished, prev_hash, hash, saved_at, content) "
            "VALUES (2, 'fork', '', '', %s, '', '', '{}')",
            (first.prev_hash,),
        )


def test_verify_names_an_edit_in_a_postgresql_store(
    postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import psycopg

    with Store(postgres_url) as store:
        for n in range(3):
            store.save({"id": f"r{n}", "started": "2026-01-01T00:00:00+00:00",
                        "finished": "", "results": [result("h", "fail")]})  # fmt: skip
    with psycopg.connect(postgres_url) as db:
        db.execute("UPDATE results SET content = replace(content, 'fail', 'pass') "
                   "WHERE run_seq = 2")  # fmt: skip
    with Store(postgres_url) as store:
        found = store.verify()
    assert any("run seq 2 (r1) was edited" in line for line in found), found
    assert main(["store", "verify", "--store", postgres_url]) == 2
    assert "TAMPERED: run seq 2 (r1) was edited" in capsys.readouterr().out


def test_postgresql_store_holds_changes_and_receipts_and_is_found_by_the_environment(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    receipt = receipts.Receipt("r", "b.tar", "0" * 64, "sftp://u@h:22", "/in/b.tar", "k", "t", 1)
    receipts.record(postgres_url, receipt)
    assert receipts.receipts(postgres_url) == [receipt]
    with Store(postgres_url) as store:
        store.save({"id": "r", "started": "2026-01-01T00:00:00+00:00", "finished": "",
                    "results": [result("h")]})  # fmt: skip
    monkeypatch.setenv("DRIFTVAKT_STORE", postgres_url)
    assert main(["store", "verify"]) == 0  # no --store: the environment names it
    assert "1 runs" in capsys.readouterr().out
    assert main(["export", "--list"]) == 0
    assert "sftp://u@h:22/in/b.tar" in capsys.readouterr().out


@pytest.mark.fault(
    "store",
    "--store names a PostgreSQL database that holds no store, or a server that is down",
    "one line naming the URL without its password; nothing is created",
)
def test_a_missing_postgresql_store_or_server_is_one_line(
    postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import psycopg

    assert main(["store", "verify", "--store", postgres_url]) == 3
    err = capsys.readouterr().err
    assert "no run store at postgresql://" in err and "nothing was created" in err
    with psycopg.connect(postgres_url) as db:
        tables = db.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
    assert tables == (0,)
    down = "postgresql://someone:hunter2@127.0.0.1:1/none"
    with pytest.raises(StoreError, match=r"cannot open run store .*someone:\*\*\*@") as caught:
        Store(down, timeout=2)
    assert "hunter2" not in str(caught.value) and "\n" not in str(caught.value)


def test_an_sqlite_audit_never_imports_the_postgresql_driver(tmp_path: Path) -> None:
    code = (
        "import sys; from driftvakt.store import Store; "
        f"s = Store({str(tmp_path / 's.db')!r}); s.save({{'id': 'r', 'results': []}}); "
        "print('psycopg' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=child_env(), capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_the_test_server_is_real() -> None:
    """The PostgreSQL tests run against Debian's server, which .ci/setup installs."""
    assert shutil.which("runuser") and sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))


def test_two_controllers_audit_disjoint_slices_into_one_postgresql_store_at_once(
    tmp_path: Path, postgres_url: str
) -> None:
    """Two `driftvakt audit` processes at once, each a slice of a simulated fleet (AWX's
    ``[k::2]`` of the name-sorted hosts), into one PostgreSQL store: each slice is a whole run,
    the two are chained one after the other, and the store verifies."""
    from fleetsim import fleet, plan

    hosts = plan(6, 90 + os.getpid() % 10)
    names = sorted(h.name for h in hosts)
    with fleet(hosts, tmp_path) as sim:
        procs = []
        for k in range(2):
            work = tmp_path / f"controller{k}"
            work.mkdir()
            command = [
                str(Path(sys.executable).parent / "driftvakt"), "audit", "-q",
                "-i", str(sim.inventory), "--limit", ":".join(names[k::2]),
                "-o", str(work / "run.json"), "--timeout", "10",
            ]  # fmt: skip
            procs.append(
                subprocess.Popen(
                    command,
                    cwd=work,  # a server store's prefetch cache: this controller's var/
                    env=child_env(DRIFTVAKT_STORE=postgres_url),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                )
            )
        outcomes = [(p.wait(timeout=300), p.stderr.read()) for p in procs]  # type: ignore[union-attr]
    # exit 1: the recorded hardened lab host fails auditd_running (no auditd in a container),
    # the same for one controller; nothing about the store on stderr
    assert outcomes == [(1, b""), (1, b"")], outcomes
    with Store(postgres_url) as store:
        runs = store.runs()
        assert len(runs) == 2 and runs[1].prev_hash == runs[0].hash
        assert store.verify() == []
        covered = sorted(h for r in runs for h in store.outline(r.id).hosts)
    assert covered == names
    for k in range(2):
        run = json.loads((tmp_path / f"controller{k}" / "run.json").read_text())
        assert sorted({r["host"] for r in run["results"]}) == names[k::2]
    assert (tmp_path / "controller0" / "var" / "driftvakt.prefetch.json").is_file()


def test_a_postgresql_store_without_psycopg_says_what_to_install(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['psycopg'] = None  # as if the extra were not installed\n"
        "from driftvakt.cli import main\n"
        "sys.exit(main(['store', 'verify', '--store', 'postgresql://a@127.0.0.1:1/db']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=child_env(), capture_output=True, text=True, check=False
    )
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        "driftvakt: a PostgreSQL run store needs psycopg 3: pip install 'driftvakt[postgres]' "
        "(or use a file path for the embedded SQLite store)"
    ]
