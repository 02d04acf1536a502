"""Delivery receipts, kept in the run store (the table and its SQL: store/receipts.py)."""

from __future__ import annotations

from pathlib import Path

from driftvakt.store import Location, Receipt, Store, StoreError
from driftvakt.store.location import describe, exists

__all__ = ["Receipt", "receipts", "record"]


def record(location: Location, receipt: Receipt) -> None:
    with Store(location) as store:
        store.record_receipt(receipt)


def receipts(location: Location) -> list[Receipt]:
    """Every receipt, oldest first."""
    if isinstance(location, Path) and not exists(location):
        raise StoreError(f"no run store at {describe(location)}")
    with Store(location, create=False) as store:
        return store.receipts()
