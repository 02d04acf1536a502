"""The run store's tables, and bringing an older store up to date (``PRAGMA user_version``).

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
"""

from __future__ import annotations

from driftvakt.store.database import Database
from driftvakt.store.errors import StoreError

SCHEMA_VERSION = 2

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


def migrate(database: Database) -> None:
    """Create the tables of a new store, or upgrade an older one; refuse a newer one."""
    with database.errors():
        version = database.connection.execute("PRAGMA user_version").fetchone()[0]
    if version == SCHEMA_VERSION:
        return
    with database.transaction() as db:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"run store {database.path} has schema {version}, newer than this driftvakt "
                f"understands ({SCHEMA_VERSION}); upgrade driftvakt"
            )
        steps = []
        if version == 0:
            if db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                raise StoreError(f"{database.path} is an SQLite file but not a driftvakt store")
            steps.append(_SCHEMA)
        if version < 2:
            steps.append(_UPGRADE_2)
        for script in steps:
            for statement in script.split(";"):
                if statement.strip():
                    db.execute(statement)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
