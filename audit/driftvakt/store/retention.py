"""Pruning old runs without breaking the chain: an anchor records the last pruned run's hash."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from driftvakt.store.clock import now, parse_time
from driftvakt.store.database import Connection, Database
from driftvakt.store.errors import StoreError
from driftvakt.store.verification import problems

STALE_AUDIT = timedelta(days=1)  # an audit begun this long ago and never saved was killed


def prune(database: Database, older_than: timedelta) -> int:
    if older_than < timedelta(0):
        raise StoreError("prune needs a positive age")
    cutoff = datetime.now(UTC) - older_than
    with database.transaction("CHAIN") as db:
        found = problems(db, ())
        if found:
            raise StoreError(
                f"refusing to prune: the run chain has {len(found)} problem(s); "
                "run verify and keep the store as evidence"
            )
        # Ages come from `started`, which the chain hashes (verify checks the column against
        # the run's JSON); `saved_at` is not hashed, so it decides nothing.
        rows = db.execute("SELECT seq, hash, started FROM runs ORDER BY seq").fetchall()
        doomed: list[tuple[int, str]] = []
        for seq, digest, started in rows[:-1]:
            when = parse_time(started)
            if when is None or when >= cutoff:
                break
            doomed.append((seq, digest))
        _drop_stale_incomplete(db, min(cutoff, datetime.now(UTC) - STALE_AUDIT))
        if not doomed:
            return 0
        last_seq, last_hash = doomed[-1]
        db.execute("DELETE FROM results WHERE run_seq <= ?", (last_seq,))
        db.execute("DELETE FROM runs WHERE seq <= ?", (last_seq,))
        db.execute(
            "INSERT INTO chain_anchors (seq, hash, pruned_at, count) VALUES (?, ?, ?, ?)",
            (last_seq, last_hash, now(), len(doomed)),
        )
    return len(doomed)


def _drop_stale_incomplete(db: Connection, before: datetime) -> None:
    """Audits begun before ``before`` and never saved (killed): their record and staged
    results go with the old runs. No audit runs that long, so none still running is hit."""
    for run_id, begun in db.execute("SELECT id, begun_at FROM runs_in_progress").fetchall():
        when = parse_time(begun)
        if when is not None and when < before:
            db.execute("DELETE FROM results_in_progress WHERE run_id = ?", (run_id,))
            db.execute("DELETE FROM runs_in_progress WHERE id = ?", (run_id,))
