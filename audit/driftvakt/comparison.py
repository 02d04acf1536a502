"""Which earlier run a run is compared with, and reading stored runs for drift.

The one comparison rule, for ``driftvakt drift``, the reports and the audit: the earlier run is
one named (a result file or a stored run id), or the newest run started at least a duration
before a point in time (``--since 30d``), or by default the run stored just before it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from driftvakt.drift import DriftReport, RunSide, compare
from driftvakt.errors import BadInputError
from driftvakt.runref import load_run
from driftvakt.store import Location, Store, StoreError
from driftvakt.store.location import exists
from driftvakt.timewindow import parse_since


def _started(run: dict[str, Any]) -> datetime:
    try:
        return datetime.fromisoformat(str(run.get("started", "")))
    except ValueError as exc:
        raise BadInputError(f"run {run.get('id')}: unreadable start time") from exc


def previous_stored(store: Store, run_id: str) -> str | None:
    """The default comparison: the id of the run stored just before ``run_id`` (None: it is
    the oldest). Raises :class:`StoreError` if ``run_id`` is not stored."""
    outline = store.outline_before(run_id)
    return None if outline is None else str(outline.meta["id"])


def comparison_run(
    current: dict[str, Any],
    store_path: Location,
    compare: str | None = None,
    since: str | None = None,
    fallback_to_oldest: bool = False,
    since_from: datetime | None = None,
) -> dict[str, Any] | None:
    """The run to compare ``current`` with, or None when the store holds none.

    ``since`` is measured back from ``since_from`` (default: when ``current`` started; the
    ``drift`` command measures from now). ``fallback_to_oldest``: with ``since`` and no run that
    old, the oldest stored run before ``current`` (a monthly report in a store younger than a
    month still shows what changed)."""
    if compare:
        return load_run(compare, store_path)
    if not exists(store_path):
        return None
    with Store(store_path) as store:
        if since is None:
            try:
                previous = previous_stored(store, str(current["id"]))
            except StoreError:  # a result file whose run is not in the store
                return None
            return None if previous is None else store.load(previous)
        age = parse_since(since)
        if age is None:
            raise BadInputError(f"--since {since!r}: use a duration like 30d or 12w")
        found = store.as_of((since_from or _started(current)) - age)
        if found is None and fallback_to_oldest:
            older = [r for r in store.since(datetime.min) if _started(r) < _started(current)]
            found = older[0] if older else None
        return found


def stored_side(store: Store, run_id: str) -> RunSide:
    """A stored run as drift reads it: its outline now, one host's results when asked."""
    outline = store.outline(run_id)
    full_id = str(outline.meta.get("id") or run_id)  # host_results takes no prefix
    return RunSide(
        outline.meta,
        frozenset(outline.hosts),
        frozenset(outline.controls),
        outline.count,
        lambda host: store.host_results(full_id, host),
    )


def stored_drift(store: Store, run_id: str) -> DriftReport:
    """The drift of a stored run against its default comparison run, read host by host."""
    previous = previous_stored(store, run_id)
    before = None if previous is None else stored_side(store, previous)
    return compare(before, stored_side(store, run_id))
