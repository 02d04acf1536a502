"""Writing runs: begin (a run started), stage (one host's results), save (chain the run).

A run and all its results are chained in one ``BEGIN IMMEDIATE`` transaction, hashed from the
rows as stored (the same reading verification does); the ``runs_in_progress`` row goes in that
same transaction, so a run is either whole and chained or listed as incomplete. Content is never
logged here; the caller redacts secrets from evidence before saving.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from driftvakt.store.chain import RunDigest, canonical_json, framing, result_row, staged_row
from driftvakt.store.clock import now
from driftvakt.store.database import Connection, Database
from driftvakt.store.errors import StoreError
from driftvakt.store.queries import head_hash
from driftvakt.store.records import StoredRun
from driftvakt.store.schema import ROWS


def begin(database: Database, run_meta: dict[str, Any]) -> str:
    run_id = str(run_meta.get("id") or uuid.uuid4())
    meta = {key: value for key, value in run_meta.items() if key != "results"}
    meta["id"] = run_id
    with database.transaction() as db:
        if db.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone():
            raise StoreError(f"run {run_id} is already stored")
        db.execute(
            "INSERT INTO runs_in_progress (id, started, begun_at, hostname, pid, meta) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET started = excluded.started, "
            "begun_at = excluded.begun_at, hostname = excluded.hostname, pid = excluded.pid, "
            "meta = excluded.meta",
            (
                run_id,
                str(meta.get("started") or ""),
                now(),
                socket.gethostname(),
                os.getpid(),
                canonical_json(meta),
            ),
        )
    return run_id


def save(database: Database, run_json: dict[str, Any]) -> StoredRun:
    run_id = run_json.get("id")
    if not isinstance(run_id, str) or not run_id:
        raise StoreError("the run has no id and cannot be stored")
    results = run_json.get("results", [])
    if not isinstance(results, list):
        raise StoreError(f"run {run_id}: 'results' is not a list")
    meta = {key: value for key, value in run_json.items() if key != "results"}

    def insert(db: Connection, seq: int) -> None:
        for idx, result in enumerate(results):
            db.execute(
                "INSERT INTO results (run_seq, idx, host, control, status, evidence, "
                "reason, duration, content) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*result_row(seq, idx, result), canonical_json(result)),
            )

    return _chain(database, meta, insert)


def stage(database: Database, run_id: str, results: Iterable[dict[str, Any]]) -> int:
    rows = [staged_row(result) for result in results]
    with database.transaction() as db:
        _begun(db, run_id)
        db.executemany(
            "INSERT INTO results_in_progress (run_id, host, control, status, evidence, "
            "reason, duration, content) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(run_id, *row) for row in rows],
        )
    return len(rows)


def save_staged(database: Database, run_meta: dict[str, Any]) -> StoredRun:
    run_id = run_meta.get("id")
    if not isinstance(run_id, str) or not run_id:
        raise StoreError("the run has no id and cannot be stored")

    def insert(db: Connection, seq: int) -> None:
        _begun(db, run_id)
        db.execute(
            "INSERT INTO results (run_seq, idx, host, control, status, evidence, reason, "  # noqa: S608 - the backend's column name
            "duration, content) SELECT ?, row_number() OVER (ORDER BY host, "
            f"{database.staged_order}) - 1, "
            "host, control, status, evidence, reason, duration, content "
            "FROM results_in_progress WHERE run_id = ?",
            (seq, run_id),
        )

    return _chain(database, run_meta, insert)


def mark_abandoned(database: Database, run_id: str, why: str) -> None:
    """Keep a begun run's record and staged results, marked as never to be saved."""
    with database.transaction() as db:
        row = db.execute("SELECT meta FROM runs_in_progress WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            return
        meta = json.loads(row[0])
        meta["abandoned"] = {"why": why, "at": now()}
        db.execute("UPDATE runs_in_progress SET meta = ? WHERE id = ?", (json.dumps(meta), run_id))


def abandon(database: Database, run_id: str) -> bool:
    with database.transaction() as db:
        db.execute("DELETE FROM results_in_progress WHERE run_id = ?", (run_id,))
        cursor = db.execute("DELETE FROM runs_in_progress WHERE id = ?", (run_id,))
        return cursor.rowcount > 0


def _chain(
    database: Database,
    meta: dict[str, Any],
    insert: Callable[[Connection, int], None],
) -> StoredRun:
    """Insert the run, let ``insert`` add its result rows, then hash it from the rows as
    stored (the same reading verify does) -- all in one transaction."""
    run_id = str(meta["id"])
    head, tail = framing(meta)
    content = canonical_json(meta)
    started = str(meta.get("started") or "")
    finished = str(meta.get("finished") or "")
    group = str(meta.get("run_group") or "")
    saved_at = now()
    with database.transaction("CHAIN") as db:  # one append at a time, across every writer
        if db.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone():
            raise StoreError(f"run {run_id} is already stored")
        prev_hash = head_hash(db)
        seq = int(
            db.execute(
                "INSERT INTO runs (seq, id, started, finished, prev_hash, hash, saved_at, layout, "  # noqa: S608 - the backend's SQL
                f"content, run_group) VALUES ({database.next_seq}, ?, ?, ?, ?, '', ?, ?, ?, ?) "
                "RETURNING seq",
                (run_id, started, finished, prev_hash, saved_at, ROWS, content, group),
            ).fetchone()[0]
        )
        insert(db, seq)
        digest = RunDigest(prev_hash, head)
        for (result_json,) in db.execute(
            "SELECT content FROM results WHERE run_seq = ? ORDER BY idx", (seq,)
        ):
            digest.add(result_json)
        run_hash = digest.hexdigest(tail)
        db.execute("UPDATE runs SET hash = ? WHERE seq = ?", (run_hash, seq))
        db.execute("DELETE FROM results_in_progress WHERE run_id = ?", (run_id,))
        db.execute("DELETE FROM runs_in_progress WHERE id = ?", (run_id,))
        counts = {
            str(status): int(n)
            for status, n in db.execute(
                "SELECT status, count(*) FROM results WHERE run_seq = ? GROUP BY status",
                (seq,),
            )
        }
    return StoredRun(seq, run_id, started, finished, prev_hash, run_hash, saved_at, counts)


def _begun(db: Connection, run_id: str) -> None:
    if not db.execute("SELECT 1 FROM runs_in_progress WHERE id = ?", (run_id,)).fetchone():
        raise StoreError(f"run {run_id} was not begun (or was saved or abandoned already)")
