"""The run store's connection: one SQLite file opened with the settings the store relies on,
its transactions, and SQLite's errors turned into one actionable :class:`StoreError`.

The database is in WAL mode with ``synchronous=FULL``, so a process killed mid-save leaves no
trace of that run. A second writer waits (``busy_timeout``) and then fails with
:class:`StoreError`.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from driftvakt.store.errors import StoreError

DEFAULT_TIMEOUT = 30.0


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


class Database:
    """One open store file. Safe to share between threads (one transaction at a time)."""

    def __init__(self, path: Path, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self._lock = threading.RLock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the folder for {self.path}: {exc}") from exc
        try:  # made 0600 before SQLite opens it (its -wal/-shm files copy the mode)
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        except OSError as exc:
            raise StoreError(f"cannot create run store {self.path}: {exc.strerror}") from exc
        try:
            self.connection = sqlite3.connect(
                self.path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open run store {self.path}: {exc}") from exc
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
                    f"run store {self.path} is busy: another driftvakt process kept it locked "
                    f"for over {self.timeout:g} s; try again when it has finished"
                ) from exc
            raise StoreError(f"run store {self.path}: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path} is not a usable run store: {exc}") from exc

    @contextmanager
    def transaction(self, kind: str = "IMMEDIATE") -> Iterator[sqlite3.Connection]:
        """One transaction: IMMEDIATE takes the write lock up front, DEFERRED is a snapshot read."""
        with self._lock, self.errors():
            self.connection.execute(f"BEGIN {kind}")
            try:
                yield self.connection
            except BaseException:
                self.connection.rollback()
                raise
            self.connection.commit()
