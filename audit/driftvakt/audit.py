"""``driftvakt audit``: inventory -> reachability -> checks -> results JSON + summary.

Each host's results leave memory as soon as the host is done: they are merged, waived, counted
and staged in the run store (:meth:`Store.stage`); the run is then chained in one transaction,
and the JSON file, the summary and the drift are written from the store and from counts. So the
auditor's memory does not grow with the fleet.
"""

from __future__ import annotations

import getpass
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from driftvakt import __version__
from driftvakt.catalog import controls
from driftvakt.collect import collect
from driftvakt.comparison import stored_drift
from driftvakt.credentials import secret_values
from driftvakt.drift import format_text
from driftvakt.errors import BadInputError
from driftvakt.exitcodes import Exit
from driftvakt.inventory import Target
from driftvakt.inventory_check import Override, apply_inventory
from driftvakt.lock import exclusive
from driftvakt.playcontext import PlayContext
from driftvakt.precheck import checked_inventory
from driftvakt.progress import Progress
from driftvakt.results import Result, Run, Status, write_run_json_atomic
from driftvakt.store import Location, Store
from driftvakt.store.location import is_url
from driftvakt.waivers import Waiver, find
from driftvakt.writable import require_writable_folder


def default_inventory() -> str:
    """ansible.cfg's inventory, as ansible-playbook would use it."""
    from ansible import constants

    sources = constants.DEFAULT_HOST_LIST
    if not sources:
        raise BadInputError("no inventory given and ansible.cfg names none: use -i INVENTORY")
    return str(sources[0])


def baseline_revision(project: Path) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(project), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except OSError:
        return "unknown"
    return done.stdout.strip() or "unknown"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _secrets(hosts: list[Target]) -> tuple[str, ...]:
    return tuple(sorted({value for t in hosts for value in secret_values(t.vars)}))


def audit_hosts(
    hosts: list[Target],
    inventory: str,
    project: Path,
    secrets: tuple[str, ...],
    cache: Path,
    quiet: bool = True,
    timeout: float = 20,
    on_host: Callable[[str, list[Result]], None] | None = None,
) -> list[Result]:
    """Every host's results; or none, if ``on_host`` takes them host by host."""
    progress = Progress(quiet)
    collection = collect(
        hosts,
        inventory,
        project,
        secrets,
        cache,
        timeout=timeout,
        progress=progress,
        on_host=on_host,
    )
    trips = sorted(set(collection.round_trips.values()))
    progress.step(f"done: {collection.rounds} evaluation round(s); round trips per host: {trips}")
    return collection.results


_WORST_FIRST = (Status.ERROR, Status.FAIL, Status.PASS, Status.WAIVED, Status.NOT_APPLICABLE)


def merge_results(results: list[Result]) -> list[Result]:
    """One result per (host, control). A control can have one check per platform family (a
    Linux and a Windows check): the one that does not apply is dropped, and if several apply
    the worst status wins, with every check's reason and evidence kept."""
    grouped: dict[tuple[str, str], list[Result]] = {}
    for r in results:
        grouped.setdefault((r.host, r.control), []).append(r)
    merged = []
    for (host, control), group in grouped.items():
        applicable = [r for r in group if r.status is not Status.NOT_APPLICABLE] or group[:1]
        if len(applicable) == 1:
            merged.append(applicable[0])
            continue
        worst = min(applicable, key=lambda r: _WORST_FIRST.index(r.status))
        merged.append(
            Result(
                host,
                control,
                worst.status,
                [line for r in applicable for line in r.evidence],
                "; ".join(r.reason for r in applicable if r.reason),
                sum(r.duration for r in applicable),
            )
        )
    return merged


def apply_waivers(
    results: list[Result], waivers: list[Waiver], hosts: list[Target], today: date
) -> None:
    """fail -> waived under a valid waiver; an expired one is named, and changes nothing.

    An error is never waived: a waiver accepts a known deviation, not a host nobody could see.
    """
    groups = {t.name: set(t.groups) for t in hosts}
    for r in results:
        if r.status is not Status.FAIL:
            continue
        waiver = find(waivers, r.control, r.host, groups.get(r.host, set()))
        if waiver is None:
            continue
        r.waiver = {**waiver.as_json(), "expired": waiver.expired(today)}
        if waiver.expired(today):
            r.reason = f"{r.reason} [waiver {waiver.source} expired on {waiver.expires}]"
            continue
        r.evidence = [f"observed ({r.status.value}): {r.reason}", *r.evidence]
        r.status = Status.WAIVED
        r.reason = (
            f"waived until {waiver.expires} ({waiver.risk_analysis}, approved by "
            f"{waiver.approver}): {waiver.reason}"
        )


@dataclass(frozen=True)
class Launch:
    """What a playbook run adds to an audit: the run group it belongs to (every slice of one
    AWX launch shares it), where it ran, and the play's connection context."""

    run_group: str
    details: dict[str, str] = field(default_factory=dict)  # e.g. awx_job_id, execution node
    context: PlayContext = field(default_factory=PlayContext)

    def as_json(self) -> dict[str, Any]:
        return {"run_group": self.run_group, **self.details}


def run_audit(
    inventory: str | None,
    limit: str | None,
    output: Path,
    lang: str,
    quiet: bool,
    project: Path | None = None,
    store_path: Location | None = None,
    waivers_path: Path | None = None,
    timeout: float = 20,
    wait: float = 600,
    launch: Launch | None = None,
) -> int:
    """Audit the inventory's hosts (``limit``: an Ansible host pattern) into the run store;
    ``launch``: the run group and connection context of a playbook run (playbooks/audit.yml)."""
    project = (project or Path.cwd()).resolve()
    inventory = inventory or default_inventory()
    hosts, waivers, checked = checked_inventory(inventory, limit, waivers_path, project)
    if launch is not None:
        hosts = launch.context.apply(hosts)
    known = controls()
    run = Run(
        id=str(uuid.uuid4()),
        started=_now(),
        finished="",
        user=getpass.getuser(),
        driftvakt_version=__version__,
        baseline_revision=baseline_revision(project),
        inventory=inventory,
        limit=limit,
        hosts=[t.name for t in hosts],
        groups={t.name: list(t.groups) for t in hosts if t.groups},
        launch=launch.as_json() if launch is not None else None,
    )
    if not quiet:
        print(f"auditing {len(hosts)} host(s) against {len(known)} controls …", file=sys.stderr)
    store_at = store_path or project / "var" / "driftvakt.db"
    require_writable_folder(output, "results file")
    if not is_url(store_at):
        require_writable_folder(Path(store_at), "run store")
    for line in checked.lines():  # still before any host is contacted
        print(f"driftvakt: inventory: {line}", file=sys.stderr)
    if is_url(store_at):  # a shared server: the chain lock lets several audits write at once
        return _locked_audit(
            run,
            hosts,
            inventory,
            project,
            store_at,
            (waivers, checked.overrides),
            output,
            lang,
            quiet,
            timeout,
        )
    store_file = Path(store_at)
    with exclusive(store_file.with_suffix(".lock"), wait):
        return _locked_audit(
            run,
            hosts,
            inventory,
            project,
            store_file,
            (waivers, checked.overrides),
            output,
            lang,
            quiet,
            timeout,
        )


def _locked_audit(
    run: Run,
    hosts: list[Target],
    inventory: str,
    project: Path,
    store_at: Location,
    exceptions: tuple[list[Waiver], dict[str, dict[str, Override]]],
    output: Path,
    lang: str,
    quiet: bool,
    timeout: float,
) -> int:
    waivers, decided = exceptions  # the waivers, and per host what the inventory decided
    known = controls()
    position = {control: n for n, control in enumerate(known)}
    today = datetime.now(UTC).date()
    store = Store(store_at)
    # Recorded before any host is touched: a killed audit shows as incomplete, never as half a run.
    store.begin(run.to_json())
    totals = {s.value: 0 for s in Status}  # the run's summary: all that is kept of its results
    by_name = {t.name: t for t in hosts}

    def host_done(host: str, results: list[Result]) -> None:
        unknown = sorted({r.control for r in results} - set(known))
        if unknown:
            raise BadInputError(f"checks name controls missing from the catalog: {unknown}")
        merged = merge_results(results)
        apply_inventory(merged, decided.get(host, {}))
        # only this host's target: its groups, not the fleet's (per host, a cost per host)
        apply_waivers(merged, waivers, [by_name[host]] if host in by_name else [], today)
        merged.sort(key=lambda r: (r.host, position[r.control]))
        for r in merged:
            totals[r.status.value] += 1
        store.stage(run.id, [r.to_json() for r in merged])

    # beside the store file, or this controller's own for a server store
    cache = (store.path or project / "var" / "driftvakt.db").with_suffix(".prefetch.json")
    try:
        audit_hosts(
            hosts, inventory, project, _secrets(hosts), cache, quiet, timeout, on_host=host_done
        )
        run.finished = _now()
        meta = run.to_json()  # no results in it: they are in the store
        meta["summary"] = totals
        store.save_staged({key: value for key, value in meta.items() if key != "results"})
    except KeyboardInterrupt:
        store.mark_abandoned(run.id, "interrupted (Ctrl-C)")
        raise
    except Exception as exc:
        store.mark_abandoned(run.id, f"stopped by {type(exc).__name__}")
        raise
    write_run_json_atomic(output, meta, store.iter_results(run.id))
    print_summary(run.hosts, lambda host: store.host_results(run.id, host), totals, lang)
    print(format_text(stored_drift(store, run.id), lang, max_lines=4))
    print(f"results written to {output} and to the run store (run {run.id[:8]})")
    return exit_code({Status(status) for status, n in totals.items() if n})


def exit_code(statuses: set[Status]) -> int:
    if Status.ERROR in statuses:
        return Exit.ERRORS
    if Status.FAIL in statuses:
        return Exit.FAILURES
    return Exit.OK


MARK = {
    Status.PASS: "ok",
    Status.FAIL: "FAIL",
    Status.ERROR: "ERROR",
    Status.WAIVED: "waived",
    Status.NOT_APPLICABLE: "n/a",
}


def print_summary(
    hosts: list[str],
    host_results: Callable[[str], list[dict[str, Any]]],
    totals: dict[str, int],
    lang: str,
) -> None:
    """Per host its counts and failing lines, read one host at a time (``host_results``, e.g.
    from the store); then the run's totals."""
    catalog = controls()
    for host in hosts:
        rows = host_results(host)
        counts = {s: sum(r["status"] == s.value for r in rows) for s in Status}
        print(
            f"{host}: {counts[Status.PASS]} pass, {counts[Status.FAIL]} fail, "
            f"{counts[Status.ERROR]} error, {counts[Status.NOT_APPLICABLE]} n/a"
        )
        for r in rows:
            status, control = Status(r["status"]), str(r["control"])
            if status in (Status.FAIL, Status.ERROR):
                title = catalog[control].text("title", lang) if control in catalog else ""
                print(f"  {MARK[status]:<5} {control}: {title}")
                print(f"        {r['reason']}")
    c = totals
    print(
        f"total: {c['pass']} pass, {c['fail']} fail, {c['error']} error, "
        f"{c['not_applicable']} not applicable, {c['waived']} waived"
    )
