"""Change records in the run store: one per hardening run (``ansible-playbook site.yml``) and
the tasks that changed or failed something. The record's head is committed when the play
starts (a run killed half-way stays listed as ``running``); its tasks and outcome go in one
transaction when it ends. The Ansible callback and the change gate reach them through
:class:`Store` only."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from driftvakt.store.database import Database
from driftvakt.store.errors import StoreError

RUNNING = "running"


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


# "user" quoted: a reserved word in PostgreSQL, an ordinary name in SQLite.
_COLUMNS = (
    'id, started, finished, "user", change_ref, environment, playbook, inventory, hosts, '
    "check_mode, status, host_stats, job"
)


def begin(database: Database, record: ChangeRecord) -> None:
    with database.transaction() as db:
        db.execute(
            f"INSERT INTO change_runs ({_COLUMNS}) "  # noqa: S608 - fixed column names
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


def finish(database: Database, record: ChangeRecord) -> None:
    with database.transaction() as db:
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
            raise StoreError(f"run store {database.label}: change {record.id} was never begun")
        db.executemany(
            "INSERT INTO change_tasks (change_id, idx, host, task, controls, status, diff) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (record.id, i, t.host, t.task, json.dumps(t.controls), t.status, t.diff)
                for i, t in enumerate(record.tasks)
            ],
        )


def records(database: Database) -> list[ChangeRecord]:
    with database.transaction("DEFERRED") as db:
        rows = db.execute(
            f"SELECT {_COLUMNS} FROM change_runs ORDER BY started, id"  # noqa: S608 - fixed
        ).fetchall()
    return [_record(row) for row in rows]


def load(database: Database, id_or_prefix: str) -> ChangeRecord:
    with database.transaction("DEFERRED") as db:
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


def exists(database: Database, change_id: str) -> bool:
    with database.transaction("DEFERRED") as db:
        return bool(db.execute("SELECT 1 FROM change_runs WHERE id = ?", (change_id,)).fetchone())


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
