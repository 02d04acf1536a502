"""What the run store hands back besides run JSON: a saved run's metadata, a run's outline, a
run begun but never saved."""

from __future__ import annotations

import os
import socket
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
class RunTally:
    """A run's results counted, not read (:meth:`Store.tallies`): for trends over many runs."""

    meta: dict[str, Any]  # the run's JSON without "results"
    by_control: dict[str, dict[str, int]]  # control -> status -> how many
    by_host: dict[str, dict[str, int]]  # host -> status -> how many


@dataclass(frozen=True)
class IncompleteRun:
    """A run begun but never saved: the audit was killed, crashed, or is still running."""

    id: str
    started: str
    begun_at: str
    hostname: str
    pid: int
    meta: dict[str, Any]

    @property
    def abandoned(self) -> str:
        """Why the run will never be saved ("" while it may still be running): it was marked
        so when interrupted, or the process that began it on this machine is gone (SIGKILL)."""
        marked = self.meta.get("abandoned")
        if isinstance(marked, dict):
            return f"{marked.get('why', 'stopped')} at {marked.get('at', '?')}"
        if self.hostname == socket.gethostname() and not _alive(self.pid):
            return f"its process (pid {self.pid}) is gone"
        return ""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: it exists
    return True
