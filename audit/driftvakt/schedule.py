"""The nightly audit on one controller without AWX: a systemd timer starting a service that
audits, then exports the run to the driftpartner, and a failure unit that reports to the system
log when either step fails (``OnFailure=``).

``driftvakt schedule install`` writes the three units under ``<root>/etc/systemd/system``; it
never starts or enables them (that is the administrator's ``systemctl enable --now``). Every
path in them is absolute, every argument quoted as systemd reads it (``%`` and ``$`` are
systemd's, so doubled), and no secret is ever written to a unit file (they are world
readable): a store URL holding a password is refused, secrets go in an ``EnvironmentFile``.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from driftvakt.errors import BadInputError
from driftvakt.exitcodes import Exit
from driftvakt.store.location import Location, is_url

SERVICE = "driftvakt-audit.service"
TIMER = "driftvakt-audit.timer"
FAILURE = "driftvakt-failure@.service"
UNIT_DIR = Path("etc/systemd/system")


@dataclass(frozen=True)
class Schedule:
    driftvakt: Path  # the driftvakt executable
    project: Path  # the working directory: var/, reports/ and the default inventory are here
    inventory: Path
    store: Location
    on_calendar: str = "*-*-* 02:30:00"
    # spreads controllers sharing one store and one driftpartner over the hour; 0: on the dot
    randomized_delay: str = "10min"
    user: str = ""  # run as this account (default: root)
    environment_file: Path | None = None  # passphrases, PGPASSWORD: never in a unit file
    export_to: str = ""  # sftp://user@host[:port]/folder; empty: the bundle is only written
    signing_key: Path | None = None
    ssh_key: Path | None = None
    known_hosts: Path | None = None


def quote(argument: str) -> str:
    """One ExecStart argument as systemd reads it back unchanged."""
    escaped = argument.replace("\\", "\\\\").replace('"', '\\"')
    escaped = escaped.replace("%", "%%").replace("$", "$$")
    return f'"{escaped}"' if any(c in escaped for c in ' \t"\\') or not escaped else escaped


def path_setting(path: Path) -> str:
    """A path as the value of WorkingDirectory= or EnvironmentFile=: taken to the end of the
    line, unquoted; only systemd's specifiers (``%``) are escaped."""
    text = str(path)
    if text != text.strip() or "\n" in text:
        raise BadInputError(f"{text!r}: a path in a systemd unit cannot start or end in a space")
    return text.replace("%", "%%")


def command_line(arguments: list[str]) -> str:
    return " ".join(quote(a) for a in arguments)


def units(schedule: Schedule) -> dict[str, str]:
    """The unit files' names and text."""
    _check(schedule)
    exe = str(schedule.driftvakt)
    store = str(schedule.store)
    audit = [exe, "audit", "--inventory", str(schedule.inventory), "--store", store]
    audit += ["--output", str(schedule.project / "var" / "nightly.json")]
    export = [
        exe,
        "export",
        "--store",
        store,
        "--out",
        str(schedule.project / "reports" / "export"),
    ]
    if schedule.signing_key:
        export += ["--key", str(schedule.signing_key)]
    if schedule.export_to:
        export += ["--to", schedule.export_to]
        export += ["--ssh-key", str(schedule.ssh_key), "--known-hosts", str(schedule.known_hosts)]
    lines = [
        "[Unit]",
        "Description=driftvakt nightly audit, then signed export to the driftpartner",
        "Wants=network-online.target",
        "After=network-online.target",
        f"OnFailure={FAILURE.replace('@', '@%n')}",
        "",
        "[Service]",
        "Type=oneshot",
        f"WorkingDirectory={path_setting(schedule.project)}",
    ]
    if schedule.user:
        lines.append(f"User={schedule.user}")
    if schedule.environment_file:
        lines.append(f"EnvironmentFile={path_setting(schedule.environment_file)}")
    lines += [
        # Failed controls are the audit's findings, not a failure of the job: the export goes on.
        # Unreachable hosts or errored checks (exit 2) and bad input (3) fail it and report.
        f"SuccessExitStatus={int(Exit.FAILURES)}",
        f"ExecStart={command_line(audit)}",
        f"ExecStart={command_line(export)}",
        "TimeoutStartSec=6h",
        "",
    ]
    service = "\n".join(lines)
    timer = "\n".join(
        [
            "[Unit]",
            "Description=driftvakt nightly audit",
            "",
            "[Timer]",
            f"OnCalendar={schedule.on_calendar}",
            "Persistent=true",  # a controller that was off at the hour audits when it is back
            f"RandomizedDelaySec={schedule.randomized_delay}",
            f"Unit={SERVICE}",
            "",
            "[Install]",
            "WantedBy=timers.target",
            "",
        ]
    )
    failure = "\n".join(
        [
            "[Unit]",
            "Description=report a failed driftvakt unit (%i) to the system log",
            "",
            "[Service]",
            "Type=oneshot",
            "ExecStart=/usr/bin/logger -p user.err -t driftvakt "
            '"%i failed: the nightly audit or its export did not finish; journalctl -u %i"',
            "",
        ]
    )
    return {SERVICE: service, TIMER: timer, FAILURE: failure}


def install(schedule: Schedule, root: Path = Path("/")) -> list[Path]:
    """Write the units under ``root``; returns their paths. Starts and enables nothing."""
    folder = root / UNIT_DIR
    rendered = units(schedule)  # refused before anything is written
    try:
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for name, text in rendered.items():
            path = folder / name
            path.write_text(text, "utf-8")
            path.chmod(0o644)
            written.append(path)
    except OSError as exc:
        raise BadInputError(f"cannot write the systemd units to {folder}: {exc.strerror}") from exc
    return written


def default_driftvakt() -> Path:
    """This installation's driftvakt executable (beside the running Python, else on PATH)."""
    beside = Path(sys.executable).parent / "driftvakt"
    if beside.is_file():
        return beside
    found = shutil.which("driftvakt")
    if found is None:
        raise BadInputError("cannot find the driftvakt executable: give --driftvakt PATH")
    return Path(found).resolve()


def _check(schedule: Schedule) -> None:
    if not schedule.driftvakt.is_absolute() or not schedule.project.is_absolute():
        raise BadInputError("the units need absolute paths (driftvakt, project)")
    if is_url(schedule.store) and urlsplit(str(schedule.store)).password is not None:
        raise BadInputError(
            "--store holds a password, and unit files are world readable: put it in "
            "~/.pgpass or PGPASSWORD in --environment-file"
        )
    if schedule.export_to and not (schedule.ssh_key and schedule.known_hosts):
        raise BadInputError("--export-to needs --ssh-key and --known-hosts")
    if any(c in schedule.randomized_delay for c in "\n\r"):
        raise BadInputError("--randomized-delay is one line, e.g. 10min or 0")
    if any(c in schedule.on_calendar for c in "\n\r"):
        raise BadInputError("--on-calendar is one line, e.g. '*-*-* 02:30:00'")
