"""The hash chain's arithmetic: the canonical JSON a run hashes as, the chain hash, and a run's
hash computed as a stream of its results. No database here: saving and verifying both use it,
so they cannot disagree on what a hash means."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from driftvakt.store.errors import StoreError

GENESIS_HASH = "0" * 64


def canonical_json(data: Any) -> str:
    """The one JSON text a value hashes as: sorted keys, no spaces, UTF-8 kept."""
    try:
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"run is not plain JSON and cannot be stored: {exc}") from exc


def chain_hash(prev_hash: str, content: str) -> str:
    return hashlib.sha256((prev_hash + content).encode("utf-8")).hexdigest()


def result_row(run_seq: int, idx: int, result: Any) -> tuple[Any, ...]:
    """The ``results`` row for one result of a run's JSON."""
    if not isinstance(result, dict):
        raise StoreError(f"result #{idx} of the run is not an object")
    try:
        host, control, status = result["host"], result["control"], result["status"]
    except KeyError as exc:
        raise StoreError(f"result #{idx} of the run has no {exc.args[0]!r}") from exc
    evidence = result.get("evidence") or []
    duration = result.get("duration") or 0.0
    if not isinstance(duration, int | float) or isinstance(duration, bool):
        raise StoreError(f"result #{idx} of the run has a non-numeric duration")
    return (
        run_seq,
        idx,
        str(host),
        str(control),
        str(status),
        canonical_json(evidence),
        str(result.get("reason") or ""),
        float(duration),
    )


def staged_row(result: Any) -> tuple[Any, ...]:
    """A result as a ``results_in_progress`` row: its query columns and its canonical JSON."""
    return (*result_row(0, 0, result)[2:], canonical_json(result))


def framing(meta: dict[str, Any]) -> tuple[str, str]:
    """The text before and after the results in a run's canonical JSON.

    ``head + ",".join(canonical_json(r) for r in results) + tail`` is exactly
    ``canonical_json({**meta, "results": results})``: sorted keys, so the run's other members
    fall either side of ``"results"``; each member is ``key:value`` in canonical form.
    """
    if "results" in meta:
        raise StoreError("the run's results are given twice")
    if not all(isinstance(key, str) for key in meta):
        raise StoreError("run is not plain JSON and cannot be stored: a key is not a string")
    members = {key: f"{canonical_json(key)}:{canonical_json(meta[key])}" for key in meta}
    before = [members[key] for key in sorted(meta) if key < "results"]
    after = [members[key] for key in sorted(meta) if key > "results"]
    head = "{" + "".join(f"{member}," for member in before) + '"results":['
    tail = "]" + "".join(f",{member}" for member in after) + "}"
    return head, tail


class RunDigest:
    """``chain_hash(prev_hash, J)`` of a run's canonical JSON J, fed one result at a time."""

    def __init__(self, prev_hash: str, head: str) -> None:
        self._sha = hashlib.sha256((prev_hash + head).encode("utf-8"))
        self._first = True

    def add(self, result_json: str) -> None:
        if not self._first:
            self._sha.update(b",")
        self._first = False
        self._sha.update(result_json.encode("utf-8"))

    def hexdigest(self, tail: str) -> str:
        sha = self._sha.copy()
        sha.update(tail.encode("utf-8"))
        return sha.hexdigest()
