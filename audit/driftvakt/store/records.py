"""What the run store hands back besides run JSON: a saved run's metadata, a run's outline, a
run begun but never saved."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class StoredRun:
    """Metadata of one saved run (the run itself: :meth:`Store.load`)."""

    seq: int
    id: str
    started: str
    finished: str
    prev_hash: str
    hash: str
    saved_at: str
    counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class RunOutline:
    """A run without its results (:meth:`Store.outline`)."""

    meta: dict[str, Any]  # the run's JSON without "results"
    hosts: tuple[str, ...]  # hosts with at least one result, sorted
    controls: tuple[str, ...]  # controls with at least one result, sorted
    count: int  # how many results


@dataclass(frozen=True)
class IncompleteRun:
    """A run begun but never saved: the audit was killed, crashed, or is still running."""

    id: str
    started: str
    begun_at: str
    hostname: str
    pid: int
    meta: dict[str, Any]
