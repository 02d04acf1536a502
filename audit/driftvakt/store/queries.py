"""Reading the run store: runs by id or prefix, by time, one host at a time, and the chain head."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from driftvakt.store.chain import GENESIS_HASH
from driftvakt.store.clock import aware, parse_time
from driftvakt.store.database import Connection, Database
from driftvakt.store.errors import StoreError
from driftvakt.store.records import IncompleteRun, RunOutline, RunTally, StoredRun
from driftvakt.store.schema import ROW_COLUMNS, ROWS


def head_hash(db: Connection) -> str:
    """The newest chain hash: of the last run, else of the last prune anchor, else genesis."""
    row = db.execute("SELECT hash FROM runs ORDER BY seq DESC LIMIT 1").fetchone()
    if row is None:
        row = db.execute("SELECT hash FROM chain_anchors ORDER BY seq DESC LIMIT 1").fetchone()
    return str(row[0]) if row else GENESIS_HASH


def head(database: Database) -> str:
    with database.transaction("DEFERRED") as db:
        return head_hash(db)


def runs(database: Database) -> list[StoredRun]:
    with database.transaction("DEFERRED") as db:
        counts: dict[int, dict[str, int]] = {}
        for seq, status, n in db.execute(
            "SELECT run_seq, status, count(*) FROM results GROUP BY run_seq, status"
        ):
            counts.setdefault(seq, {})[status] = n
        return [
            StoredRun(seq, rid, st, fin, prev, digest, saved, counts.get(seq, {}))
            for seq, rid, st, fin, prev, digest, saved in db.execute(
                "SELECT seq, id, started, finished, prev_hash, hash, saved_at "
                "FROM runs ORDER BY seq"
            )
        ]


def load(database: Database, run_id_or_prefix: str) -> dict[str, Any]:
    with database.transaction("DEFERRED") as db:
        return _content(db, database.label, _find(db, run_id_or_prefix))


def latest(database: Database, n: int) -> list[dict[str, Any]]:
    with database.transaction("DEFERRED") as db:
        rows = db.execute("SELECT seq FROM runs ORDER BY seq DESC LIMIT ?", (max(n, 0),)).fetchall()
        return [_content(db, database.label, seq) for (seq,) in rows]


def group_runs(database: Database, group: str) -> list[str]:
    with database.transaction("DEFERRED") as db:
        rows = db.execute("SELECT id FROM runs WHERE run_group = ? ORDER BY seq", (group,))
        return [str(run_id) for (run_id,) in rows]


def group_before(database: Database, group: str) -> str | None:
    """The group of the newest run saved before the group's first run that is not in it
    (``""``: that run had no group; None: nothing was saved before it)."""
    with database.transaction("DEFERRED") as db:
        row = db.execute(
            "SELECT run_group FROM runs WHERE seq < (SELECT min(seq) FROM runs WHERE "
            "run_group = ?) AND run_group <> ? ORDER BY seq DESC LIMIT 1",
            (group, group),
        ).fetchone()
        return None if row is None else str(row[0])


def before(database: Database, run_id: str) -> dict[str, Any] | None:
    with database.transaction("DEFERRED") as db:
        seq = _before(db, _find(db, run_id))
        return None if seq is None else _content(db, database.label, seq)


def outline(database: Database, run_id: str) -> RunOutline:
    with database.transaction("DEFERRED") as db:
        return _outline(db, database.label, _find(db, run_id))


def outline_before(database: Database, run_id: str) -> RunOutline | None:
    with database.transaction("DEFERRED") as db:
        seq = _before(db, _find(db, run_id))
        return None if seq is None else _outline(db, database.label, seq)


HOST_RESULTS = (
    "SELECT idx, host, control, status, evidence, reason, duration FROM results "
    "WHERE run_seq = ? AND host = ?"
)


def host_results(database: Database, run_id: str, host: str) -> list[dict[str, Any]]:
    with database.transaction("DEFERRED") as db:
        seq = _find(db, run_id)
        # Sorted here, not by ORDER BY idx: that makes SQLite walk the primary key (run_seq,
        # idx) through the whole run for every host, a cost growing with the square of the fleet;
        # without it the (run_seq, host) index finds the host's few rows directly.
        rows = sorted(db.execute(HOST_RESULTS, (seq, host)).fetchall())
    found = []
    for _idx, *row in rows:
        result = dict(zip(ROW_COLUMNS, row, strict=True))
        try:
            result["evidence"] = json.loads(result["evidence"])
        except ValueError as exc:
            raise StoreError(f"run seq {seq} in {database.label} is damaged; run verify") from exc
        found.append(result)
    return found


def iter_results(database: Database, run_id: str) -> Iterator[dict[str, Any]]:
    with database.transaction("DEFERRED") as db:
        seq = _find(db, run_id)
        layout = db.execute("SELECT layout FROM runs WHERE seq = ?", (seq,)).fetchone()[0]
        if layout != ROWS:
            yield from _content(db, database.label, seq).get("results", [])
            return
        for (content,) in db.execute(
            "SELECT content FROM results WHERE run_seq = ? ORDER BY idx", (seq,)
        ):
            yield _decode(database.label, seq, content)


def tallies(database: Database, run_id: str, n: int) -> list[RunTally]:
    """The ``n`` runs up to and including ``run_id``, oldest first, their results counted by
    control and status and by host and status (in SQL: a run's rows are never decoded)."""
    with database.transaction("DEFERRED") as db:
        seq = _find(db, run_id)
        seqs = db.execute(
            "SELECT seq FROM runs WHERE seq <= ? ORDER BY seq DESC LIMIT ?", (seq, max(n, 1))
        ).fetchall()
        return [_tally(db, database.label, s) for (s,) in reversed(seqs)]


def _tally(db: Connection, path: str, seq: int) -> RunTally:
    layout, content = db.execute(
        "SELECT layout, content FROM runs WHERE seq = ?", (seq,)
    ).fetchone()
    meta = _decode(path, seq, content)
    by_control: dict[str, dict[str, int]] = {}
    by_host: dict[str, dict[str, int]] = {}
    if layout != ROWS:  # a run saved before schema 2: its JSON holds the results
        for r in meta.pop("results", []):
            for key, table in ((r["control"], by_control), (r["host"], by_host)):
                counts = table.setdefault(str(key), {})
                counts[str(r["status"])] = counts.get(str(r["status"]), 0) + 1
        return RunTally(meta, by_control, by_host)
    for column, table in (("control", by_control), ("host", by_host)):
        for key, status, count in db.execute(
            f"SELECT {column}, status, count(*) FROM results WHERE run_seq = ? "  # noqa: S608 -- a column name of two fixed ones
            f"GROUP BY {column}, status",
            (seq,),
        ):
            table.setdefault(str(key), {})[str(status)] = int(count)
    return RunTally(meta, by_control, by_host)


def since(database: Database, when: datetime) -> list[dict[str, Any]]:
    limit = aware(when)
    return _where(database, lambda started: started >= limit)


def as_of(database: Database, when: datetime) -> dict[str, Any] | None:
    limit = aware(when)
    found = _where(database, lambda started: started <= limit)
    return found[-1] if found else None


def incomplete(database: Database) -> list[IncompleteRun]:
    with database.transaction("DEFERRED") as db:
        return [
            IncompleteRun(rid, st, begun, hostname, pid, json.loads(meta))
            for rid, st, begun, hostname, pid, meta in db.execute(
                "SELECT id, started, begun_at, hostname, pid, meta FROM runs_in_progress "
                "ORDER BY begun_at, id"
            )
        ]


def _where(database: Database, keep: Callable[[datetime], bool]) -> list[dict[str, Any]]:
    """Runs whose start time passes ``keep``, oldest first (unparsable times never do)."""
    with database.transaction("DEFERRED") as db:
        seqs = [
            seq
            for seq, started in db.execute("SELECT seq, started FROM runs ORDER BY seq")
            if (when := parse_time(started)) is not None and keep(when)
        ]
        return [_content(db, database.label, seq) for seq in seqs]


def _find(db: Connection, key: str) -> int:
    if not key:
        raise StoreError("no run id given")
    row = db.execute("SELECT seq FROM runs WHERE id = ?", (key,)).fetchone()
    if row:
        return int(row[0])
    rows = db.execute(
        "SELECT seq, id FROM runs WHERE substr(id, 1, ?) = ? ORDER BY seq LIMIT 6",
        (len(key), key),
    ).fetchall()
    if not rows:
        raise StoreError(f"no stored run has an id starting with {key!r}")
    if len(rows) > 1:
        ids = ", ".join(str(r[1]) for r in rows[:5])
        raise StoreError(f"run id prefix {key!r} is ambiguous: {ids}; give more characters")
    return int(rows[0][0])


def _before(db: Connection, seq: int) -> int | None:
    row = db.execute(
        "SELECT seq FROM runs WHERE seq < ? ORDER BY seq DESC LIMIT 1", (seq,)
    ).fetchone()
    return None if row is None else int(row[0])


def _content(db: Connection, path: str, seq: int) -> dict[str, Any]:
    """The whole run JSON, results included, in either layout."""
    layout, content = db.execute(
        "SELECT layout, content FROM runs WHERE seq = ?", (seq,)
    ).fetchone()
    data = _decode(path, seq, content)
    if layout == ROWS:
        data["results"] = [
            _decode(path, seq, result)
            for (result,) in db.execute(
                "SELECT content FROM results WHERE run_seq = ? ORDER BY idx", (seq,)
            )
        ]
    return data


def _outline(db: Connection, path: str, seq: int) -> RunOutline:
    layout, content = db.execute(
        "SELECT layout, content FROM runs WHERE seq = ?", (seq,)
    ).fetchone()
    meta = _decode(path, seq, content)
    if layout != ROWS:  # a run saved before schema 2: its JSON holds the results
        meta.pop("results", None)
    hosts = [
        str(h)
        for (h,) in db.execute(
            "SELECT DISTINCT host FROM results WHERE run_seq = ? ORDER BY host", (seq,)
        )
    ]
    controls = [
        str(c)
        for (c,) in db.execute(
            "SELECT DISTINCT control FROM results WHERE run_seq = ? ORDER BY control", (seq,)
        )
    ]
    count = db.execute("SELECT count(*) FROM results WHERE run_seq = ?", (seq,)).fetchone()
    return RunOutline(meta, tuple(hosts), tuple(controls), int(count[0]))


def _decode(path: str, seq: int, content: str) -> dict[str, Any]:
    try:
        data = json.loads(content)
    except ValueError as exc:
        raise StoreError(f"run seq {seq} in {path} is damaged; run verify") from exc
    if not isinstance(data, dict):
        raise StoreError(f"run seq {seq} in {path} is damaged; run verify")
    return data
