"""Audit results: statuses, one result per host and control, a run, and its JSON form."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from pathlib import Path
from typing import IO, Any


class Status(StrEnum):
    PASS = "pass"  # noqa: S105 - a status, not a password
    FAIL = "fail"
    ERROR = "error"  # we could not see: never counted as pass or fail
    WAIVED = "waived"
    NOT_APPLICABLE = "not_applicable"


class ErrorKind(StrEnum):
    """Why a result is ``error``: read by the gate, reports and exit codes instead of prose."""

    UNREACHABLE = "unreachable"  # nothing usable answered: refused, no route, silent, no banner
    HOST_KEY = "host_key"  # unknown, changed or revoked host key; known_hosts unreadable
    AUTH = "auth"  # login or privilege (sudo) refused
    TIMEOUT = "timeout"  # the host stopped answering during the audit
    PROTOCOL = "protocol"  # the connection broke or answered nonsense
    CONFIG = "config"  # the host's inventory settings cannot be used
    CHECK = "check"  # a check could not judge (its own error, a missing input)
    INTERNAL = "internal"  # a fault in driftvakt itself


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
    error_kind: str = ""  # an ErrorKind for an ``error``; omitted from the JSON otherwise
    # The waiver that matched a failure (waivers.Waiver.as_json() and ``expired``): the
    # result is ``waived`` under it, or still ``fail`` if it had expired. Omitted when none.
    waiver: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        # By hand, not dataclasses.asdict: its deep copy was a tenth of the controller's CPU
        # per host. Members are shared with the result, never changed by the JSON writers.
        data: dict[str, Any] = {
            "host": self.host,
            "control": self.control,
            "status": self.status,
            "evidence": list(self.evidence),
            "reason": self.reason,
            "duration": self.duration,
        }
        for optional in ("facts", "error_kind", "waiver"):
            if value := getattr(self, optional):
                data[optional] = value
        return data


RESULT_KEYS = tuple(f.name for f in fields(Result))  # a result's members, in the JSON's order


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
    # Each host's inventory groups (the report summarises a fleet by host group); runs from
    # before this was recorded have none, and their hosts read as ungrouped.
    groups: dict[str, list[str]] = field(default_factory=dict)
    # A run of a launch of several runs (the slices of one AWX job): its run group and the
    # job that ran it. None for a run of its own, and then absent from the JSON.
    launch: dict[str, Any] | None = None

    def counts(self) -> dict[str, int]:
        counts = {s.value: 0 for s in Status}
        for r in self.results:
            counts[r.status.value] += 1
        return counts

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        launch = data.pop("launch")
        if launch:  # the group as its own member: the store indexes it (runs.run_group)
            data["run_group"] = launch["run_group"]
            data["launch"] = {k: v for k, v in launch.items() if k != "run_group"}
        data["results"] = [r.to_json() for r in self.results]
        data["summary"] = self.counts()
        return data


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def write_text_atomic(path: Path, text: str) -> None:
    """Write to a temporary file in the same folder, fsync, then rename over the target."""
    with _atomic(path) as out:
        out.write(text)


def write_run_json_atomic(
    path: Path, run: dict[str, Any], results: Iterable[dict[str, Any]]
) -> None:
    """A run's JSON file, as ``write_json_atomic`` writes it, with the value of the run's
    ``results`` member (present, as a placeholder) taken from ``results`` one at a time: the
    run is never held whole, in memory or in one string."""
    if "results" not in run:
        raise ValueError("the run has no results member to fill")
    with _atomic(path) as out:
        out.write("{")
        for n, (key, value) in enumerate(run.items()):
            out.write(f"{',' if n else ''}\n  {_dumps(key)}: ")
            if key == "results":
                _write_results(out, results)
            else:
                out.write(_dumps(value).replace("\n", "\n  "))
        out.write("\n}\n" if run else "}\n")


def _dumps(value: Any) -> str:
    # JSON strings never hold a raw newline: re-indenting at "\n" is exact.
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def _write_results(out: IO[str], results: Iterable[dict[str, Any]]) -> None:
    empty = True
    for result in results:
        ordered = {key: result[key] for key in RESULT_KEYS if key in result}
        ordered.update((key, value) for key, value in result.items() if key not in ordered)
        text = _dumps(ordered).replace("\n", "\n    ")
        out.write(f"{'[' if empty else ','}\n    {text}")
        empty = False
    out.write("[]" if empty else "\n  ]")


@contextmanager
def _atomic(path: Path) -> Iterator[IO[str]]:
    """A temporary file in the same folder; fsynced and renamed over ``path`` if all went well,
    removed if not."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
