"""Delivery receipts, kept in the run store's SQLite file in a table of their own.

The table is created here (``CREATE TABLE IF NOT EXISTS``), not in store/schema.py, so the
store's schema version is untouched. The store is opened first so that a new file gets the
store's own schema before this table appears beside it. One transaction per receipt.
"""

from __future__ import annotations

import sqlite3
from dataclasses import astuple, dataclass, fields
from pathlib import Path

from driftvakt.store import DEFAULT_TIMEOUT, Store, StoreError

_TABLE = """
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
)
"""


@dataclass(frozen=True)
class Receipt:
    run_id: str
    bundle: str  # file name
    bundle_sha256: str
    destination: str  # sftp://user@host:port, never a password
    remote_path: str
    host_key: str  # the key type and SHA256 fingerprint the server proved it holds
    delivered_at: str
    attempts: int


_COLUMNS = ", ".join(f.name for f in fields(Receipt))


def _connect(path: Path) -> sqlite3.Connection:
    Store(path).close()  # the store's schema first, and a clear error if it is not a store
    try:
        db = sqlite3.connect(path, timeout=DEFAULT_TIMEOUT, isolation_level=None)
        db.execute(_TABLE)
    except sqlite3.Error as exc:
        raise StoreError(f"run store {path}: cannot keep export receipts: {exc}") from exc
    return db


def record(path: Path, receipt: Receipt) -> None:
    db = _connect(path)
    try:
        db.execute("BEGIN IMMEDIATE")
        db.execute(
            f"INSERT INTO export_receipts ({_COLUMNS}) "  # noqa: S608 - fixed column names
            f"VALUES ({', '.join('?' * len(fields(Receipt)))})",
            astuple(receipt),
        )
        db.execute("COMMIT")
    except sqlite3.Error as exc:
        raise StoreError(f"run store {path}: the receipt was not saved: {exc}") from exc
    finally:
        db.close()


def receipts(path: Path) -> list[Receipt]:
    """Every receipt, oldest first."""
    if not path.exists():
        raise StoreError(f"no run store at {path}")
    db = _connect(path)
    try:
        rows = db.execute(
            f"SELECT {_COLUMNS} FROM export_receipts ORDER BY id"  # noqa: S608 - fixed names
        ).fetchall()
    except sqlite3.Error as exc:
        raise StoreError(f"run store {path}: cannot read export receipts: {exc}") from exc
    finally:
        db.close()
    return [Receipt(*row) for row in rows]
