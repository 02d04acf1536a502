"""The run store on a PostgreSQL server, shared by several controllers (``--store
postgresql://...``). psycopg 3 is imported here only, and this module only when a store's
location is such a URL: the one-host audit on the embedded SQLite store never pays for it.

Appends stay one line however many controllers write at once: a CHAIN transaction runs holding
an advisory lock (released when it ends, or by the server when a killed writer's connection
closes), so it reads the head only when no other append is under way, and ``UNIQUE
(prev_hash)`` refuses a second run linking to the same predecessor should anything ever append
without the lock. Waiting for the lock is bounded by ``lock_timeout`` (the store's timeout).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from driftvakt.store.database import DEFAULT_TIMEOUT, Connection, Cursor, Database
from driftvakt.store.errors import StoreError
from driftvakt.store.schema import POSTGRES_MIGRATIONS

# pg_advisory_xact_lock's key for the chain: any fixed 64-bit number other tools will not use
# (the bytes of "drftvakt").
CHAIN_LOCK = 0x6472667476616B74


def without_password(url: str) -> str:
    """The URL as messages may show it."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


class _Adapter:
    """A psycopg connection speaking the store's ``?`` placeholders (none of the store's SQL
    holds a literal ``?`` or ``%``)."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> Cursor:
        cursor: Cursor = self._connection.execute(sql.replace("?", "%s"), tuple(parameters))
        return cursor

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Cursor:
        cursor = self._connection.cursor()
        cursor.executemany(sql.replace("?", "%s"), [tuple(p) for p in parameters])
        result: Cursor = cursor
        return result


class PostgresDatabase(Database):
    """One PostgreSQL database holding the store's tables."""

    # The seq follows the newest run or prune anchor; computed under the chain lock.
    next_seq = (
        "(SELECT coalesce(max(seq), 0) + 1 FROM "
        "(SELECT seq FROM runs UNION ALL SELECT seq FROM chain_anchors) AS known)"
    )
    staged_order = "pos"

    def __init__(self, url: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        try:
            import psycopg
        except ImportError as exc:
            raise StoreError(
                "a PostgreSQL run store needs psycopg 3: pip install 'driftvakt[postgres]' "
                "(or use a file path for the embedded SQLite store)"
            ) from exc
        self._psycopg = psycopg
        self.migrations = POSTGRES_MIGRATIONS
        self.file = None
        self.label = without_password(url)
        self.timeout = timeout
        self._lock = threading.RLock()
        try:
            self._connection = psycopg.connect(
                url,
                autocommit=True,  # transactions are the explicit BEGIN ... COMMIT below
                connect_timeout=max(1, int(timeout)),
                options=f"-c lock_timeout={int(timeout * 1000)}",
            )
        except psycopg.Error as exc:
            raise StoreError(f"cannot open run store {self.label}: {_one_line(exc)}") from exc
        self._adapter = _Adapter(self._connection)

    def close(self) -> None:
        with self._lock:
            self._connection.close()

    @contextmanager
    def errors(self) -> Iterator[None]:
        psycopg = self._psycopg
        try:
            yield
        except psycopg.errors.LockNotAvailable as exc:
            raise StoreError(
                f"run store {self.label} is busy: another driftvakt process held the chain "
                f"for over {self.timeout:g} s; try again when it has finished"
            ) from exc
        except psycopg.errors.UniqueViolation as exc:
            raise StoreError(f"run store {self.label} refused a write: {_one_line(exc)}") from exc
        except psycopg.Error as exc:
            raise StoreError(f"run store {self.label}: {_one_line(exc)}") from exc

    @contextmanager
    def transaction(self, kind: str = "IMMEDIATE") -> Iterator[Connection]:
        """DEFERRED: one snapshot (REPEATABLE READ, read only); IMMEDIATE: an ordinary write;
        CHAIN: a write that holds the chain's advisory lock from before it begins until it
        ends. Taken before BEGIN, not inside: a transaction begun before the lock was granted
        would keep PostgreSQL's catalog cache from then, and miss tables another writer
        created meanwhile (two controllers opening a new store at once did: found here)."""
        begin = {
            "DEFERRED": "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
            "IMMEDIATE": "BEGIN",
            "CHAIN": "BEGIN",
        }[kind]
        with self._lock, self.errors():
            if kind == "CHAIN":  # released below, or by the server when a killed writer's
                # connection closes
                self._connection.execute("SELECT pg_advisory_lock(%s)", (CHAIN_LOCK,))
            try:
                self._connection.execute(begin)
                try:
                    yield self._adapter
                except BaseException:
                    if not self._connection.closed:
                        self._connection.execute("ROLLBACK")
                    raise
                self._connection.execute("COMMIT")
            finally:
                if kind == "CHAIN" and not self._connection.closed:
                    self._connection.execute("SELECT pg_advisory_unlock(%s)", (CHAIN_LOCK,))

    def schema_version(self, db: Connection) -> int:
        if db.execute("SELECT to_regclass('driftvakt_schema')").fetchone()[0] is None:
            return 0
        row = db.execute("SELECT max(version) FROM driftvakt_schema").fetchone()
        return int(row[0] or 0)

    def set_schema_version(self, db: Connection, version: int) -> None:
        db.execute("DELETE FROM driftvakt_schema")
        db.execute("INSERT INTO driftvakt_schema (version) VALUES (?)", (version,))

    def holds_tables(self, db: Connection) -> bool:
        row = db.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()"
        ).fetchone()
        return bool(row[0])


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())
