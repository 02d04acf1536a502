"""Walking the chain: every hash recomputed from what is stored, every link and row checked.

Limits of tamper evidence. The chain is kept in the same file it protects. Anyone who can write
the file can rewrite a run *and* recompute every later hash, delete the newest runs (nothing
links to them yet), or delete old runs and insert a matching anchor. Verification finds edits
and deletions made without that care: a changed run, a run removed from the middle, result rows
that no longer match their run. Truncation and a rewritten chain are only detectable against a
copy of a chain hash kept elsewhere -- e.g. the latest hash written into a signed export --
which :meth:`Store.verify` accepts as ``known_hashes``. Staged results are not chained until the
run is saved; whoever could change them could change the finished run the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from driftvakt.store.chain import GENESIS_HASH, RunDigest, chain_hash, framing, result_row
from driftvakt.store.database import Connection
from driftvakt.store.errors import StoreError
from driftvakt.store.schema import ROWS


def problems(db: Connection, known_hashes: Iterable[str]) -> list[str]:
    """One line per problem found in the chain (empty: intact), read in ``db``'s transaction."""
    found: list[str] = []
    anchors = db.execute("SELECT seq, hash FROM chain_anchors ORDER BY seq").fetchall()
    expected_prev, prev_seq, prev_label = GENESIS_HASH, 0, "the genesis hash"
    if anchors:
        anchor_seq, anchor_hash = anchors[-1]
        expected_prev, prev_seq = anchor_hash, anchor_seq
        prev_label = f"the prune anchor (seq {anchor_seq})"
    seen_hashes = {str(a[1]) for a in anchors}
    for seq, run_id, started, finished, prev_hash, digest, layout, group in db.execute(
        "SELECT seq, id, started, finished, prev_hash, hash, layout, run_group FROM runs "
        "ORDER BY seq"
    ).fetchall():
        seen_hashes.add(digest)
        name = f"run seq {seq} ({run_id})"
        (content,) = db.execute("SELECT content FROM runs WHERE seq = ?", (seq,)).fetchone()
        # One run at a time, its result rows streamed: verifying needs no whole store or run.
        if layout == ROWS:
            computed, run, rows_problem = _check_rows(db, seq, prev_hash, content, digest)
        else:
            computed, run, rows_problem = _check_whole(db, seq, prev_hash, content)
        if computed != digest:
            found.append(f"{name} was edited: its content does not match its hash")
        if seq <= prev_seq:
            found.append(
                f"{name} is older than {prev_label}: the anchor or the run was tampered with"
            )
        elif prev_hash != expected_prev:
            found.append(
                f"{name} does not link to {prev_label}: a run before it was deleted or edited"
            )
        elif seq != prev_seq + 1:
            missing = f"{prev_seq + 1}" if seq == prev_seq + 2 else f"{prev_seq + 1}-{seq - 1}"
            found.append(f"run seq {missing} missing before {name}: runs were deleted")
        expected_prev, prev_seq, prev_label = digest, seq, name
        if isinstance(run, str):
            found.append(f"{name} {run}")
            continue
        columns = (run_id, started, finished, group)
        in_json = (
            run.get("id"),
            str(run.get("started") or ""),
            str(run.get("finished") or ""),
            str(run.get("run_group") or ""),
        )
        if columns != in_json:
            found.append(f"{name}: id/started/finished/run_group columns do not match the run JSON")
        if rows_problem:
            found.append(f"{name}: {rows_problem}")
    for (seq,) in db.execute(
        "SELECT DISTINCT run_seq FROM results WHERE run_seq NOT IN (SELECT seq FROM runs) "
        "ORDER BY run_seq"
    ):
        found.append(f"results rows for run seq {seq}, which is not stored")
    for known in known_hashes:
        if known not in seen_hashes and known != GENESIS_HASH:
            found.append(
                f"known hash {known[:16]}... is not in the chain: runs were cut off "
                "or the chain was rewritten"
            )
    return found


def _rows(db: Connection, seq: int) -> Iterator[tuple[Any, ...]]:
    return (
        tuple(row)
        for row in db.execute(
            "SELECT run_seq, idx, host, control, status, evidence, reason, duration, content "
            "FROM results WHERE run_seq = ? ORDER BY idx",
            (seq,),
        )
    )


def _check_whole(
    db: Connection, seq: int, prev_hash: str, content: str
) -> tuple[str, dict[str, Any] | str, str]:
    """A run saved before schema 2: its hash, its JSON (or what is wrong with it), and what
    is wrong with its result rows, the copy of its JSON's results."""
    computed = chain_hash(prev_hash, content)
    try:
        run = json.loads(content)
    except ValueError:
        return computed, "is not valid JSON", ""
    if not isinstance(run, dict):
        return computed, "is not a JSON object", ""
    try:
        expected = [result_row(seq, i, r) for i, r in enumerate(run.get("results", []))]
    except StoreError:
        return computed, run, "the run JSON has malformed results"
    rows = [row[:-1] for row in _rows(db, seq)]
    return computed, run, "" if rows == expected else "results rows do not match the run JSON"


def _check_rows(
    db: Connection, seq: int, prev_hash: str, content: str, stored_hash: str
) -> tuple[str, dict[str, Any] | str, str]:
    """A run saved row by row: its hash recomputed from the stored rows (as the save did),
    the run JSON without results (or what is wrong with it), and what is wrong with the
    rows: each row's columns must match its own JSON, and the idx run 0, 1, 2, ..."""
    try:
        run = json.loads(content)
    except ValueError:
        return chain_hash(prev_hash, content), "is not valid JSON", ""
    if not isinstance(run, dict):
        return chain_hash(prev_hash, content), "is not a JSON object", ""
    try:
        head, tail = framing(run)
    except StoreError:
        # A results member in the run row: a whole run's JSON where a row-wise run's belongs.
        # Named only if its hash matches (an edited layout); otherwise the run was edited.
        computed = chain_hash(prev_hash, content)
        return computed, run, "its layout was changed" if computed == stored_hash else ""
    digest = RunDigest(prev_hash, head)
    problem = ""
    for expected_idx, row in enumerate(_rows(db, seq)):
        result_json = row[-1]
        if not isinstance(result_json, str):
            problem = "results rows do not match the run JSON"
            continue
        digest.add(result_json)
        try:
            matches = result_row(seq, expected_idx, json.loads(result_json)) == row[:-1]
        except (ValueError, StoreError):
            matches = False
        if not matches:
            problem = "results rows do not match the run JSON"
    return digest.hexdigest(tail), run, problem
