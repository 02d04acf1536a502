"""The chain's heads kept outside the store, so that ``verify`` can catch what the chain alone
cannot: the newest runs deleted, the file truncated or emptied, the whole chain rewritten with
recomputed hashes.

Every saved run and every prune appends one JSON line to ``<store>.heads`` beside the store
(mode 0600, opened append-only, fsynced) and, where the machine has a system log, one line
tagged ``driftvakt-chain`` to it (``logger``), which an attacker holding only the store's folder
cannot take back. A signed export also carries the head (docs/export.md). Keep the head log on
append-only storage (``chattr +a``) or forward the system log, as the region's log policy says.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from driftvakt.store.clock import now

SYSLOG_TAG = "driftvakt-chain"


@dataclass(frozen=True)
class Head:
    event: str  # "saved" (a run) or "pruned" (the anchor left by a prune)
    seq: int
    hash: str
    run: str
    at: str
    line: int


def log_path(store: Path) -> Path:
    return store.with_name(store.name + ".heads")


def record(store: Path | None, label: str, event: str, seq: int, digest: str, run_id: str) -> None:
    """Append one head (to the file beside an SQLite store; ``store`` None: a server's, system
    log only); a failure to write it is the caller's error (the run is not lost)."""
    entry = {"at": now(), "event": event, "seq": seq, "hash": digest, "run": run_id}
    if store is not None:
        fd = os.open(log_path(store), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (json.dumps(entry, sort_keys=True) + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)
    _to_system_log(str(store.resolve()) if store is not None else label, entry)


def _to_system_log(name: str, entry: dict[str, object]) -> None:
    logger = shutil.which("logger")
    if logger is None or not Path("/dev/log").exists():
        return  # no system log here: the head log and signed exports remain
    text = f"{name} {entry['event']} seq={entry['seq']} hash={entry['hash']}"
    subprocess.run(
        [logger, "-t", SYSLOG_TAG, "--", text], check=False, timeout=5, capture_output=True
    )


def read(store: Path) -> tuple[list[Head], list[str]]:
    """The logged heads and one problem line per unreadable line."""
    path = log_path(store)
    try:
        text = path.read_text("utf-8", errors="replace")
    except FileNotFoundError:
        return [], []
    heads: list[Head] = []
    problems: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        try:
            data = json.loads(raw)
            heads.append(
                Head(
                    str(data["event"]),
                    int(data["seq"]),
                    str(data["hash"]),
                    str(data["run"]),
                    str(data["at"]),
                    number,
                )
            )
        except (ValueError, KeyError, TypeError):
            problems.append(f"head log {path}:{number} is not a head entry: it was edited")
    return heads, problems


def problems(store: Path, runs: dict[int, str], anchors: dict[int, str]) -> list[str]:
    """What the logged heads say is wrong with the chain now (``runs``/``anchors``: seq → hash)."""
    heads, found = read(store)
    path = log_path(store)
    pruned_up_to = max(anchors, default=0)
    logged_prunes = {h.seq: h.hash for h in heads if h.event == "pruned"}
    for head in heads:
        where = f"{path}:{head.line}"
        if head.event == "pruned":
            if anchors.get(head.seq) != head.hash:
                found.append(f"the prune anchor at seq {head.seq} logged in {where} is gone")
            continue
        if head.seq < pruned_up_to or (head.seq == pruned_up_to and head.seq not in runs):
            if head.seq == pruned_up_to and anchors[head.seq] != head.hash:
                found.append(
                    f"the prune anchor at seq {head.seq} does not match the run logged in "
                    f"{where}: the chain was rewritten"
                )
            continue  # pruned: its hash lives on in the anchor
        stored = runs.get(head.seq)
        if stored is None:
            found.append(
                f"run seq {head.seq} ({head.run}, saved {head.at}, {where}) is not in the "
                "store: runs were deleted or the store was emptied"
            )
        elif stored != head.hash:
            found.append(
                f"run seq {head.seq} has another hash than when it was saved ({where}): "
                "the chain was rewritten"
            )
    first_logged = min((h.seq for h in heads), default=None)
    for seq in sorted(anchors):
        if first_logged is not None and seq >= first_logged and seq not in logged_prunes:
            found.append(f"the prune anchor at seq {seq} was never logged: it was forged")
    return found
