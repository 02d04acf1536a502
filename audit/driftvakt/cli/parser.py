"""The ``driftvakt`` command line: every command, option and default, and which function runs
it. No command logic here."""

from __future__ import annotations

import argparse
import os

from driftvakt import __version__
from driftvakt.cli import auditing, baseline, delivery, history, reports, scheduling
from driftvakt.cli import lab as lab_commands

STORE_ENV = "DRIFTVAKT_STORE"  # the store when --store is not given (store/location.py)
STORE_HELP = (
    "run store: a file or postgresql://... (default: $DRIFTVAKT_STORE, else var/driftvakt.db)"
)


def _store_default() -> str:
    return os.environ.get(STORE_ENV) or "var/driftvakt.db"


# the text of ``driftvakt --help``
DESCRIPTION = "The ``driftvakt`` command. The only module that exits; everything else raises."


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="driftvakt", description=DESCRIPTION)
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
            p.add_argument(
                "--rpm",
                action="store_true",
                help="RPM hosts: odd ones answer with dnf (RHEL's client), even ones with zypper "
                "(SLES's), each with its own rpm database and labsvc's lab RPM repositories",
            )
        if name == "ssh":
            p.add_argument("host")
            p.add_argument("command", nargs=argparse.REMAINDER)
    lab.set_defaults(func=lab_commands.cmd_lab)

    controls = sub.add_parser("controls", help="list the control catalog")
    controls.add_argument("--lang", choices=("sv", "en"), default="en")
    controls.add_argument("--format", choices=("text", "markdown"), default="text")
    controls.set_defaults(func=baseline.cmd_controls)

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
    audit.add_argument("--store", default=os.environ.get(STORE_ENV), help=STORE_HELP)
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
    audit.set_defaults(func=auditing.cmd_audit)

    inv = sub.add_parser("inventory", help="the inventory, read without contacting any host")
    inv_sub = inv.add_subparsers(dest="inventory_command", required=True)
    check = inv_sub.add_parser(
        "check",
        help="every host's variables against what the roles and checks need (one line each)",
    )
    check.add_argument(
        "-i",
        "--inventory",
        default=None,
        help="Ansible inventory (default: ansible.cfg's, as ansible-playbook)",
    )
    check.add_argument("-l", "--limit", default=None, help="Ansible host pattern")
    check.add_argument(
        "--waivers",
        default=None,
        help="waiver file (default: waivers.yml beside the inventory, if present)",
    )
    inv.set_defaults(func=auditing.cmd_inventory)

    drift = sub.add_parser("drift", help="what changed between runs")
    drift.add_argument("--since", default=None, help="a run id (prefix) or a duration (24h, 7d)")
    drift.add_argument("--store", default=_store_default())
    drift.add_argument(
        "--group",
        default=None,
        help="a run group: every run of one launch (e.g. awx-1234, the slices of an AWX job)",
    )
    drift.add_argument("--lang", choices=("sv", "en"), default="en")
    drift.set_defaults(func=history.cmd_drift)

    store = sub.add_parser("store", help="the run store: verify the hash chain, prune old runs")
    store_sub = store.add_subparsers(dest="store_command", required=True)
    verify = store_sub.add_parser("verify", help="find edited or deleted runs")
    verify.add_argument("--store", default=_store_default())
    verify.add_argument(
        "--known-hash",
        action="append",
        default=[],
        metavar="HASH",
        help="a chain head kept elsewhere (e.g. store.head in a signed export); repeatable",
    )
    prune = store_sub.add_parser("prune", help="delete runs older than a duration")
    prune.add_argument("--older-than", required=True)
    prune.add_argument("--store", default=_store_default())
    store.set_defaults(func=history.cmd_store)

    cov = sub.add_parser("coverage", help="host requirements covered by controls, per platform")
    cov.add_argument(
        "--platform", default="all", choices=("all", "linux", "debian", "redhat", "suse", "windows")
    )
    cov.add_argument("--format", choices=("text", "markdown"), default="text")
    cov.set_defaults(func=baseline.cmd_coverage)

    demo = sub.add_parser("demo", help="lab up, harden, audit, inject drift, audit, report")
    demo.add_argument("--project", default=".")
    demo.add_argument("--hosts", type=int, default=3)
    demo.set_defaults(func=lab_commands.cmd_demo)

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
    rep.add_argument(
        "--runs",
        type=int,
        default=30,
        help="HTML: the trend charts cover this many stored runs up to the reported one",
    )
    rep.add_argument("--store", default=_store_default(), help="run store, for run ids")
    rep.add_argument(
        "--group",
        default=None,
        help="a run group: every run of one launch (e.g. awx-1234, the slices of an AWX job)",
    )
    rep.set_defaults(func=reports.cmd_report)

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
    rig.add_argument("--store", default=_store_default())
    rig.add_argument(
        "--group",
        default=None,
        help="a run group: every run of one launch (e.g. awx-1234, the slices of an AWX job)",
    )
    rig.set_defaults(func=reports.cmd_rights)

    gate = sub.add_parser("gate", help="acceptance gate: exit 0 only if the hosts comply")
    gate.add_argument("hosts", nargs="+", metavar="HOST", help="inventory host names")
    gate.add_argument("-i", "--inventory", default=None, help="Ansible inventory")
    gate.add_argument("-o", "--output", default="results/gate.json", help="JSON result file")
    gate.add_argument("--lang", choices=("sv", "en"), default="en")
    gate.add_argument("--store", default=os.environ.get(STORE_ENV), help=STORE_HELP)
    gate.add_argument("--timeout", type=float, default=20, help="seconds per host (default 20)")
    gate.add_argument("--wait", type=float, default=600, help="seconds to wait for the store")
    gate.add_argument("--waivers", default=None, help="waiver file (default: as audit)")
    gate.set_defaults(func=auditing.cmd_gate)

    exp = sub.add_parser(
        "export", help="signed bundle of a stored run for the driftpartner, delivered over SFTP"
    )
    exp.add_argument(
        "run", nargs="?", help="run id or prefix (default: the latest); `keygen`: new signing key"
    )
    exp.add_argument("--store", default=_store_default())
    exp.add_argument(
        "--group", default=None, help="export every run of this run group, one bundle each"
    )
    exp.add_argument("--key", default="var/driftvakt-signing.key", help="Ed25519 signing key")
    exp.add_argument("--out", default="reports/export", help="folder the bundle is written to")
    exp.add_argument("--to", help="deliver to sftp://user@host[:port]/folder")
    exp.add_argument("--ssh-key", help="SSH private key for --to")
    exp.add_argument("--known-hosts", default="~/.ssh/known_hosts", help="for --to; never added to")
    exp.add_argument("--attempts", type=int, default=4, help="delivery attempts (default 4)")
    exp.add_argument("--list", action="store_true", help="show delivery receipts instead")
    exp.set_defaults(func=delivery.cmd_export)

    ver = sub.add_parser("verify", help="check an export bundle offline")
    ver.add_argument("bundle")
    ver.add_argument("--pubkey", required=True, help="the signer's minisign public key file")
    ver.set_defaults(func=delivery.cmd_verify)

    rec = sub.add_parser("receipts", help="export deliveries recorded in the run store")
    rec.add_argument("--store", default=_store_default())
    rec.set_defaults(func=delivery.cmd_receipts)

    chg = sub.add_parser("changes", help="hardening runs recorded by the Ansible callback")
    chg.add_argument("change", nargs="?", help="a change id (prefix): show it in detail")
    chg.add_argument("--since", default=None, help="only changes started within, e.g. 30d")
    chg.add_argument("--host", default=None, help="only changes that touched this host")
    chg.add_argument("--store", default=_store_default())
    chg.add_argument("--lang", choices=("sv", "en"), default="en")
    chg.set_defaults(func=history.cmd_changes)

    sch = sub.add_parser("schedule", help="the nightly audit and export as a systemd timer")
    sch_sub = sch.add_subparsers(dest="schedule_command", required=True)
    ins = sch_sub.add_parser("install", help="write the service, timer and failure units")
    ins.add_argument("-i", "--inventory", default=None, help="Ansible inventory")
    ins.add_argument("--store", default=os.environ.get(STORE_ENV), help=STORE_HELP)
    ins.add_argument("--project", default=".", help="working directory (default: this one)")
    ins.add_argument("--on-calendar", default="*-*-* 02:30:00", help="systemd OnCalendar=")
    ins.add_argument(
        "--randomized-delay", default="10min", help="systemd RandomizedDelaySec= (0: none)"
    )
    ins.add_argument("--user", default=None, help="run as this account (default: root)")
    ins.add_argument("--environment-file", default=None, help="secrets: passphrases, PGPASSWORD")
    ins.add_argument("--export-to", default=None, help="deliver to sftp://user@host[:port]/dir")
    ins.add_argument("--key", default=None, help="Ed25519 signing key (default: export's)")
    ins.add_argument("--ssh-key", default=None, help="SSH private key for --export-to")
    ins.add_argument("--known-hosts", default=None, help="known_hosts file for --export-to")
    ins.add_argument("--driftvakt", default=None, help="the driftvakt executable (default: this)")
    ins.add_argument("--root", default="/", help="write under ROOT/etc/systemd/system")
    ins.set_defaults(func=scheduling.cmd_schedule)
    return parser
