"""Change records: one per hardening run (``ansible-playbook site.yml``), in the run store's file.

Written by the Ansible callback ``plugins/callback/driftvakt_changes.py`` (SKA-SEC-14,
RSK-OPS-03, RST-9.2.1, RST-9.7.1): who, when, the change reference, the hosts, and every task
that changed or failed something on a host. The audit result before and after is not copied in:
:func:`audits_around` finds the stored audit runs nearest before and after the change that cover
its hosts, so a record links to the audit evidence instead of duplicating it.

The tables are created here (``CREATE TABLE IF NOT EXISTS``), not in store/schema.py, so the
store's schema version is untouched; the store is opened first so that a new file gets the
store's own schema. :func:`begin` commits the record's head when the play starts (a run killed
half-way stays listed as ``running``); :func:`finish` writes every task row and the outcome in
one transaction.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from driftvakt.store import DEFAULT_TIMEOUT, Store, StoreError

_TABLES = (
    """
    CREATE TABLE IF NOT EXISTS change_runs (
        id TEXT PRIMARY KEY,
        started TEXT NOT NULL,
        finished TEXT NOT NULL,
        user TEXT NOT NULL,
        change_ref TEXT NOT NULL,
        environment TEXT NOT NULL,
        playbook TEXT NOT NULL,
        inventory TEXT NOT NULL,
        hosts TEXT NOT NULL,
        check_mode INTEGER NOT NULL,
        status TEXT NOT NULL,
        host_stats TEXT NOT NULL,
        job TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS change_tasks (
        change_id TEXT NOT NULL REFERENCES change_runs (id),
        idx INTEGER NOT NULL,
        host TEXT NOT NULL,
        task TEXT NOT NULL,
        controls TEXT NOT NULL,
        status TEXT NOT NULL,
        diff TEXT NOT NULL,
        PRIMARY KEY (change_id, idx)
    )
    """,
    "CREATE INDEX IF NOT EXISTS change_runs_started ON change_runs (started)",
)

RUNNING = "running"
# An audit older than this says little about the state a change started from.
BEFORE_WINDOW = timedelta(days=30)


@dataclass
class TaskChange:
    """One task's outcome on one host that is worth keeping: changed, failed or unreachable."""

    host: str
    task: str
    controls: list[str]
    status: str  # changed | failed | unreachable
    diff: str  # a summary (files and line counts), never content; "censored" under no_log


@dataclass
class ChangeRecord:
    id: str
    started: str
    user: str
    change_ref: str
    environment: str
    playbook: str
    inventory: str
    hosts: list[str]
    check_mode: bool
    job: str = ""
    finished: str = ""
    status: str = RUNNING
    host_stats: dict[str, dict[str, int]] = field(default_factory=dict)
    tasks: list[TaskChange] = field(default_factory=list)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@contextmanager
def _db(path: Path) -> Iterator[sqlite3.Connection]:
    Store(path).close()  # the store's schema first, and a clear error if it is not a store
    try:
        db = sqlite3.connect(path, timeout=DEFAULT_TIMEOUT, isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreError(f"run store {path}: cannot keep change records: {exc}") from exc
    try:
        for statement in _TABLES:
            db.execute(statement)
        yield db
    except sqlite3.Error as exc:
        raise StoreError(f"run store {path}: change record not kept: {exc}") from exc
    finally:
        db.close()


def begin(path: Path, record: ChangeRecord) -> None:
    """Commit the record's head at once, before any task runs."""
    with _db(path) as db:
        db.execute("BEGIN IMMEDIATE")
        db.execute(
            "INSERT INTO change_runs (id, started, finished, user, change_ref, environment, "
            "playbook, inventory, hosts, check_mode, status, host_stats, job) "
            "VALUES (?, ?, '', ?, ?, ?, ?, ?, ?, ?, ?, '{}', ?)",
            (
                record.id,
                record.started,
                record.user,
                record.change_ref,
                record.environment,
                record.playbook,
                record.inventory,
                json.dumps(record.hosts),
                int(record.check_mode),
                RUNNING,
                record.job,
            ),
        )
        db.execute("COMMIT")


def finish(path: Path, record: ChangeRecord) -> None:
    """Every task row and the outcome, in one transaction."""
    with _db(path) as db:
        db.execute("BEGIN IMMEDIATE")
        try:
            cursor = db.execute(
                "UPDATE change_runs SET finished = ?, status = ?, host_stats = ?, hosts = ? "
                "WHERE id = ?",
                (
                    record.finished,
                    record.status,
                    json.dumps(record.host_stats, sort_keys=True),
                    json.dumps(record.hosts),
                    record.id,
                ),
            )
            if cursor.rowcount != 1:
                raise StoreError(f"run store {path}: change {record.id} was never begun")
            db.executemany(
                "INSERT INTO change_tasks (change_id, idx, host, task, controls, status, diff) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (record.id, i, t.host, t.task, json.dumps(t.controls), t.status, t.diff)
                    for i, t in enumerate(record.tasks)
                ],
            )
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")


def _record(row: tuple[Any, ...]) -> ChangeRecord:
    (rid, started, finished, user, ref, env, playbook, inv, hosts, check, status, stats, job) = row
    return ChangeRecord(
        id=rid,
        started=started,
        finished=finished,
        user=user,
        change_ref=ref,
        environment=env,
        playbook=playbook,
        inventory=inv,
        hosts=json.loads(hosts),
        check_mode=bool(check),
        status=status,
        host_stats=json.loads(stats),
        job=job,
    )


_COLUMNS = (
    "id, started, finished, user, change_ref, environment, playbook, inventory, hosts, "
    "check_mode, status, host_stats, job"
)


def records(
    path: Path, since: datetime | None = None, host: str | None = None
) -> list[ChangeRecord]:
    """Change records, oldest first, without their tasks; filtered by start time and host."""
    if not path.exists():
        raise StoreError(f"no run store at {path}")
    with _db(path) as db:
        rows = db.execute(
            f"SELECT {_COLUMNS} FROM change_runs ORDER BY started, id"  # noqa: S608 - fixed
        ).fetchall()
    found = [_record(row) for row in rows]
    if since is not None:
        found = [r for r in found if _time(r.started) >= since]
    if host is not None:
        found = [r for r in found if host in r.hosts]
    return found


def load(path: Path, id_or_prefix: str) -> ChangeRecord:
    """One record with its tasks, by id or an unambiguous prefix."""
    if not path.exists():
        raise StoreError(f"no run store at {path}")
    with _db(path) as db:
        rows = db.execute(
            f"SELECT {_COLUMNS} FROM change_runs "  # noqa: S608 - fixed column names
            "WHERE substr(id, 1, ?) = ? ORDER BY started LIMIT 6",
            (len(id_or_prefix), id_or_prefix),
        ).fetchall()
        if not rows:
            raise StoreError(f"no change record has an id starting with {id_or_prefix!r}")
        if len(rows) > 1:
            ids = ", ".join(str(r[0])[:12] for r in rows[:5])
            raise StoreError(f"change id prefix {id_or_prefix!r} is ambiguous: {ids}")
        record = _record(rows[0])
        record.tasks = [
            TaskChange(host, task, json.loads(controls), status, diff)
            for host, task, controls, status, diff in db.execute(
                "SELECT host, task, controls, status, diff FROM change_tasks "
                "WHERE change_id = ? ORDER BY idx",
                (record.id,),
            )
        ]
    return record


def _time(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@dataclass(frozen=True)
class AuditLink:
    """A stored audit run next to a change, summarised for the change's hosts only."""

    run_id: str
    started: str
    counts: dict[str, int]
    by_control: dict[tuple[str, str], str]  # (host, control) -> status


def audits_around(store: Store, record: ChangeRecord) -> tuple[AuditLink | None, AuditLink | None]:
    """The newest audit that started before the change (within BEFORE_WINDOW) and the first that
    started after it finished, each covering at least one of the change's hosts."""
    start = _time(record.started)
    end = _time(record.finished) if record.finished else None
    before: AuditLink | None = None
    after: AuditLink | None = None
    hosts = set(record.hosts)
    for run in store.since(start - BEFORE_WINDOW):
        if not hosts & set(run.get("hosts") or []):
            continue
        started = _time(str(run.get("started") or ""))
        if started <= start:
            before = _link(run, hosts)
        elif end is not None and started >= end and after is None:
            after = _link(run, hosts)
    return before, after


def _link(run: dict[str, Any], hosts: set[str]) -> AuditLink:
    mine = [r for r in run.get("results", []) if r.get("host") in hosts]
    counts: dict[str, int] = {}
    for r in mine:
        counts[str(r["status"])] = counts.get(str(r["status"]), 0) + 1
    return AuditLink(
        str(run["id"]),
        str(run.get("started") or ""),
        counts,
        {(str(r["host"]), str(r["control"])): str(r["status"]) for r in mine},
    )
