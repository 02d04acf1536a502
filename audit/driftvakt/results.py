"""Audit results: statuses, one result per host and control, a run, and its JSON form."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any


class Status(StrEnum):
    PASS = "pass"  # noqa: S105 - a status, not a password
    FAIL = "fail"
    ERROR = "error"  # we could not see: never counted as pass or fail
    WAIVED = "waived"
    NOT_APPLICABLE = "not_applicable"


@dataclass
class Result:
    host: str
    control: str
    status: Status
    evidence: list[str] = field(default_factory=list)
    reason: str = ""
    duration: float = 0.0
    # Structured facts a check recorded beside its verdict (pytest's ``record_property``), e.g.
    # the per-host rights inventory; omitted from the JSON when empty.
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass
class Run:
    id: str
    started: str
    finished: str
    user: str
    driftvakt_version: str
    baseline_revision: str
    inventory: str
    limit: str | None
    hosts: list[str]
    results: list[Result] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counts = {s.value: 0 for s in Status}
        for r in self.results:
            counts[r.status.value] += 1
        return counts

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for result in data["results"]:
            if not result["facts"]:
                del result["facts"]
        data["summary"] = self.counts()
        return data


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def write_text_atomic(path: Path, text: str) -> None:
    """Write to a temporary file in the same folder, fsync, then rename over the target."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
