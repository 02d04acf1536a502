"""Every audit run kept in one embedded SQLite file, chained so that edits and deletions show.

Layout (schema version in ``PRAGMA user_version``):

- ``runs``: one row per saved run: ``seq`` (never reused), ``id``, ``started``, ``finished``,
  ``prev_hash``, ``hash``, ``saved_at``, ``layout`` and ``content``. A run's hash is
  ``sha256(prev_hash + J)``, J being the run's canonical JSON, results included; ``prev_hash``
  is the hash of the run saved before it (the genesis run links to 64 zeros).
- ``results``: one row per result of a run: the columns for queries and, for runs of layout
  ``rows``, ``content``: the result's canonical JSON.

  Where J is kept depends on ``layout``. ``whole`` (every run saved before schema 2): ``content``
  is J itself and the result rows are a copy checked against it. ``rows`` (every run saved
  since): ``content`` is the run's canonical JSON without ``results``, and J is that with the
  results' ``content`` spliced in, in ``idx`` order -- byte for byte the text a ``whole`` run
  would hold, so the hash means the same in both layouts, but no step has to hold a whole run
  in memory: a run is written host by host and hashed as a stream. Verification recomputes
  every hash from what is stored, and checks each row's columns against its JSON.
- ``chain_anchors``: written by :meth:`Store.prune`: the hash and seq of the last pruned run,
  when, and how many runs went. The first kept run must link to the newest anchor.
- ``runs_in_progress``: :meth:`Store.begin` records a run when the audit starts and the save
  removes that row in the same transaction that inserts the run, so an audit killed half-way is
  listed by :meth:`Store.incomplete` and never half present.
- ``results_in_progress``: results of a begun run, written by :meth:`Store.stage` as each host
  finishes. They are no part of any run until :meth:`Store.save_staged` moves them, in the one
  transaction that chains the run; a killed audit leaves them beside its ``runs_in_progress``
  row (and :meth:`Store.abandon` drops both).

A run and all its results are chained in one ``BEGIN IMMEDIATE`` transaction; the database is in
WAL mode with ``synchronous=FULL``, so a process killed mid-save leaves no trace of that run.
A second writer waits (``busy_timeout``) and then fails with :class:`StoreError`.

Limits of tamper evidence. The chain is kept in the same file it protects. Anyone who can write
the file can rewrite a run *and* recompute every later hash, delete the newest runs (nothing
links to them yet), or delete old runs and insert a matching anchor. :meth:`Store.verify` finds
edits and deletions made without that care: a changed run, a run removed from the middle,
result rows that no longer match their run. Truncation and a rewritten chain are only detectable
against a copy of a chain hash kept elsewhere -- e.g. the latest hash written into a signed
export -- which :meth:`Store.verify` accepts as ``known_hashes``. Staged results are not chained
until the run is saved; whoever could change them could change the finished run the same way.

Content is never logged here; the caller redacts secrets from evidence before saving.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from driftvakt.errors import DriftvaktError

SCHEMA_VERSION = 2
GENESIS_HASH = "0" * 64
DEFAULT_TIMEOUT = 30.0
STALE_AUDIT = timedelta(days=1)  # an audit begun this long ago and never saved was killed

_SCHEMA = """
CREATE TABLE runs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    started TEXT NOT NULL,
    finished TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    saved_at TEXT NOT NULL,
    content TEXT NOT NULL
);
CREATE INDEX runs_started ON runs (started);
CREATE TABLE results (
    run_seq INTEGER NOT NULL REFERENCES runs (seq),
    idx INTEGER NOT NULL,
    host TEXT NOT NULL,
    control TEXT NOT NULL,
    status TEXT NOT NULL,
    evidence TEXT NOT NULL,
    reason TEXT NOT NULL,
    duration REAL NOT NULL,
    PRIMARY KEY (run_seq, idx)
);
CREATE INDEX results_host_control ON results (host, control);
CREATE INDEX results_status ON results (status);
CREATE TABLE chain_anchors (
    seq INTEGER PRIMARY KEY,
    hash TEXT NOT NULL,
    pruned_at TEXT NOT NULL,
    count INTEGER NOT NULL
);
CREATE TABLE runs_in_progress (
    id TEXT PRIMARY KEY,
    started TEXT NOT NULL,
    begun_at TEXT NOT NULL,
    hostname TEXT NOT NULL,
    pid INTEGER NOT NULL,
    meta TEXT NOT NULL
);
"""
# Schema 1 -> 2: results kept row by row (see the module docstring). A new store is made by
# running both, so a new and an upgraded store are the same.
_UPGRADE_2 = """
ALTER TABLE runs ADD COLUMN layout TEXT NOT NULL DEFAULT 'whole';
ALTER TABLE results ADD COLUMN content TEXT;
CREATE INDEX results_run_host ON results (run_seq, host);
CREATE TABLE results_in_progress (
    run_id TEXT NOT NULL,
    host TEXT NOT NULL,
    control TEXT NOT NULL,
    status TEXT NOT NULL,
    evidence TEXT NOT NULL,
    reason TEXT NOT NULL,
    duration REAL NOT NULL,
    content TEXT NOT NULL
);
CREATE INDEX results_in_progress_order ON results_in_progress (run_id, host);
"""
WHOLE, ROWS = "whole", "rows"  # runs.layout
# The columns of a result row that :meth:`Store.host_results` gives back, and verify checks.
ROW_COLUMNS = ("host", "control", "status", "evidence", "reason", "duration")


class StoreError(DriftvaktError):
    """The run store cannot do what was asked; the message is one actionable line."""


@dataclass(frozen=True)
class StoredRun:
    """Metadata of one saved run (the run itself: :meth:`Store.load`)."""

    seq: int
    id: str
    started: str
    finished: str
    prev_hash: str
    hash: str
    saved_at: str
    counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class RunOutline:
    """A run without its results (:meth:`Store.outline`)."""

    meta: dict[str, Any]  # the run's JSON without "results"
    hosts: tuple[str, ...]  # hosts with at least one result, sorted
    controls: tuple[str, ...]  # controls with at least one result, sorted
    count: int  # how many results


@dataclass(frozen=True)
class IncompleteRun:
    """A run begun but never saved: the audit was killed, crashed, or is still running."""

    id: str
    started: str
    begun_at: str
    hostname: str
    pid: int
    meta: dict[str, Any]


def canonical_json(data: Any) -> str:
    """The one JSON text a value hashes as: sorted keys, no spaces, UTF-8 kept."""
    try:
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"run is not plain JSON and cannot be stored: {exc}") from exc


def chain_hash(prev_hash: str, content: str) -> str:
    return hashlib.sha256((prev_hash + content).encode("utf-8")).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _parse_time(text: str) -> datetime | None:
    """An ISO 8601 time; naive times are taken as UTC. None if unparsable."""
    try:
        when = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _result_row(run_seq: int, idx: int, result: Any) -> tuple[Any, ...]:
    """The ``results`` row for one result of a run's JSON."""
    if not isinstance(result, dict):
        raise StoreError(f"result #{idx} of the run is not an object")
    try:
        host, control, status = result["host"], result["control"], result["status"]
    except KeyError as exc:
        raise StoreError(f"result #{idx} of the run has no {exc.args[0]!r}") from exc
    evidence = result.get("evidence") or []
    duration = result.get("duration") or 0.0
    if not isinstance(duration, int | float) or isinstance(duration, bool):
        raise StoreError(f"result #{idx} of the run has a non-numeric duration")
    return (
        run_seq,
        idx,
        str(host),
        str(control),
        str(status),
        canonical_json(evidence),
        str(result.get("reason") or ""),
        float(duration),
    )


def _staged_row(result: Any) -> tuple[Any, ...]:
    """A result as a ``results_in_progress`` row: its query columns and its canonical JSON."""
    return (*_result_row(0, 0, result)[2:], canonical_json(result))


def _framing(meta: dict[str, Any]) -> tuple[str, str]:
    """The text before and after the results in a run's canonical JSON.

    ``head + ",".join(canonical_json(r) for r in results) + tail`` is exactly
    ``canonical_json({**meta, "results": results})``: sorted keys, so the run's other members
    fall either side of ``"results"``; each member is ``key:value`` in canonical form.
    """
    if "results" in meta:
        raise StoreError("the run's results are given twice")
    if not all(isinstance(key, str) for key in meta):
        raise StoreError("run is not plain JSON and cannot be stored: a key is not a string")
    members = {key: f"{canonical_json(key)}:{canonical_json(meta[key])}" for key in meta}
    before = [members[key] for key in sorted(meta) if key < "results"]
    after = [members[key] for key in sorted(meta) if key > "results"]
    head = "{" + "".join(f"{member}," for member in before) + '"results":['
    tail = "]" + "".join(f",{member}" for member in after) + "}"
    return head, tail


class _RunDigest:
    """``chain_hash(prev_hash, J)`` of a run's canonical JSON J, fed one result at a time."""

    def __init__(self, prev_hash: str, head: str) -> None:
        self._sha = hashlib.sha256((prev_hash + head).encode("utf-8"))
        self._first = True

    def add(self, result_json: str) -> None:
        if not self._first:
            self._sha.update(b",")
        self._first = False
        self._sha.update(result_json.encode("utf-8"))

    def hexdigest(self, tail: str) -> str:
        sha = self._sha.copy()
        sha.update(tail.encode("utf-8"))
        return sha.hexdigest()


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


class Store:
    """The run store in one SQLite file. Safe to share between threads; close() when done."""

    def __init__(self, path: Path, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self._lock = threading.RLock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the folder for {self.path}: {exc}") from exc
        try:
            self._db = sqlite3.connect(
                self.path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open run store {self.path}: {exc}") from exc
        try:
            with self._errors():
                self._db.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
                self._db.execute("PRAGMA foreign_keys = ON")
                self._db.execute("PRAGMA synchronous = FULL")
                mode = self._db.execute("PRAGMA journal_mode").fetchone()[0]
                if str(mode).lower() != "wal":
                    self._db.execute("PRAGMA journal_mode = WAL")
                self._migrate()
        except BaseException:
            self._db.close()
            raise

    # -- plumbing -------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.OperationalError as exc:
            if _is_busy(exc):
                raise StoreError(
                    f"run store {self.path} is busy: another driftvakt process kept it locked "
                    f"for over {self.timeout:g} s; try again when it has finished"
                ) from exc
            raise StoreError(f"run store {self.path}: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path} is not a usable run store: {exc}") from exc

    @contextmanager
    def _transaction(self, kind: str = "IMMEDIATE") -> Iterator[sqlite3.Connection]:
        """One transaction: IMMEDIATE takes the write lock up front, DEFERRED is a snapshot read."""
        with self._lock, self._errors():
            self._db.execute(f"BEGIN {kind}")
            try:
                yield self._db
            except BaseException:
                self._db.rollback()
                raise
            self._db.commit()

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return
        with self._transaction() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"run store {self.path} has schema {version}, newer than this driftvakt "
                    f"understands ({SCHEMA_VERSION}); upgrade driftvakt"
                )
            steps = []
            if version == 0:
                if db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                    raise StoreError(f"{self.path} is an SQLite file but not a driftvakt store")
                steps.append(_SCHEMA)
            if version < 2:
                steps.append(_UPGRADE_2)
            for script in steps:
                for statement in script.split(";"):
                    if statement.strip():
                        db.execute(statement)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    # -- writing --------------------------------------------------------------------------

    def begin(self, run_meta: dict[str, Any]) -> str:
        """Record that a run started (committed at once); returns its id (made if missing)."""
        run_id = str(run_meta.get("id") or uuid.uuid4())
        meta = {key: value for key, value in run_meta.items() if key != "results"}
        meta["id"] = run_id
        with self._transaction() as db:
            if db.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone():
                raise StoreError(f"run {run_id} is already stored")
            db.execute(
                "INSERT OR REPLACE INTO runs_in_progress "
                "(id, started, begun_at, hostname, pid, meta) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    run_id,
                    str(meta.get("started") or ""),
                    _now(),
                    socket.gethostname(),
                    os.getpid(),
                    canonical_json(meta),
                ),
            )
        return run_id

    def save(self, run_json: dict[str, Any]) -> StoredRun:
        """Store a run and all its results in one transaction, chained to the previous run."""
        run_id = run_json.get("id")
        if not isinstance(run_id, str) or not run_id:
            raise StoreError("the run has no id and cannot be stored")
        results = run_json.get("results", [])
        if not isinstance(results, list):
            raise StoreError(f"run {run_id}: 'results' is not a list")
        meta = {key: value for key, value in run_json.items() if key != "results"}

        def insert(db: sqlite3.Connection, seq: int) -> None:
            for idx, result in enumerate(results):
                db.execute(
                    "INSERT INTO results (run_seq, idx, host, control, status, evidence, "
                    "reason, duration, content) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (*_result_row(seq, idx, result), canonical_json(result)),
                )

        return self._chain(meta, insert)

    def stage(self, run_id: str, results: Iterable[dict[str, Any]]) -> int:
        """Keep results of a begun run (e.g. one host's) until :meth:`save_staged`; committed at
        once, so the caller need not hold them. Returns how many were kept."""
        rows = [_staged_row(result) for result in results]
        with self._transaction() as db:
            self._begun(db, run_id)
            db.executemany(
                "INSERT INTO results_in_progress (run_id, host, control, status, evidence, "
                "reason, duration, content) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(run_id, *row) for row in rows],
            )
        return len(rows)

    def save_staged(self, run_meta: dict[str, Any]) -> StoredRun:
        """Store a begun run whose results were staged, chained to the previous run.

        ``run_meta`` is the run's JSON without ``results``. The staged results become the run's,
        sorted by host and, within a host, in the order staged; all in one transaction.
        """
        run_id = run_meta.get("id")
        if not isinstance(run_id, str) or not run_id:
            raise StoreError("the run has no id and cannot be stored")

        def insert(db: sqlite3.Connection, seq: int) -> None:
            self._begun(db, run_id)
            db.execute(
                "INSERT INTO results (run_seq, idx, host, control, status, evidence, reason, "
                "duration, content) SELECT ?, row_number() OVER (ORDER BY host, rowid) - 1, "
                "host, control, status, evidence, reason, duration, content "
                "FROM results_in_progress WHERE run_id = ?",
                (seq, run_id),
            )

        return self._chain(run_meta, insert)

    def _chain(
        self, meta: dict[str, Any], insert: Callable[[sqlite3.Connection, int], None]
    ) -> StoredRun:
        """Insert the run, let ``insert`` add its result rows, then hash it from the rows as
        stored (the same reading verify does) -- all in one transaction."""
        run_id = str(meta["id"])
        head, tail = _framing(meta)
        content = canonical_json(meta)
        started = str(meta.get("started") or "")
        finished = str(meta.get("finished") or "")
        saved_at = _now()
        with self._transaction() as db:
            if db.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone():
                raise StoreError(f"run {run_id} is already stored")
            prev_hash = self._head(db)
            cursor = db.execute(
                "INSERT INTO runs (id, started, finished, prev_hash, hash, saved_at, layout, "
                "content) VALUES (?, ?, ?, ?, '', ?, ?, ?)",
                (run_id, started, finished, prev_hash, saved_at, ROWS, content),
            )
            seq = cursor.lastrowid
            assert seq is not None
            insert(db, seq)
            digest = _RunDigest(prev_hash, head)
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

    @staticmethod
    def _begun(db: sqlite3.Connection, run_id: str) -> None:
        if not db.execute("SELECT 1 FROM runs_in_progress WHERE id = ?", (run_id,)).fetchone():
            raise StoreError(f"run {run_id} was not begun (or was saved or abandoned already)")

    def abandon(self, run_id: str) -> bool:
        """Forget a run begun but never saved, and any results staged for it; True if there
        was one."""
        with self._transaction() as db:
            db.execute("DELETE FROM results_in_progress WHERE run_id = ?", (run_id,))
            cursor = db.execute("DELETE FROM runs_in_progress WHERE id = ?", (run_id,))
            return cursor.rowcount > 0

    def prune(self, older_than: timedelta) -> int:
        """Delete runs started before now - older_than, keeping verification intact.

        Only a prefix of the chain goes (in seq order, stopping at the first younger run) and the
        newest run always stays, as the baseline for drift. The hash of the last pruned run is
        recorded as an anchor the first kept run must link to. Refuses to prune a chain that
        does not verify, so pruning never erases the evidence of tampering.
        """
        if older_than < timedelta(0):
            raise StoreError("prune needs a positive age")
        cutoff = datetime.now(UTC) - older_than
        with self._transaction() as db:
            problems = self._problems(db, ())
            if problems:
                raise StoreError(
                    f"refusing to prune: the run chain has {len(problems)} problem(s); "
                    "run verify and keep the store as evidence"
                )
            rows = db.execute(
                "SELECT seq, hash, started, saved_at FROM runs ORDER BY seq"
            ).fetchall()
            doomed: list[tuple[int, str]] = []
            for seq, digest, started, saved_at in rows[:-1]:
                when = _parse_time(started) or _parse_time(saved_at)
                if when is None or when >= cutoff:
                    break
                doomed.append((seq, digest))
            self._drop_stale_incomplete(db, min(cutoff, datetime.now(UTC) - STALE_AUDIT))
            if not doomed:
                return 0
            last_seq, last_hash = doomed[-1]
            db.execute("DELETE FROM results WHERE run_seq <= ?", (last_seq,))
            db.execute("DELETE FROM runs WHERE seq <= ?", (last_seq,))
            db.execute(
                "INSERT INTO chain_anchors (seq, hash, pruned_at, count) VALUES (?, ?, ?, ?)",
                (last_seq, last_hash, _now(), len(doomed)),
            )
        return len(doomed)

    @staticmethod
    def _drop_stale_incomplete(db: sqlite3.Connection, before: datetime) -> None:
        """Audits begun before ``before`` and never saved (killed): their record and staged
        results go with the old runs. No audit runs that long, so none still running is hit."""
        for run_id, begun in db.execute("SELECT id, begun_at FROM runs_in_progress").fetchall():
            when = _parse_time(begun)
            if when is not None and when < before:
                db.execute("DELETE FROM results_in_progress WHERE run_id = ?", (run_id,))
                db.execute("DELETE FROM runs_in_progress WHERE id = ?", (run_id,))

    # -- reading --------------------------------------------------------------------------

    def head(self) -> str:
        """The newest chain hash (of the last run, else of the last anchor, else genesis).

        Keep a copy outside this file (e.g. in a signed export) and pass it to verify() later.
        """
        with self._transaction("DEFERRED") as db:
            return self._head(db)

    @staticmethod
    def _head(db: sqlite3.Connection) -> str:
        row = db.execute("SELECT hash FROM runs ORDER BY seq DESC LIMIT 1").fetchone()
        if row is None:
            row = db.execute("SELECT hash FROM chain_anchors ORDER BY seq DESC LIMIT 1").fetchone()
        return str(row[0]) if row else GENESIS_HASH

    def runs(self) -> list[StoredRun]:
        """Metadata of every kept run, oldest first."""
        with self._transaction("DEFERRED") as db:
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

    def load(self, run_id_or_prefix: str) -> dict[str, Any]:
        """The run JSON of a run given by its id or an unambiguous prefix of it."""
        with self._transaction("DEFERRED") as db:
            seq = self._find(db, run_id_or_prefix)
            return self._content(db, seq)

    def latest(self, n: int = 1) -> list[dict[str, Any]]:
        """The n newest runs' JSON, newest first."""
        with self._transaction("DEFERRED") as db:
            rows = db.execute(
                "SELECT seq FROM runs ORDER BY seq DESC LIMIT ?", (max(n, 0),)
            ).fetchall()
            return [self._content(db, seq) for (seq,) in rows]

    def before(self, run_id: str) -> dict[str, Any] | None:
        """The run saved just before the given one (id or prefix); None if it is the oldest."""
        with self._transaction("DEFERRED") as db:
            seq = self._before(db, self._find(db, run_id))
            return None if seq is None else self._content(db, seq)

    def outline(self, run_id: str) -> RunOutline:
        """A run without its results: its other members, and who and what its results cover
        (the run given by id or prefix). Small however many hosts the run has."""
        with self._transaction("DEFERRED") as db:
            return self._outline(db, self._find(db, run_id))

    def outline_before(self, run_id: str) -> RunOutline | None:
        """:meth:`outline` of the run saved just before the given one; None if it is the oldest."""
        with self._transaction("DEFERRED") as db:
            seq = self._before(db, self._find(db, run_id))
            return None if seq is None else self._outline(db, seq)

    def host_results(self, run_id: str, host: str) -> list[dict[str, Any]]:
        """One host's results in a run (id, not prefix), in run order, as their query columns
        (``ROW_COLUMNS``: no recorded facts; verify checks them against the run's JSON)."""
        with self._transaction("DEFERRED") as db:
            seq = self._find(db, run_id)
            rows = db.execute(
                "SELECT host, control, status, evidence, reason, duration FROM results "
                "WHERE run_seq = ? AND host = ? ORDER BY idx",
                (seq, host),
            ).fetchall()
        found = []
        for row in rows:
            result = dict(zip(ROW_COLUMNS, row, strict=True))
            try:
                result["evidence"] = json.loads(result["evidence"])
            except ValueError as exc:
                raise StoreError(f"run seq {seq} in {self.path} is damaged; run verify") from exc
            found.append(result)
        return found

    def iter_results(self, run_id: str) -> Iterator[dict[str, Any]]:
        """Every result of a run (id, not prefix), in order, as its full JSON, one at a time.

        Reads in one snapshot; hold no other transaction on this store while iterating.
        """
        with self._transaction("DEFERRED") as db:
            seq = self._find(db, run_id)
            layout = db.execute("SELECT layout FROM runs WHERE seq = ?", (seq,)).fetchone()[0]
            if layout != ROWS:
                yield from self._content(db, seq).get("results", [])
                return
            for (content,) in db.execute(
                "SELECT content FROM results WHERE run_seq = ? ORDER BY idx", (seq,)
            ):
                yield self._decode(seq, content)

    def since(self, when: datetime) -> list[dict[str, Any]]:
        """Runs started at or after ``when`` (naive = UTC), oldest first."""
        limit = _aware(when)
        return self._where(lambda started: started >= limit)

    def as_of(self, when: datetime) -> dict[str, Any] | None:
        """The newest run started at or before ``when`` (naive = UTC): a baseline for --since."""
        limit = _aware(when)
        found = self._where(lambda started: started <= limit)
        return found[-1] if found else None

    def incomplete(self) -> list[IncompleteRun]:
        """Runs begun but never saved, oldest first. An audit running right now is listed too."""
        with self._transaction("DEFERRED") as db:
            return [
                IncompleteRun(rid, st, begun, hostname, pid, json.loads(meta))
                for rid, st, begun, hostname, pid, meta in db.execute(
                    "SELECT id, started, begun_at, hostname, pid, meta FROM runs_in_progress "
                    "ORDER BY begun_at, id"
                )
            ]

    def _where(self, keep: Callable[[datetime], bool]) -> list[dict[str, Any]]:
        """Runs whose start time passes ``keep``, oldest first (unparsable times never do)."""
        with self._transaction("DEFERRED") as db:
            seqs = [
                seq
                for seq, started in db.execute("SELECT seq, started FROM runs ORDER BY seq")
                if (when := _parse_time(started)) is not None and keep(when)
            ]
            return [self._content(db, seq) for seq in seqs]

    def _find(self, db: sqlite3.Connection, key: str) -> int:
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

    @staticmethod
    def _before(db: sqlite3.Connection, seq: int) -> int | None:
        row = db.execute(
            "SELECT seq FROM runs WHERE seq < ? ORDER BY seq DESC LIMIT 1", (seq,)
        ).fetchone()
        return None if row is None else int(row[0])

    def _content(self, db: sqlite3.Connection, seq: int) -> dict[str, Any]:
        """The whole run JSON, results included, in either layout."""
        layout, content = db.execute(
            "SELECT layout, content FROM runs WHERE seq = ?", (seq,)
        ).fetchone()
        data = self._decode(seq, content)
        if layout == ROWS:
            data["results"] = [
                self._decode(seq, result)
                for (result,) in db.execute(
                    "SELECT content FROM results WHERE run_seq = ? ORDER BY idx", (seq,)
                )
            ]
        return data

    def _outline(self, db: sqlite3.Connection, seq: int) -> RunOutline:
        layout, content = db.execute(
            "SELECT layout, content FROM runs WHERE seq = ?", (seq,)
        ).fetchone()
        meta = self._decode(seq, content)
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

    def _decode(self, seq: int, content: str) -> dict[str, Any]:
        try:
            data = json.loads(content)
        except ValueError as exc:
            raise StoreError(f"run seq {seq} in {self.path} is damaged; run verify") from exc
        if not isinstance(data, dict):
            raise StoreError(f"run seq {seq} in {self.path} is damaged; run verify")
        return data

    # -- verification ---------------------------------------------------------------------

    def verify(self, known_hashes: Iterable[str] = ()) -> list[str]:
        """Walk the chain; return one line per problem found (empty: intact).

        ``known_hashes`` are chain hashes kept elsewhere (e.g. from signed exports); each must
        still be in the chain (a kept run's hash, or a prune anchor's), else runs were cut off
        or the chain was rewritten.
        """
        with self._transaction("DEFERRED") as db:
            return self._problems(db, known_hashes)

    def _problems(self, db: sqlite3.Connection, known_hashes: Iterable[str]) -> list[str]:
        problems: list[str] = []
        anchors = db.execute("SELECT seq, hash FROM chain_anchors ORDER BY seq").fetchall()
        expected_prev, prev_seq, prev_label = GENESIS_HASH, 0, "the genesis hash"
        if anchors:
            anchor_seq, anchor_hash = anchors[-1]
            expected_prev, prev_seq = anchor_hash, anchor_seq
            prev_label = f"the prune anchor (seq {anchor_seq})"
        seen_hashes = {str(a[1]) for a in anchors}
        for seq, run_id, started, finished, prev_hash, digest, layout in db.execute(
            "SELECT seq, id, started, finished, prev_hash, hash, layout FROM runs ORDER BY seq"
        ).fetchall():
            seen_hashes.add(digest)
            name = f"run seq {seq} ({run_id})"
            (content,) = db.execute("SELECT content FROM runs WHERE seq = ?", (seq,)).fetchone()
            # One run at a time, its result rows streamed: verifying needs no whole store or run.
            if layout == ROWS:
                computed, run, rows_problem = self._check_rows(db, seq, prev_hash, content, digest)
            else:
                computed, run, rows_problem = self._check_whole(db, seq, prev_hash, content)
            if computed != digest:
                problems.append(f"{name} was edited: its content does not match its hash")
            if seq <= prev_seq:
                problems.append(
                    f"{name} is older than {prev_label}: the anchor or the run was tampered with"
                )
            elif prev_hash != expected_prev:
                problems.append(
                    f"{name} does not link to {prev_label}: a run before it was deleted or edited"
                )
            elif seq != prev_seq + 1:
                missing = f"{prev_seq + 1}" if seq == prev_seq + 2 else f"{prev_seq + 1}-{seq - 1}"
                problems.append(f"run seq {missing} missing before {name}: runs were deleted")
            expected_prev, prev_seq, prev_label = digest, seq, name
            if isinstance(run, str):
                problems.append(f"{name} {run}")
                continue
            columns = (run_id, started, finished)
            in_json = (run.get("id"), str(run.get("started") or ""), str(run.get("finished") or ""))
            if columns != in_json:
                problems.append(f"{name}: id/started/finished columns do not match the run JSON")
            if rows_problem:
                problems.append(f"{name}: {rows_problem}")
        for (seq,) in db.execute(
            "SELECT DISTINCT run_seq FROM results WHERE run_seq NOT IN (SELECT seq FROM runs) "
            "ORDER BY run_seq"
        ):
            problems.append(f"results rows for run seq {seq}, which is not stored")
        for known in known_hashes:
            if known not in seen_hashes and known != GENESIS_HASH:
                problems.append(
                    f"known hash {known[:16]}... is not in the chain: runs were cut off "
                    "or the chain was rewritten"
                )
        return problems

    @staticmethod
    def _rows(db: sqlite3.Connection, seq: int) -> Iterator[tuple[Any, ...]]:
        return (
            tuple(row)
            for row in db.execute(
                "SELECT run_seq, idx, host, control, status, evidence, reason, duration, content "
                "FROM results WHERE run_seq = ? ORDER BY idx",
                (seq,),
            )
        )

    def _check_whole(
        self, db: sqlite3.Connection, seq: int, prev_hash: str, content: str
    ) -> tuple[str, dict[str, Any] | str, str]:
        """A run saved before schema 2: its hash, its JSON (or what is wrong with it), and what
        is wrong with its result rows, the copy of its JSON's results."""
        computed = chain_hash(prev_hash, content)
        try:
            run = json.loads(content)
        except ValueError:
            return computed, "is not valid JSON", ""
        if not isinstance(run, dict):
            return computed, "is not a JSON object", ""
        try:
            expected = [_result_row(seq, i, r) for i, r in enumerate(run.get("results", []))]
        except StoreError:
            return computed, run, "the run JSON has malformed results"
        rows = [row[:-1] for row in self._rows(db, seq)]
        return computed, run, "" if rows == expected else "results rows do not match the run JSON"

    def _check_rows(
        self, db: sqlite3.Connection, seq: int, prev_hash: str, content: str, stored_hash: str
    ) -> tuple[str, dict[str, Any] | str, str]:
        """A run saved row by row: its hash recomputed from the stored rows (as the save did),
        the run JSON without results (or what is wrong with it), and what is wrong with the
        rows: each row's columns must match its own JSON, and the idx run 0, 1, 2, ..."""
        try:
            run = json.loads(content)
        except ValueError:
            return chain_hash(prev_hash, content), "is not valid JSON", ""
        if not isinstance(run, dict):
            return chain_hash(prev_hash, content), "is not a JSON object", ""
        try:
            head, tail = _framing(run)
        except StoreError:
            # A results member in the run row: a whole run's JSON where a row-wise run's belongs.
            # Named only if its hash matches (an edited layout); otherwise the run was edited.
            computed = chain_hash(prev_hash, content)
            return computed, run, "its layout was changed" if computed == stored_hash else ""
        digest = _RunDigest(prev_hash, head)
        problem = ""
        for expected_idx, row in enumerate(self._rows(db, seq)):
            result_json = row[-1]
            if not isinstance(result_json, str):
                problem = "results rows do not match the run JSON"
                continue
            digest.add(result_json)
            try:
                matches = _result_row(seq, expected_idx, json.loads(result_json)) == row[:-1]
            except (ValueError, StoreError):
                matches = False
            if not matches:
                problem = "results rows do not match the run JSON"
        return digest.hexdigest(tail), run, problem
