"""The :class:`Store` callers use: one store (an SQLite file or a PostgreSQL database), each job
delegated to the module that does it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from driftvakt.errors import BadInputError
from driftvakt.store import (
    changelog,
    headlog,
    queries,
    receipts,
    retention,
    verification,
    writing,
)
from driftvakt.store.changelog import ChangeRecord
from driftvakt.store.database import DEFAULT_TIMEOUT, Database, SqliteDatabase
from driftvakt.store.location import Location, describe, is_url
from driftvakt.store.receipts import Receipt
from driftvakt.store.records import IncompleteRun, RunOutline, RunTally, StoredRun
from driftvakt.store.schema import migrate


class Store:
    """The run store: an SQLite file (a path) or a PostgreSQL database (a ``postgresql://``
    URL). Safe to share between threads; close() when done."""

    def __init__(
        self, location: Location, *, timeout: float = DEFAULT_TIMEOUT, create: bool = True
    ) -> None:
        self._database: Database
        if is_url(location):
            from driftvakt.store.postgres import PostgresDatabase

            self._database = PostgresDatabase(str(location), timeout)
        else:
            if not create and not Path(location).is_file():
                raise BadInputError(
                    f"no run store at {location}: check --store (nothing was created)"
                )
            self._database = SqliteDatabase(Path(location), timeout)
        # The file of an SQLite store (its head log, lock and caches go beside it); None for
        # a server.
        self.path: Path | None = self._database.file
        self.label = self._database.label
        self.timeout = timeout
        try:
            if not create and self.path is None:
                with self._database.transaction("DEFERRED") as db:
                    if not self._database.schema_version(db):
                        raise BadInputError(
                            f"no run store at {describe(location)}: check --store "
                            "(nothing was created)"
                        )
            migrate(self._database)
        except BaseException:
            self._database.close()
            raise

    def close(self) -> None:
        self._database.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing (writing.py, retention.py) -------------------------------------------------

    def begin(self, run_meta: dict[str, Any]) -> str:
        """Record that a run started (committed at once); returns its id (made if missing)."""
        return writing.begin(self._database, run_meta)

    def save(self, run_json: dict[str, Any]) -> StoredRun:
        """Store a run and all its results in one transaction, chained to the previous run."""
        return self._logged(writing.save(self._database, run_json))

    def stage(self, run_id: str, results: Iterable[dict[str, Any]]) -> int:
        """Keep results of a begun run (e.g. one host's) until :meth:`save_staged`; committed at
        once, so the caller need not hold them. Returns how many were kept."""
        return writing.stage(self._database, run_id, results)

    def save_staged(self, run_meta: dict[str, Any]) -> StoredRun:
        """Store a begun run whose results were staged, chained to the previous run.

        ``run_meta`` is the run's JSON without ``results``. The staged results become the run's,
        sorted by host and, within a host, in the order staged; all in one transaction.
        """
        return self._logged(writing.save_staged(self._database, run_meta))

    def _logged(self, stored: StoredRun) -> StoredRun:
        """The new head, also outside the store (headlog.py): verify checks against it."""
        headlog.record(self.path, self.label, "saved", stored.seq, stored.hash, stored.id)
        return stored

    @property
    def head_log(self) -> Path | None:
        """The head log beside an SQLite store; a server's heads go to the system log only
        (several controllers write one chain: no one machine's file holds every head)."""
        return None if self.path is None else headlog.log_path(self.path)

    def mark_abandoned(self, run_id: str, why: str) -> None:
        """Mark a begun run that will never be saved (interrupted, failed); its staged results
        stay as evidence until a prune."""
        writing.mark_abandoned(self._database, run_id, why)

    def abandon(self, run_id: str) -> bool:
        """Forget a run begun but never saved, and any results staged for it; True if there
        was one."""
        return writing.abandon(self._database, run_id)

    def prune(self, older_than: timedelta) -> int:
        """Delete runs started before now - older_than, keeping verification intact.

        Only a prefix of the chain goes (in seq order, stopping at the first younger run) and the
        newest run always stays, as the baseline for drift. The hash of the last pruned run is
        recorded as an anchor the first kept run must link to. Refuses to prune a chain that
        does not verify, so pruning never erases the evidence of tampering.
        """
        count = retention.prune(self._database, older_than)
        if count:
            with self._database.transaction("DEFERRED") as db:
                seq, digest = db.execute(
                    "SELECT seq, hash FROM chain_anchors ORDER BY seq DESC LIMIT 1"
                ).fetchone()
            headlog.record(self.path, self.label, "pruned", int(seq), str(digest), "")
        return count

    # -- reading (queries.py) ---------------------------------------------------------------

    def head(self) -> str:
        """The newest chain hash (of the last run, else of the last anchor, else genesis).

        Keep a copy outside this file (e.g. in a signed export) and pass it to verify() later.
        """
        return queries.head(self._database)

    def runs(self) -> list[StoredRun]:
        """Metadata of every kept run, oldest first."""
        return queries.runs(self._database)

    def load(self, run_id_or_prefix: str) -> dict[str, Any]:
        """The run JSON of a run given by its id or an unambiguous prefix of it."""
        return queries.load(self._database, run_id_or_prefix)

    def latest(self, n: int = 1) -> list[dict[str, Any]]:
        """The n newest runs' JSON, newest first."""
        return queries.latest(self._database, n)

    def group_runs(self, group: str) -> list[str]:
        """The ids of the runs of one run group (one launch, e.g. a sliced AWX job), oldest
        first; none for an unknown group."""
        return queries.group_runs(self._database, group)

    def group_before(self, group: str) -> str | None:
        """The run group saved just before ``group`` began (``""``: a run without a group;
        None: nothing before it)."""
        return queries.group_before(self._database, group)

    def before(self, run_id: str) -> dict[str, Any] | None:
        """The run saved just before the given one (id or prefix); None if it is the oldest."""
        return queries.before(self._database, run_id)

    def outline(self, run_id: str) -> RunOutline:
        """A run without its results: its other members, and who and what its results cover
        (the run given by id or prefix). Small however many hosts the run has."""
        return queries.outline(self._database, run_id)

    def outline_before(self, run_id: str) -> RunOutline | None:
        """:meth:`outline` of the run saved just before the given one; None if it is the oldest."""
        return queries.outline_before(self._database, run_id)

    def host_results(self, run_id: str, host: str) -> list[dict[str, Any]]:
        """One host's results in a run (id, not prefix), in run order, as their query columns
        (``ROW_COLUMNS``: no recorded facts; verify checks them against the run's JSON)."""
        return queries.host_results(self._database, run_id, host)

    def iter_results(self, run_id: str) -> Iterator[dict[str, Any]]:
        """Every result of a run (id, not prefix), in order, as its full JSON, one at a time.

        Reads in one snapshot; hold no other transaction on this store while iterating.
        """
        return queries.iter_results(self._database, run_id)

    def tallies(self, run_id: str, n: int) -> list[RunTally]:
        """The ``n`` runs up to and including ``run_id`` (id or prefix), oldest first, with
        their results counted by control and by host: what trends need, cheap at any size."""
        return queries.tallies(self._database, run_id, n)

    def since(self, when: datetime) -> list[dict[str, Any]]:
        """Runs started at or after ``when`` (naive = UTC), oldest first."""
        return queries.since(self._database, when)

    def as_of(self, when: datetime) -> dict[str, Any] | None:
        """The newest run started at or before ``when`` (naive = UTC): a baseline for --since."""
        return queries.as_of(self._database, when)

    def incomplete(self) -> list[IncompleteRun]:
        """Runs begun but never saved, oldest first. An audit running right now is listed too."""
        return queries.incomplete(self._database)

    # -- verification (verification.py) -----------------------------------------------------

    def verify(self, known_hashes: Iterable[str] = ()) -> list[str]:
        """Walk the chain; return one line per problem found (empty: intact).

        ``known_hashes`` are chain hashes kept elsewhere (e.g. from signed exports); each must
        still be in the chain (a kept run's hash, or a prune anchor's), else runs were cut off
        or the chain was rewritten.
        """
        with self._database.transaction("DEFERRED") as db:
            found = verification.problems(db, known_hashes)
            runs = {int(seq): str(h) for seq, h in db.execute("SELECT seq, hash FROM runs")}
            anchors = {
                int(seq): str(h) for seq, h in db.execute("SELECT seq, hash FROM chain_anchors")
            }
        if self.path is None:
            return found
        return found + headlog.problems(self.path, runs, anchors)

    # -- change records (changelog.py) and delivery receipts (receipts.py) ------------------

    def begin_change(self, record: ChangeRecord) -> None:
        """Commit a change record's head at once, before any task runs."""
        changelog.begin(self._database, record)

    def finish_change(self, record: ChangeRecord) -> None:
        """A change record's every task row and outcome, in one transaction."""
        changelog.finish(self._database, record)

    def changes(self) -> list[ChangeRecord]:
        """Every change record, oldest first, without its tasks."""
        return changelog.records(self._database)

    def change(self, id_or_prefix: str) -> ChangeRecord:
        """One change record with its tasks, by id or an unambiguous prefix."""
        return changelog.load(self._database, id_or_prefix)

    def has_change(self, change_id: str) -> bool:
        return changelog.exists(self._database, change_id)

    def record_receipt(self, receipt: Receipt) -> None:
        receipts.record(self._database, receipt)

    def receipts(self) -> list[Receipt]:
        """Every delivery receipt, oldest first."""
        return receipts.receipts(self._database)
