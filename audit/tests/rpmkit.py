"""Real dnf and zypper on this machine, against the lab's RPM repositories in a temporary root.

The patching check (tests/test_patching.py) talks to a host through ``host.run``. Here a host is a
root file system with its own rpm database and one ``file://`` repository
(``driftvakt.lab.rpm_repos``), and a directory of wrappers put first on PATH: ``dnf`` runs
``/usr/bin/dnf --installroot=ROOT``, ``zypper`` runs ``/usr/bin/zypper --root ROOT``. The
check's commands run unchanged through ``/bin/sh``, so what the check sends is exactly what the
real clients (Debian's dnf 4.14 and zypper 1.14, apt packages installed by .ci/setup) answer.
Only one client is on a root's PATH, so the check's probe finds the one it should.

Used by test_rpm_patching.py (live, in every unit run) and record_rpm_patching.py (writes the
answers to fixtures/rpm/ for the parser tests).
"""

from __future__ import annotations

import contextlib
import datetime
import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from driftvakt.lab import rpm_repos

Client = Literal["dnf", "zypper"]
STYLE: dict[Client, rpm_repos.Style] = {"dnf": "redhat", "zypper": "suse"}
NEEDED = ("rpm", "rpmbuild", "createrepo_c", "modifyrepo_c", "dnf", "zypper")
_SYSTEM_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
FIXTURES = Path(__file__).parent / "fixtures" / "rpm"


def missing_tools() -> list[str]:
    return [tool for tool in NEEDED if shutil.which(tool, path=_SYSTEM_PATH) is None]


@dataclass(frozen=True)
class Answer:
    command: str
    rc: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class Adv:
    """An advisory the repository publishes: severity, hours since issued, type, and for Red
    Hat style an update this many hours ago (dnf shows the later date)."""

    severity: str
    hours: float
    kind: str = "security"
    updated_hours: float | None = None


@dataclass(frozen=True)
class Scenario:
    """What the root has installed, what its repository publishes, and the verdict expected."""

    name: str
    installed: str  # canary version in the root's rpm database
    advisories: tuple[Adv, ...] | None  # None: the repository has no updateinfo
    expect: Literal["overdue", "within", "none", "error"]
    clients: tuple[Client, ...] = ("dnf", "zypper")
    repo_gone: bool = False  # the repository disappears after the host last refreshed


# The verdict cases of issue 15, each against the real client(s).
SCENARIOS = (
    Scenario("critical-60h", "1.0", (Adv("Critical", 60),), "overdue"),
    Scenario("critical-10h", "1.0", (Adv("Critical", 10),), "within"),
    Scenario("installed", "1.1", (Adv("Critical", 60),), "none"),
    Scenario("important-only", "1.0", (Adv("Important", 60),), "none"),
    # zypper's XML ignores --category/--severity: the other patches are listed and must be skipped
    Scenario(
        "mixed",
        "1.0",
        (Adv("Critical", 10), Adv("Important", 70), Adv("Critical", 80, kind="recommended")),
        "within",
    ),
    # dnf's "Updated" is the later of issued and updated
    Scenario(
        "critical-updated", "1.0", (Adv("Critical", 100, updated_hours=10),), "within", ("dnf",)
    ),
    Scenario("no-updateinfo", "1.0", None, "error"),
    Scenario("repo-gone", "1.0", (Adv("Critical", 60),), "error", repo_gone=True),
)
TZ = "Europe/Stockholm"  # the regions' hosts' local time: dnf shows dates in it


@dataclass
class RpmHost:
    """A temporary root answering the check like a RHEL (dnf) or SLES (zypper) host would."""

    client: Client
    base: Path
    tz: str = TZ
    answers: list[Answer] = field(default_factory=list)

    @property
    def root(self) -> Path:
        return self.base / "root"

    @property
    def repo(self) -> Path:
        return self.base / "repo"

    @property
    def bin(self) -> Path:
        return self.base / "bin"

    def setup(self, installed: str) -> None:
        """The root with ``installed`` in its rpm database, the repository configured."""
        packages = self.base / "built"
        rpm_repos.install_rpm(self.root, rpm_repos.build_rpm(installed, packages))
        self.bin.mkdir(parents=True, exist_ok=True)
        (self.base / ".rpmmacros").write_text(f"%_dbpath {rpm_repos.RPMDB}\n")
        (self.bin / "date").symlink_to("/usr/bin/date")
        wrapper = self.bin / self.client
        if self.client == "dnf":
            # --releasever: the root has no redhat-release package to tell it
            option = f"--installroot={self.root} --releasever=9"
            conf = self.root / "etc" / "dnf" / "dnf.conf"
            conf.parent.mkdir(parents=True, exist_ok=True)
            conf.write_text("[main]\ngpgcheck=0\nmetadata_expire=0\n")
            repos = self.root / "etc" / "yum.repos.d"
            repos.mkdir(parents=True, exist_ok=True)
            (repos / "lab.repo").write_text(
                f"[lab]\nname=driftvakt lab\nbaseurl=file://{self.repo}\ngpgcheck=0\n"
            )
        else:
            option = f"--root {self.root}"
            self._system(
                f"zypper --root {self.root} --non-interactive addrepo --refresh --no-gpgcheck "
                f"file://{self.repo} lab"
            )
        # HOME: Debian's rpm reads its database path from ~/.rpmmacros (set above)
        command = f'PATH={_SYSTEM_PATH} HOME={self.base} exec /usr/bin/{self.client} {option} "$@"'
        wrapper.write_text(f"#!/bin/sh\n{command}\n")
        wrapper.chmod(0o755)

    def publish(self, scenario: Scenario, now: datetime.datetime) -> None:
        advisories = None
        if scenario.advisories is not None:
            advisories = [
                rpm_repos.Advisory(
                    f"DVLAB-2026-{i + 1:04d}",
                    adv.severity,
                    now - datetime.timedelta(hours=adv.hours),
                    updated=None
                    if adv.updated_hours is None
                    else now - datetime.timedelta(hours=adv.updated_hours),
                    kind=adv.kind,
                )
                for i, adv in enumerate(scenario.advisories)
            ]
        rpm_repos.publish(self.repo, rpm_repos.FIRST_UPDATE, advisories, STYLE[self.client])
        if self.client == "zypper":  # a SLES host's refresh timer, done now
            self._system(f"zypper --root {self.root} --non-interactive refresh --force")
        if scenario.repo_gone:
            shutil.rmtree(self.repo)

    def _system(self, command: str) -> None:
        subprocess.run(
            command.split(),
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
            env={"PATH": _SYSTEM_PATH, "HOME": str(self.base), "LC_ALL": "C"},
        )

    # --- the testinfra host interface the check uses ------------------------------------------

    def run(self, command: str) -> Answer:
        env = {"PATH": str(self.bin), "TZ": self.tz, "HOME": str(self.base), "LANG": "C"}
        done = subprocess.run(
            ["/bin/sh", "-c", command],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=False,
        )
        answer = Answer(command, done.returncode, done.stdout, done.stderr)
        self.answers.append(answer)
        return answer

    @contextlib.contextmanager
    def sudo(self) -> Iterator[None]:
        yield  # the process already runs as root (the rpm database's owner)


def scenario_host(client: Client, scenario: Scenario, base: Path) -> RpmHost:
    host = RpmHost(client, base)
    host.setup(scenario.installed)
    host.publish(scenario, datetime.datetime.now(datetime.UTC))
    host.answers.clear()
    return host


def client_versions() -> str:
    """The clients' versions, as they print them, for the recording's header."""
    found = []
    for tool in ("dnf", "zypper", "rpm"):
        done = subprocess.run(
            [tool, "--version"],
            capture_output=True,
            text=True,
            check=False,
            env={"PATH": _SYSTEM_PATH},
        )
        first = (done.stdout.strip().splitlines() or ["?"])[0]
        found.append(first if tool != "dnf" else f"dnf {first}")
    return "; ".join(found)


class ReplayHost:
    """Answers the check from a recording; a command not recorded means the check changed
    since the recording, so it says to record again rather than answer anything."""

    def __init__(self, answers: list[dict[str, object]]) -> None:
        self._answers = {str(a["command"]): a for a in answers}

    def run(self, command: str) -> Answer:
        if command not in self._answers:
            raise KeyError(
                f"not in the recording: {command!r}; run audit/tests/record_rpm_patching.py"
            )
        a = self._answers[command]
        return Answer(command, int(str(a["rc"])), str(a["stdout"]), str(a["stderr"]))

    @contextlib.contextmanager
    def sudo(self) -> Iterator[None]:
        yield


def outcome(host: RpmHost | ReplayHost, max_hours: float = 48) -> tuple[str, list[str]]:
    """The check's reading and verdict on ``host``: ("overdue" | "within" | "none" | "error",
    the evidence lines or the error)."""
    from driftvakt_checks import test_patching as check

    try:
        pending = check._pending(host)
    except (LookupError, RuntimeError, ValueError) as exc:
        return "error", [str(exc)]
    overdue, undecided, within = check.verdict(pending, max_hours)
    if undecided:
        return "undecided", undecided
    if overdue:
        return "overdue", overdue
    return ("within", within) if within else ("none", [])


def load(name: str) -> dict[str, Any]:
    """A recording from fixtures/rpm/ (record_rpm_patching.py writes them)."""
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data
