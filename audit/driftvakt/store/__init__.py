"""The run store: every audit run kept in one embedded SQLite file, chained so that edits and
deletions show.

One module per job: ``schema`` (tables, migration: the on-disk format), ``database`` (the
connection, transactions, errors), ``chain`` (canonical JSON and hashes), ``writing`` (begin,
stage, save), ``queries`` (reading back), ``retention`` (prune), ``verification`` (walking the
chain); :class:`Store` (``runstore``) ties them to one file. Callers import from here.
"""

from driftvakt.store.chain import GENESIS_HASH, canonical_json, chain_hash
from driftvakt.store.database import DEFAULT_TIMEOUT
from driftvakt.store.errors import StoreError
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
    "IncompleteRun",
    "RunOutline",
    "RunTally",
    "Store",
    "StoreError",
    "StoredRun",
    "canonical_json",
    "chain_hash",
]
