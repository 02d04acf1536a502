"""Change records: one per hardening run (``ansible-playbook site.yml``), kept in the run store.

Written by the Ansible callback ``plugins/callback/driftvakt_changes.py`` (SKA-SEC-14,
RSK-OPS-03, RST-9.2.1, RST-9.7.1): who, when, the change reference, the hosts, and every task
that changed or failed something on a host. The audit result before and after is not copied in:
:func:`audits_around` finds the stored audit runs nearest before and after the change that cover
its hosts, so a record links to the audit evidence instead of duplicating it.

The tables and their SQL are the store's (store/changelog.py); this module opens the store
named by a path or URL. :func:`begin` commits the record's head when the play starts (a run
killed half-way stays listed as ``running``); :func:`finish` writes every task row and the
outcome in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from driftvakt.store import ChangeRecord, Location, Store, StoreError, TaskChange
from driftvakt.store.changelog import RUNNING
from driftvakt.store.location import describe, exists

__all__ = ["RUNNING", "AuditLink", "ChangeRecord", "TaskChange"]

# An audit older than this says little about the state a change started from.
BEFORE_WINDOW = timedelta(days=30)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def begin(location: Location, record: ChangeRecord) -> None:
    """Commit the record's head at once, before any task runs."""
    with Store(location) as store:
        store.begin_change(record)


def finish(location: Location, record: ChangeRecord) -> None:
    """Every task row and the outcome, in one transaction."""
    with Store(location) as store:
        store.finish_change(record)


def _existing(location: Location) -> Store:
    if isinstance(location, Path) and not exists(location):
        raise StoreError(f"no run store at {describe(location)}")
    return Store(location, create=False)


def records(
    location: Location, since: datetime | None = None, host: str | None = None
) -> list[ChangeRecord]:
    """Change records, oldest first, without their tasks; filtered by start time and host."""
    with _existing(location) as store:
        found = store.changes()
    if since is not None:
        found = [r for r in found if _time(r.started) >= since]
    if host is not None:
        found = [r for r in found if host in r.hosts]
    return found


def load(location: Location, id_or_prefix: str) -> ChangeRecord:
    """One record with its tasks, by id or an unambiguous prefix."""
    with _existing(location) as store:
        return store.change(id_or_prefix)


def _time(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@dataclass(frozen=True)
class AuditLink:
    """A stored audit run next to a change, summarised for the change's hosts only."""

    run_id: str
    started: str
    counts: dict[str, int]
    by_control: dict[tuple[str, str], str]  # (host, control) -> status


def audits_around(store: Store, record: ChangeRecord) -> tuple[AuditLink | None, AuditLink | None]:
    """The newest audit that started before the change (within BEFORE_WINDOW) and the first that
    started after it finished, each covering at least one of the change's hosts."""
    start = _time(record.started)
    end = _time(record.finished) if record.finished else None
    before: AuditLink | None = None
    after: AuditLink | None = None
    hosts = set(record.hosts)
    for run in store.since(start - BEFORE_WINDOW):
        if not hosts & set(run.get("hosts") or []):
            continue
        started = _time(str(run.get("started") or ""))
        if started <= start:
            before = _link(run, hosts)
        elif end is not None and started >= end and after is None:
            after = _link(run, hosts)
    return before, after


def _link(run: dict[str, Any], hosts: set[str]) -> AuditLink:
    mine = [r for r in run.get("results", []) if r.get("host") in hosts]
    counts: dict[str, int] = {}
    for r in mine:
        counts[str(r["status"])] = counts.get(str(r["status"]), 0) + 1
    return AuditLink(
        str(run["id"]),
        str(run.get("started") or ""),
        counts,
        {(str(r["host"]), str(r["control"])): str(r["status"]) for r in mine},
    )
