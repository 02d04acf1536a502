"""The run store: every audit run, hardening change record and delivery receipt, in one
embedded SQLite file (the default) or a PostgreSQL database shared by several controllers;
runs chained so that edits and deletions show. Nothing outside this package touches the tables.

One module per job: ``schema`` (tables, versioned migrations), ``database`` (the connection,
transactions, errors; SQLite), ``postgres`` (the PostgreSQL backend), ``location`` (a path or a
URL), ``chain`` (canonical JSON and hashes), ``writing`` (begin, stage, save), ``queries``
(reading back), ``retention`` (prune), ``verification`` (walking the chain), ``changelog``
(change records), ``receipts`` (delivery receipts); :class:`Store` (``runstore``) ties them to
one store. Callers import from here.
"""

from driftvakt.store.chain import GENESIS_HASH, canonical_json, chain_hash
from driftvakt.store.changelog import ChangeRecord, TaskChange
from driftvakt.store.database import DEFAULT_TIMEOUT
from driftvakt.store.errors import StoreError
from driftvakt.store.location import Location
from driftvakt.store.receipts import Receipt
from driftvakt.store.records import IncompleteRun, RunOutline, RunTally, StoredRun
from driftvakt.store.retention import STALE_AUDIT
from driftvakt.store.runstore import Store
from driftvakt.store.schema import ROW_COLUMNS, ROWS, SCHEMA_VERSION, WHOLE

__all__ = [
    "DEFAULT_TIMEOUT",
    "GENESIS_HASH",
    "ROWS",
    "ROW_COLUMNS",
    "SCHEMA_VERSION",
    "STALE_AUDIT",
    "WHOLE",
    "ChangeRecord",
    "IncompleteRun",
    "Location",
    "Receipt",
    "RunOutline",
    "RunTally",
    "Store",
    "StoreError",
    "StoredRun",
    "TaskChange",
    "canonical_json",
    "chain_hash",
]
