"""Delivery receipts in the run store: one row per export bundle the driftpartner's server
took, one transaction each."""

from __future__ import annotations

from dataclasses import astuple, dataclass, fields

from driftvakt.store.database import Database


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


def record(database: Database, receipt: Receipt) -> None:
    with database.transaction() as db:
        db.execute(
            f"INSERT INTO export_receipts ({_COLUMNS}) "  # noqa: S608 - fixed column names
            f"VALUES ({', '.join('?' * len(fields(Receipt)))})",
            astuple(receipt),
        )


def receipts(database: Database) -> list[Receipt]:
    """Every receipt, oldest first."""
    with database.transaction("DEFERRED") as db:
        rows = db.execute(
            f"SELECT {_COLUMNS} FROM export_receipts ORDER BY id"  # noqa: S608 - fixed names
        ).fetchall()
    return [Receipt(*row) for row in rows]
