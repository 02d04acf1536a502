"""The run store's tables, and bringing an older store up to date: versioned migrations, one
script per version for each backend (SQLite: ``PRAGMA user_version``; PostgreSQL: the
``driftvakt_schema`` table). This module alone knows the tables; nothing outside store/ writes SQL.

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
- ``change_runs`` / ``change_tasks`` (``changelog.py``): one record per hardening run and the
  tasks that changed or failed something. ``export_receipts`` (``receipts.py``): one row per
  bundle the driftpartner's server took. Schema 3 brought them into the store's versions (older
  code created them on first use, so the upgrade keeps any that exist), and ``UNIQUE
  (prev_hash)``: two runs can never link to one predecessor, a second guard beside the
  chain lock against a forked chain.

- ``runs.run_group`` (schema 4): the launch a run belongs to, e.g. ``awx-1234`` for every slice
  of one sliced AWX job (``''``: a run of its own). The run's JSON holds it too (``run_group``),
  so it is hashed with the run; the column is there to find a launch's runs, and verify checks
  it against the JSON.

A PostgreSQL store starts at schema 3 (the same tables in PostgreSQL's types; ``seq`` is given
by the append, under the chain lock, since a sequence is not transactional and would leave gaps
verify reports as deleted runs). A later schema adds one script to each backend.
"""

from __future__ import annotations

from driftvakt.store.database import Database
from driftvakt.store.errors import StoreError

SCHEMA_VERSION = 4

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


_UPGRADE_3 = """
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
);
CREATE TABLE IF NOT EXISTS change_tasks (
    change_id TEXT NOT NULL REFERENCES change_runs (id),
    idx INTEGER NOT NULL,
    host TEXT NOT NULL,
    task TEXT NOT NULL,
    controls TEXT NOT NULL,
    status TEXT NOT NULL,
    diff TEXT NOT NULL,
    PRIMARY KEY (change_id, idx)
);
CREATE INDEX IF NOT EXISTS change_runs_started ON change_runs (started);
CREATE TABLE IF NOT EXISTS export_receipts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL,
    bundle TEXT NOT NULL,
    bundle_sha256 TEXT NOT NULL,
    destination TEXT NOT NULL,
    remote_path TEXT NOT NULL,
    host_key TEXT NOT NULL,
    delivered_at TEXT NOT NULL,
    attempts INTEGER NOT NULL
);
CREATE UNIQUE INDEX runs_prev_hash ON runs (prev_hash);
"""
# Schema 3 -> 4: the run group (a launch of several runs: the slices of one AWX job).
_UPGRADE_4 = """
ALTER TABLE runs ADD COLUMN run_group TEXT NOT NULL DEFAULT '';
CREATE INDEX runs_run_group ON runs (run_group)
"""
SQLITE_MIGRATIONS = {1: _SCHEMA, 2: _UPGRADE_2, 3: _UPGRADE_3, 4: _UPGRADE_4}

_POSTGRES_SCHEMA_3 = """
CREATE TABLE driftvakt_schema (version INTEGER NOT NULL);
CREATE TABLE runs (
    seq BIGINT PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    started TEXT NOT NULL,
    finished TEXT NOT NULL,
    prev_hash TEXT NOT NULL UNIQUE,
    hash TEXT NOT NULL,
    saved_at TEXT NOT NULL,
    layout TEXT NOT NULL DEFAULT 'whole',
    content TEXT NOT NULL
);
CREATE INDEX runs_started ON runs (started);
CREATE TABLE results (
    run_seq BIGINT NOT NULL REFERENCES runs (seq),
    idx INTEGER NOT NULL,
    host TEXT NOT NULL,
    control TEXT NOT NULL,
    status TEXT NOT NULL,
    evidence TEXT NOT NULL,
    reason TEXT NOT NULL,
    duration DOUBLE PRECISION NOT NULL,
    content TEXT,
    PRIMARY KEY (run_seq, idx)
);
CREATE INDEX results_host_control ON results (host, control);
CREATE INDEX results_status ON results (status);
CREATE INDEX results_run_host ON results (run_seq, host);
CREATE TABLE chain_anchors (
    seq BIGINT PRIMARY KEY,
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
CREATE TABLE results_in_progress (
    pos BIGINT GENERATED ALWAYS AS IDENTITY,
    run_id TEXT NOT NULL,
    host TEXT NOT NULL,
    control TEXT NOT NULL,
    status TEXT NOT NULL,
    evidence TEXT NOT NULL,
    reason TEXT NOT NULL,
    duration DOUBLE PRECISION NOT NULL,
    content TEXT NOT NULL
);
CREATE INDEX results_in_progress_order ON results_in_progress (run_id, host);
CREATE TABLE change_runs (
    id TEXT PRIMARY KEY,
    started TEXT NOT NULL,
    finished TEXT NOT NULL,
    "user" TEXT NOT NULL,
    change_ref TEXT NOT NULL,
    environment TEXT NOT NULL,
    playbook TEXT NOT NULL,
    inventory TEXT NOT NULL,
    hosts TEXT NOT NULL,
    check_mode INTEGER NOT NULL,
    status TEXT NOT NULL,
    host_stats TEXT NOT NULL,
    job TEXT NOT NULL
);
CREATE TABLE change_tasks (
    change_id TEXT NOT NULL REFERENCES change_runs (id),
    idx INTEGER NOT NULL,
    host TEXT NOT NULL,
    task TEXT NOT NULL,
    controls TEXT NOT NULL,
    status TEXT NOT NULL,
    diff TEXT NOT NULL,
    PRIMARY KEY (change_id, idx)
);
CREATE INDEX change_runs_started ON change_runs (started);
CREATE TABLE export_receipts (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    run_id TEXT NOT NULL,
    bundle TEXT NOT NULL,
    bundle_sha256 TEXT NOT NULL,
    destination TEXT NOT NULL,
    remote_path TEXT NOT NULL,
    host_key TEXT NOT NULL,
    delivered_at TEXT NOT NULL,
    attempts INTEGER NOT NULL
)
"""
POSTGRES_MIGRATIONS = {3: _POSTGRES_SCHEMA_3, 4: _UPGRADE_4}


def migrate(database: Database) -> None:
    """Create the tables of a new store, or upgrade an older one; refuse a newer one."""
    with database.transaction("DEFERRED") as db:
        version = database.schema_version(db)
    if version == SCHEMA_VERSION:
        return
    # CHAIN: two controllers opening a new PostgreSQL store at once must not both create it.
    with database.transaction("CHAIN") as db:
        version = database.schema_version(db)
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"run store {database.label} has schema {version}, newer than this driftvakt "
                f"understands ({SCHEMA_VERSION}); upgrade driftvakt"
            )
        if version == SCHEMA_VERSION:
            return
        if version == 0 and database.holds_tables(db):
            raise StoreError(f"{database.label} holds tables but is not a driftvakt store")
        for step in sorted(v for v in database.migrations if v > version):
            for statement in database.migrations[step].split(";"):
                if statement.strip():
                    try:
                        db.execute(statement)
                    except StoreError:
                        raise
                    except Exception as exc:  # the backend's own error, made one line
                        raise StoreError(
                            f"run store {database.label}: upgrading to schema {step} failed "
                            f"({exc}); keep the file and run driftvakt store verify"
                        ) from exc
        database.set_schema_version(db, SCHEMA_VERSION)
