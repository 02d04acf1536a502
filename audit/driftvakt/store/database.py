"""The run store's connection: what every backend offers (:class:`Database`), and the embedded
one, an SQLite file (:class:`SqliteDatabase`). PostgreSQL is in ``postgres.py``.

The store's SQL is written once, with ``?`` placeholders and SQL both engines speak; what
differs (how the next run's seq is found, the order staged results keep, the schema version,
the migrations) is a member of the backend. Three kinds of transaction:

- ``DEFERRED``: one consistent snapshot to read from;
- ``IMMEDIATE``: a write that does not touch the chain (begin, stage, change records);
- ``CHAIN``: a write that appends to or cuts the chain. Only one at a time across every writer,
  so the chain stays one line: SQLite's write lock, PostgreSQL's advisory lock.

The SQLite file is in WAL mode with ``synchronous=FULL``, so a process killed mid-save leaves no
trace of that run. A second writer waits (``busy_timeout``) and then fails with
:class:`StoreError`.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol

from driftvakt.store.errors import StoreError

DEFAULT_TIMEOUT = 30.0


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """What the store's modules use of a connection (sqlite3's, or the PostgreSQL adapter)."""

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> Cursor: ...

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Cursor: ...


class Database:
    """One open run store. Safe to share between threads (one transaction at a time)."""

    label: str  # how messages name the store: a file path, or a URL without its password
    file: Path | None  # the SQLite file; None for a server
    timeout: float
    # SQL for the seq of a run being appended (inside the CHAIN transaction).
    next_seq: str
    # The column that keeps the order results were staged in.
    staged_order: str
    # version -> the script that brings a store at version - 1 to it.
    migrations: dict[int, str]

    def close(self) -> None:
        raise NotImplementedError

    def errors(self) -> AbstractContextManager[None]:
        raise NotImplementedError

    def transaction(self, kind: str = "IMMEDIATE") -> AbstractContextManager[Connection]:
        raise NotImplementedError

    def schema_version(self, db: Connection) -> int:
        """The store's schema version; 0 for an empty database."""
        raise NotImplementedError

    def set_schema_version(self, db: Connection, version: int) -> None:
        raise NotImplementedError

    def holds_tables(self, db: Connection) -> bool:
        """True if the database holds any table (a version-0 database must be empty)."""
        raise NotImplementedError


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


class SqliteDatabase(Database):
    """One SQLite file, the embedded default."""

    next_seq = "NULL"  # INTEGER PRIMARY KEY AUTOINCREMENT: never reused, even after a prune
    staged_order = "rowid"

    def __init__(self, path: Path, timeout: float = DEFAULT_TIMEOUT) -> None:
        from driftvakt.store.schema import SQLITE_MIGRATIONS

        self.migrations = SQLITE_MIGRATIONS
        self.file = Path(path)
        self.label = str(self.file)
        self.timeout = timeout
        self._lock = threading.RLock()
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the folder for {self.file}: {exc}") from exc
        try:  # made 0600 before SQLite opens it (its -wal/-shm files copy the mode)
            os.close(os.open(self.file, os.O_WRONLY | os.O_CREAT, 0o600))
        except OSError as exc:
            raise StoreError(f"cannot create run store {self.file}: {exc.strerror}") from exc
        try:
            self.connection = sqlite3.connect(
                self.file, timeout=timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open run store {self.file}: {exc}") from exc
        try:
            with self.errors():
                self.connection.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
                self.connection.execute("PRAGMA foreign_keys = ON")
                self.connection.execute("PRAGMA synchronous = FULL")
                mode = self.connection.execute("PRAGMA journal_mode").fetchone()[0]
                if str(mode).lower() != "wal":
                    self.connection.execute("PRAGMA journal_mode = WAL")
        except BaseException:
            self.connection.close()
            raise

    def close(self) -> None:
        with self._lock:
            self.connection.close()

    @contextmanager
    def errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.OperationalError as exc:
            if _is_busy(exc):
                raise StoreError(
                    f"run store {self.label} is busy: another driftvakt process kept it locked "
                    f"for over {self.timeout:g} s; try again when it has finished"
                ) from exc
            raise StoreError(f"run store {self.label}: {exc}") from exc
        except sqlite3.IntegrityError as exc:
            raise StoreError(f"run store {self.label} refused a write: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.label} is not a usable run store: {exc}") from exc

    @contextmanager
    def transaction(self, kind: str = "IMMEDIATE") -> Iterator[Connection]:
        """IMMEDIATE and CHAIN take SQLite's one write lock up front; DEFERRED is a snapshot."""
        begin = "DEFERRED" if kind == "DEFERRED" else "IMMEDIATE"
        with self._lock, self.errors():
            self.connection.execute(f"BEGIN {begin}")
            try:
                yield self.connection
            except BaseException:
                self.connection.rollback()
                raise
            self.connection.commit()

    def schema_version(self, db: Connection) -> int:
        return int(db.execute("PRAGMA user_version").fetchone()[0])

    def set_schema_version(self, db: Connection, version: int) -> None:
        db.execute(f"PRAGMA user_version = {int(version)}")

    def holds_tables(self, db: Connection) -> bool:
        return bool(db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0])
