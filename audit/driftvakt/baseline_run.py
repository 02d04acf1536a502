"""The earlier run a report compares with: one named (a result file or a stored run id), the
newest run at least a duration older than the reported one (``--since 30d``), or by default the
run stored just before it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from driftvakt.drift import parse_since
from driftvakt.errors import BadInputError
from driftvakt.runref import load_run
from driftvakt.store import Store, StoreError


def _started(run: dict[str, Any]) -> datetime:
    try:
        return datetime.fromisoformat(str(run.get("started", "")))
    except ValueError as exc:
        raise BadInputError(f"run {run.get('id')}: unreadable start time") from exc


def comparison_run(
    current: dict[str, Any],
    store_path: Path,
    compare: str | None = None,
    since: str | None = None,
    fallback_to_oldest: bool = False,
) -> dict[str, Any] | None:
    """The run to compare ``current`` with, or None when the store holds none.

    ``fallback_to_oldest``: with ``since`` and no run that old, the oldest stored run before
    ``current`` (a monthly report in a store younger than a month still shows what changed)."""
    if compare:
        return load_run(compare, store_path)
    if not store_path.exists():
        return None
    with Store(store_path) as store:
        if since is None:
            try:
                return store.before(str(current["id"]))
            except StoreError:  # a result file whose run is not in the store
                return None
        age = parse_since(since)
        if age is None:
            raise BadInputError(f"--since {since!r}: use a duration like 30d or 12w")
        found = store.as_of(_started(current) - age)
        if found is None and fallback_to_oldest:
            older = [r for r in store.since(datetime.min) if _started(r) < _started(current)]
            found = older[0] if older else None
        return found
