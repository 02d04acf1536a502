"""The ``driftvakt`` command. The only module that exits; everything else raises."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from driftvakt import __version__
from driftvakt.errors import BadInputError, DriftvaktError, LabError
from driftvakt.exitcodes import Exit


def _lab_config(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from driftvakt.lab import LabConfig

    return LabConfig(args.name, Path(args.project).resolve())


def cmd_lab(args: argparse.Namespace) -> int:
    from driftvakt import lab
    from driftvakt.lab.machine import ssh_base
    from driftvakt.progress import Progress

    cfg = _lab_config(args)
    progress = Progress(quiet=args.quiet)
    if args.lab_command == "up":
        lab.up(cfg, args.hosts, progress)
    elif args.lab_command == "down":
        lab.down(cfg, progress)
    elif args.lab_command == "status":
        hosts = lab.status(cfg)
        if not hosts:
            print(f"lab '{cfg.name}' is not up")
            return Exit.LAB
        print(f"lab '{cfg.name}' {cfg.subnet}  inventory {cfg.inventory}")
        for h in hosts:
            state = "up" if h.reachable else ("running, no ssh" if h.running else "down")
            print(f"  {h.name:<8} {h.address:<14} {state:<16} {h.memory_mib:6.1f} MiB")
        return Exit.OK if all(h.reachable for h in hosts) else Exit.LAB
    elif args.lab_command == "ssh":
        host = lab.resolve_host(cfg, args.host)
        command = args.command[1:] if args.command[:1] == ["--"] else args.command
        argv = [*ssh_base(cfg), "-o", "BatchMode=no", host.address, *command]
        if sys.stdin.isatty() and not command:
            argv.insert(1, "-t")
        os.execvp(argv[0], argv)  # noqa: S606 - hand the terminal to ssh
    return Exit.OK


def cmd_controls(args: argparse.Namespace) -> int:
    from driftvakt.catalog import controls, markdown_table

    if args.format == "markdown":
        print(markdown_table(), end="")
        return Exit.OK
    for control in controls().values():
        reqs = ", ".join(control.requirements)
        print(
            f"{control.id:<32} {control.severity:<8} {','.join(control.platforms):<22} "
            f"{control.text('title', args.lang)}  [{reqs}]"
        )
    return Exit.OK


def cmd_audit(args: argparse.Namespace) -> int:
    from driftvakt.audit import run_audit

    return run_audit(
        inventory=args.inventory,
        limit=args.limit,
        output=Path(args.output),
        lang=args.lang,
        quiet=args.quiet or not sys.stderr.isatty(),
        store_path=Path(args.store) if args.store else None,
        waivers_path=Path(args.waivers) if args.waivers else None,
        timeout=args.timeout,
        wait=args.wait,
    )


def cmd_drift(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from driftvakt.comparison import comparison_run
    from driftvakt.drift import compare, format_text
    from driftvakt.store import Store
    from driftvakt.timewindow import parse_since

    path = Path(args.store)
    with Store(path) as store:
        latest = store.latest(1)
    if not latest:
        raise BadInputError(f"the run store {args.store} holds no runs yet: run driftvakt audit")
    current = latest[0]
    # --since is a duration (durations win) or the earlier run's id
    is_age = args.since is not None and parse_since(args.since) is not None
    previous = comparison_run(
        current,
        path,
        compare=None if is_age else args.since,
        since=args.since if is_age else None,
        since_from=datetime.now(UTC),
    )
    print(format_text(compare(previous, current), args.lang))
    return Exit.OK


def cmd_store(args: argparse.Namespace) -> int:
    from driftvakt.store import Store
    from driftvakt.timewindow import parse_since

    store = Store(Path(args.store))
    if args.store_command == "verify":
        problems = store.verify()
        for problem in problems:
            print(f"TAMPERED: {problem}")
        for run in store.incomplete():
            print(f"incomplete: run {run.id[:8]} begun {run.begun_at} (pid {run.pid}), never saved")
        if problems:
            return Exit.ERRORS
        print(f"run store intact: {len(store.runs())} runs, chain head {store.head()[:16]}")
        return Exit.OK
    age = parse_since(args.older_than)
    if age is None:
        raise BadInputError(f"--older-than {args.older_than!r}: use a duration like 90d or 12w")
    print(f"pruned {store.prune(age)} runs older than {args.older_than}; the chain still verifies")
    return Exit.OK


def cmd_demo(args: argparse.Namespace) -> int:
    from driftvakt.demo import run_demo

    return run_demo(Path(args.project).resolve(), args.hosts)


def cmd_report(args: argparse.Namespace) -> int:
    import json

    from driftvakt import report

    def load(path: str | None) -> dict | None:  # type: ignore[type-arg]
        if path is None:
            return None
        try:
            return json.loads(Path(path).read_text())  # type: ignore[no-any-return]
        except (OSError, ValueError) as exc:
            raise BadInputError(f"{path}: not a driftvakt result file ({exc})") from exc

    from driftvakt.runref import load_run

    current = load_run(args.result, Path(args.store))  # a file, a stored run id, or the latest
    if args.format != "html":
        return _write_format(current, args)
    from driftvakt.comparison import comparison_run

    # --previous names the earlier run (a file or run id); by default the run stored before it
    previous = comparison_run(current, Path(args.store), args.previous)
    out = report.write(current, Path(args.output or "reports/report.html"), args.lang, previous)
    print(f"report written to {out}")
    return Exit.OK


def cmd_rights(args: argparse.Namespace) -> int:
    from driftvakt import rights
    from driftvakt.comparison import comparison_run
    from driftvakt.runref import load_run

    store = Path(args.store)
    current = load_run(args.run, store)
    if not rights.inventories(current):
        raise BadInputError(
            f"run {str(current.get('id'))[:8]} has no rights inventory: audit with this "
            "driftvakt version (the accounts_admins_approved check collects it)"
        )
    if args.format == "csv":
        text = rights.to_csv(current)
    else:
        since = None if args.compare else args.since
        previous = comparison_run(current, store, args.compare, since, fallback_to_oldest=True)
        diff = rights.compare(previous, current)
        if args.format == "json":
            text = rights.dumps(rights.to_json(current, diff))
        else:
            text = rights.render_html(current, diff, args.lang)
    default = {
        "html": "reports/rights.html",
        "json": "reports/rights.json",
        "csv": "reports/rights.csv",
    }
    output = args.output or default[args.format]
    if output == "-":
        sys.stdout.write(text)
        return Exit.OK
    print(f"rights report written to {rights.write(Path(output), text)}")
    return Exit.OK


def _write_format(run: dict, args: argparse.Namespace) -> int:  # type: ignore[type-arg]
    from driftvakt.formats import csv_export, renderers
    from driftvakt.results import write_text_atomic

    if args.format == "csv":
        text = csv_export.render(run, args.lang, bom=args.bom)
    else:
        text = renderers()[args.format](run, args.lang)
    if args.output == "-":
        sys.stdout.write(text)
        return Exit.OK
    out = Path(args.output or f"reports/{run['id'][:8]}.{FORMAT_SUFFIX[args.format]}")
    write_text_atomic(out, text)
    print(f"{args.format} written to {out}")
    return Exit.OK


FORMAT_SUFFIX = {"json": "json", "junit": "junit.xml", "csv": "csv", "oscal": "oscal-ar.json"}


def cmd_gate(args: argparse.Namespace) -> int:
    from driftvakt.gate import run_gate

    return run_gate(
        hosts=args.hosts,
        inventory=args.inventory,
        output=Path(args.output),
        lang=args.lang,
        store_path=Path(args.store) if args.store else None,
        waivers_path=Path(args.waivers) if args.waivers else None,
        timeout=args.timeout,
        wait=args.wait,
    )


def cmd_coverage(args: argparse.Namespace) -> int:
    from driftvakt import coverage

    if args.format == "markdown":
        print(coverage.markdown(), end="")
        return Exit.OK
    wanted = (
        coverage.LINUX
        if args.platform == "linux"
        else (coverage.PLATFORMS if args.platform == "all" else (args.platform,))
    )
    found = coverage.rows(wanted)
    for row in found:
        detail = ", ".join(row.controls) or row.note or "no control and no note"
        print(f"{row.requirement:<12} {row.platform:<8} {row.state:<8} {detail}")
    missing = sum(row.state == "MISSING" for row in found)
    print(f"{len(found) - missing} of {len(found)} (requirement, platform) pairs covered or noted")
    return Exit.FAILURES if missing else Exit.OK


def cmd_export(args: argparse.Namespace) -> int:
    from driftvakt.export import command

    key = Path(args.key)
    if args.run == "keygen":  # a run id is hex: it can never be "keygen"
        public = command.keygen(key)
        print(f"signing key {key} (mode 600), public key {key}.pub (key id {public.key_id_hex})")
        return Exit.OK
    if args.list:
        return cmd_receipts(args)
    done = command.export(
        Path(args.store),
        args.run,
        key,
        Path(args.out),
        to=args.to,
        ssh_key=Path(args.ssh_key) if args.ssh_key else None,
        known_hosts=Path(args.known_hosts).expanduser(),
        attempts=args.attempts,
        say=lambda line: print(f"driftvakt: export: {line}", file=sys.stderr),
    )
    print(f"bundle {done.built.path}  sha256 {done.built.sha256}")
    if done.delivered:
        d = done.delivered
        print(f"delivered to {args.to} as {d.remote_path} ({d.attempts} attempt(s), {d.host_key})")
    return Exit.OK


def cmd_verify(args: argparse.Namespace) -> int:
    from driftvakt.export import command

    found = command.verify(Path(args.bundle), Path(args.pubkey))
    run = found.meta["run"]
    print(
        f"bundle OK: run {run['id']} ({run['started']}), {len(found.files)} files, "
        f"signed by key {found.key_id}; trusted comment: {found.trusted_comment}"
    )
    return Exit.OK


def cmd_receipts(args: argparse.Namespace) -> int:
    from driftvakt.export.receipts import receipts

    for r in receipts(Path(args.store)):
        print(
            f"{r.delivered_at}  run {r.run_id[:8]}  {r.destination}{r.remote_path}  "
            f"sha256 {r.bundle_sha256[:16]}  {r.host_key}  attempts {r.attempts}"
        )
    return Exit.OK


def cmd_changes(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from driftvakt import changes, changes_view
    from driftvakt.store import Store
    from driftvakt.timewindow import parse_since

    path = Path(args.store)
    if args.change:
        record = changes.load(path, args.change)
        with Store(path) as store:
            before, after = changes.audits_around(store, record)
        print(changes_view.detail(record, before, after, args.lang))
        return Exit.OK
    since = None
    if args.since is not None:
        age = parse_since(args.since)
        if age is None:
            raise BadInputError(f"--since {args.since!r}: use a duration like 30d or 12h")
        since = datetime.now(UTC) - age
    print(changes_view.listing(changes.records(path, since, args.host), args.lang))
    return Exit.OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="driftvakt", description=__doc__)
    parser.add_argument("--version", action="version", version=f"driftvakt {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    lab = sub.add_parser("lab", help="real Debian 12 lab hosts on this machine")
    lab_sub = lab.add_subparsers(dest="lab_command", required=True)
    for name, text in (
        ("up", "start (or repair) the lab"),
        ("down", "stop it, leave nothing"),
        ("status", "show hosts"),
        ("ssh", "log in to a lab host"),
    ):
        p = lab_sub.add_parser(name, help=text)
        p.add_argument("--name", default="default", help="lab name, for several labs side by side")
        p.add_argument("--project", default=".", help="project folder (inventories/ goes here)")
        p.add_argument("-q", "--quiet", action="store_true")
        if name == "up":
            p.add_argument("--hosts", type=int, default=3, help="number of target hosts")
        if name == "ssh":
            p.add_argument("host")
            p.add_argument("command", nargs=argparse.REMAINDER)
    lab.set_defaults(func=cmd_lab)

    controls = sub.add_parser("controls", help="list the control catalog")
    controls.add_argument("--lang", choices=("sv", "en"), default="en")
    controls.add_argument("--format", choices=("text", "markdown"), default="text")
    controls.set_defaults(func=cmd_controls)

    audit = sub.add_parser("audit", help="audit hosts against the baseline")
    audit.add_argument(
        "-i",
        "--inventory",
        default=None,
        help="Ansible inventory (default: ansible.cfg's, as ansible-playbook)",
    )
    audit.add_argument("-l", "--limit", default=None, help="Ansible host pattern")
    audit.add_argument("-o", "--output", default="results/latest.json", help="JSON result file")
    audit.add_argument("--lang", choices=("sv", "en"), default="en")
    audit.add_argument("-q", "--quiet", action="store_true")
    audit.add_argument("--store", default=None, help="run store (default: var/driftvakt.db)")
    audit.add_argument(
        "--timeout",
        type=float,
        default=20,
        help="seconds a host may take to connect or to answer (default 20)",
    )
    audit.add_argument(
        "--wait",
        type=float,
        default=600,
        help="seconds to wait for another audit using the same store",
    )
    audit.add_argument(
        "--waivers",
        default=None,
        help="waiver file (default: waivers.yml beside the inventory, if present)",
    )
    audit.set_defaults(func=cmd_audit)

    drift = sub.add_parser("drift", help="what changed between runs")
    drift.add_argument("--since", default=None, help="a run id (prefix) or a duration (24h, 7d)")
    drift.add_argument("--store", default="var/driftvakt.db")
    drift.add_argument("--lang", choices=("sv", "en"), default="en")
    drift.set_defaults(func=cmd_drift)

    store = sub.add_parser("store", help="the run store: verify the hash chain, prune old runs")
    store_sub = store.add_subparsers(dest="store_command", required=True)
    verify = store_sub.add_parser("verify", help="find edited or deleted runs")
    verify.add_argument("--store", default="var/driftvakt.db")
    prune = store_sub.add_parser("prune", help="delete runs older than a duration")
    prune.add_argument("--older-than", required=True)
    prune.add_argument("--store", default="var/driftvakt.db")
    store.set_defaults(func=cmd_store)

    cov = sub.add_parser("coverage", help="host requirements covered by controls, per platform")
    cov.add_argument(
        "--platform", default="all", choices=("all", "linux", "debian", "redhat", "suse", "windows")
    )
    cov.add_argument("--format", choices=("text", "markdown"), default="text")
    cov.set_defaults(func=cmd_coverage)

    demo = sub.add_parser("demo", help="lab up, harden, audit, inject drift, audit, report")
    demo.add_argument("--project", default=".")
    demo.add_argument("--hosts", type=int, default=3)
    demo.set_defaults(func=cmd_demo)

    rep = sub.add_parser("report", help="HTML report (or a machine format) of a run")
    rep.add_argument(
        "result",
        nargs="?",
        help="a JSON result file, a stored run id (prefix) or `latest` (default: latest)",
    )
    rep.add_argument(
        "--previous",
        help="HTML: the run to show drift against, a result file or run id (default: the run "
        "stored before it)",
    )
    rep.add_argument(
        "-o", "--output", default=None, help="output file, `-` for stdout (machine formats)"
    )
    rep.add_argument("--lang", choices=("sv", "en"), default="en")
    rep.add_argument("--format", choices=("html", "json", "junit", "csv", "oscal"), default="html")
    rep.add_argument("--bom", action="store_true", help="CSV: start with a UTF-8 BOM (Excel)")
    rep.add_argument("--store", default="var/driftvakt.db", help="run store, for run ids")
    rep.set_defaults(func=cmd_report)

    rig = sub.add_parser(
        "rights", help="rights report: accounts, groups, admin rights, sudo, SSH keys, logins"
    )
    rig.add_argument("run", nargs="?", help="a result file, a stored run id or `latest` (default)")
    rig.add_argument("--compare", help="the earlier run to diff against (file or run id)")
    rig.add_argument(
        "--since",
        default="30d",
        help="diff against the newest run this much older (default 30d: the previous month)",
    )
    rig.add_argument("--lang", choices=("sv", "en"), default="en")
    rig.add_argument("--format", choices=("html", "json", "csv"), default="html")
    rig.add_argument("-o", "--output", default=None, help="output file, `-` for stdout")
    rig.add_argument("--store", default="var/driftvakt.db")
    rig.set_defaults(func=cmd_rights)

    gate = sub.add_parser("gate", help="acceptance gate: exit 0 only if the hosts comply")
    gate.add_argument("hosts", nargs="+", metavar="HOST", help="inventory host names")
    gate.add_argument("-i", "--inventory", default=None, help="Ansible inventory")
    gate.add_argument("-o", "--output", default="results/gate.json", help="JSON result file")
    gate.add_argument("--lang", choices=("sv", "en"), default="en")
    gate.add_argument("--store", default=None, help="run store (default: var/driftvakt.db)")
    gate.add_argument("--timeout", type=float, default=20, help="seconds per host (default 20)")
    gate.add_argument("--wait", type=float, default=600, help="seconds to wait for the store")
    gate.add_argument("--waivers", default=None, help="waiver file (default: as audit)")
    gate.set_defaults(func=cmd_gate)

    exp = sub.add_parser(
        "export", help="signed bundle of a stored run for the driftpartner, delivered over SFTP"
    )
    exp.add_argument(
        "run", nargs="?", help="run id or prefix (default: the latest); `keygen`: new signing key"
    )
    exp.add_argument("--store", default="var/driftvakt.db")
    exp.add_argument("--key", default="var/driftvakt-signing.key", help="Ed25519 signing key")
    exp.add_argument("--out", default="reports/export", help="folder the bundle is written to")
    exp.add_argument("--to", help="deliver to sftp://user@host[:port]/folder")
    exp.add_argument("--ssh-key", help="SSH private key for --to")
    exp.add_argument("--known-hosts", default="~/.ssh/known_hosts", help="for --to; never added to")
    exp.add_argument("--attempts", type=int, default=4, help="delivery attempts (default 4)")
    exp.add_argument("--list", action="store_true", help="show delivery receipts instead")
    exp.set_defaults(func=cmd_export)

    ver = sub.add_parser("verify", help="check an export bundle offline")
    ver.add_argument("bundle")
    ver.add_argument("--pubkey", required=True, help="the signer's minisign public key file")
    ver.set_defaults(func=cmd_verify)

    rec = sub.add_parser("receipts", help="export deliveries recorded in the run store")
    rec.add_argument("--store", default="var/driftvakt.db")
    rec.set_defaults(func=cmd_receipts)

    chg = sub.add_parser("changes", help="hardening runs recorded by the Ansible callback")
    chg.add_argument("change", nargs="?", help="a change id (prefix): show it in detail")
    chg.add_argument("--since", default=None, help="only changes started within, e.g. 30d")
    chg.add_argument("--host", default=None, help="only changes that touched this host")
    chg.add_argument("--store", default="var/driftvakt.db")
    chg.add_argument("--lang", choices=("sv", "en"), default="en")
    chg.set_defaults(func=cmd_changes)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except LabError as exc:
        print(f"driftvakt: lab: {exc}", file=sys.stderr)
        return Exit.LAB
    except BadInputError as exc:
        print(f"driftvakt: {exc}", file=sys.stderr)
        return Exit.BAD_INPUT
    except DriftvaktError as exc:
        print(f"driftvakt: {exc}", file=sys.stderr)
        return Exit.ERRORS
    except KeyboardInterrupt:
        print("driftvakt: interrupted", file=sys.stderr)
        return Exit.INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
