"""Patch level: no critical security update stays uninstalled longer than 48 h after its release.

Requirements SKA-SRV-04 (critical security patches installed within 48 h), RST-9.5.2 (vendor
security updates installed promptly) and RSK-OPS-01 (an automated routine applies fixes).
Each pending update is judged by its release time, never by "an update is pending":

- RHEL: Critical security advisories whose packages are not installed (``dnf updateinfo list``),
  dated by ``dnf updateinfo info``'s "Updated" (dnf shows the later of the advisory's issued and
  updated dates, in the host's local time, and so it is compared with the host's local clock).
- SLES: needed security patches of severity critical (``zypper --xmlout list-patches``), dated by
  their ``issue-date``.
- Debian: upgrades whose candidate comes from a security suite (``…-security``); each counts as
  critical (Debian's archive carries no severity). Debian's archive carries no per-package
  release time either: the patching role's apt hook records the suite's Release ``Date`` of the
  first list a version appeared in (docs/patching.md), and that record dates it.

``patching_critical_max_age_hours`` (inventory, default 48) is the limit. An update whose
release time cannot be told is an error, never a pass.
"""

from __future__ import annotations

import datetime
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

import pytest

from . import windows_patching
from .windows_facts import windows_facts

DEFAULT_MAX_AGE_HOURS = 48
RECORD = "/var/lib/driftvakt/security-first-seen.json"  # written by roles/patching's apt hook
MANAGERS = ("zypper", "dnf", "apt-get")

APT_SIMULATE = "LC_ALL=C apt-get --simulate -o Debug::NoLocking=1 dist-upgrade"
DNF_LIST = "LC_ALL=C dnf --quiet updateinfo list --security --sec-severity Critical"
DNF_INFO = "LC_ALL=C dnf --quiet updateinfo info --security --sec-severity Critical"
ZYPPER_PATCHES = (
    "LC_ALL=C zypper --non-interactive --xmlout list-patches --category security "
    "--severity critical"
)
# Few, combined reads: an audit with a cold cache pays one round trip per dependent read.
PROBE = (
    f"for m in {' '.join(MANAGERS)}; do command -v $m && break; done; date '+%s %Y-%m-%d %H:%M:%S'"
)
SECTION = "--- driftvakt section ---"
DEBIAN_READ = f"{APT_SIMULATE}; rc=$?; echo '{SECTION}'; cat {RECORD} 2>/dev/null; exit $rc"
REDHAT_READ = f"{DNF_LIST} && echo '{SECTION}' && {DNF_INFO}"

_APT_INST = re.compile(r"^Inst (\S+) (?:\[(\S+)\] )?\((\S+) (.*?) ?\[[^\]]*\]\)")
_DNF_LIST = re.compile(r"^(\S+)\s+(\S+/Sec\.)\s+(\S+)$")
_DNF_ID = re.compile(r"^\s*Update ID\s*:\s*(\S+)")
_DNF_UPDATED = re.compile(r"^\s*Updated\s*:\s*(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)")


@dataclass(frozen=True)
class Pending:
    """A critical security update not installed, and what is known of its release."""

    what: str
    age_hours: float | None  # None: the release time is unknown
    released: str  # how it was dated, for the evidence
    exact: bool = True  # False: age_hours is only a lower bound


@dataclass(frozen=True)
class AptUpgrade:
    name: str
    installed: str | None
    candidate: str
    suites: tuple[str, ...]

    @property
    def security(self) -> bool:
        return any(suite.endswith("-security") for suite in self.suites)


def parse_apt_simulation(text: str) -> list[AptUpgrade]:
    """``apt-get --simulate dist-upgrade``'s ``Inst`` lines, with the candidate's suites."""
    upgrades = []
    for line in text.splitlines():
        match = _APT_INST.match(line.strip())
        if not match:
            continue
        suites = []
        for origin in match.group(4).split(","):  # "Label:Version/Suite" or "Label:Suite"
            origin = origin.strip()
            suites.append(origin.rsplit("/", 1)[-1] if "/" in origin else origin.split(":")[-1])
        upgrades.append(AptUpgrade(match.group(1), match.group(2), match.group(3), tuple(suites)))
    return upgrades


def parse_record(text: str) -> dict[str, dict[str, Any]]:
    """The apt hook's record: {"name version": {"first_seen", "after", "suite", ...}}."""
    data = json.loads(text)
    packages: dict[str, dict[str, Any]] = data["packages"]
    return packages


def _utc(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def debian_pending(
    upgrades: list[AptUpgrade], record: dict[str, dict[str, Any]] | None, now: float
) -> list[Pending]:
    """Security-suite upgrades, dated by the hook's record (``record`` None: no record file)."""
    pending = []
    for up in (u for u in upgrades if u.security):
        what = f"{up.name} {up.installed or '(not installed)'} -> {up.candidate} ({up.suites[0]})"
        seen = (record or {}).get(f"{up.name} {up.candidate}")
        if seen is None:
            why = "no record file" if record is None else "not in the record"
            pending.append(Pending(what, None, f"release time unknown ({why} {RECORD})"))
            continue
        age = (now - float(seen["first_seen"])) / 3600
        if seen.get("after") is None:  # present the first time this host saw the suite
            released = f"released by {_utc(seen['first_seen'])} (in the suite when first seen)"
            pending.append(Pending(what, age, released, exact=False))
        else:
            released = (
                f"released {_utc(seen['first_seen'])} (first in the suite's Release of that "
                f"date; not in {_utc(seen['after'])}'s)"
            )
            pending.append(Pending(what, age, released))
    return pending


def parse_dnf_list(text: str) -> dict[str, list[str]]:
    """``dnf updateinfo list`` lines -> {Critical advisory: [package NEVRA, ...]}."""
    advisories: dict[str, list[str]] = {}
    for line in text.splitlines():
        match = _DNF_LIST.match(line.strip())
        if match and match.group(2) == "Critical/Sec.":
            advisories.setdefault(match.group(1), []).append(match.group(3))
    return advisories


def parse_dnf_info(text: str) -> dict[str, datetime.datetime]:
    """``dnf updateinfo info`` blocks -> {advisory: its date as shown (host local time)}."""
    dates: dict[str, datetime.datetime] = {}
    current = None
    for line in text.splitlines():
        if match := _DNF_ID.match(line):
            current = match.group(1)
        elif (match := _DNF_UPDATED.match(line)) and current:
            dates[current] = datetime.datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S")
    return dates


def redhat_pending(
    advisories: dict[str, list[str]],
    dates: dict[str, datetime.datetime],
    now_local: datetime.datetime,
) -> list[Pending]:
    pending = []
    for advisory, packages in sorted(advisories.items()):
        what = f"{advisory} ({', '.join(sorted(packages))})"
        date = dates.get(advisory)
        if date is None:
            pending.append(Pending(what, None, "release time unknown (no date in updateinfo)"))
            continue
        age = (now_local - date).total_seconds() / 3600
        pending.append(Pending(what, age, f"released {date:%Y-%m-%d %H:%M} (host local time)"))
    return pending


@dataclass(frozen=True)
class SusePatch:
    name: str
    status: str
    category: str
    severity: str
    issued: int | None
    summary: str


def parse_zypper_patches(xml_text: str) -> list[SusePatch]:
    """``zypper --xmlout list-patches`` -> its patches (an error message raises)."""
    # zypper writes no DTD; refusing one keeps entity expansion from a tampered host out.
    if "<!DOCTYPE" in xml_text or "<!ENTITY" in xml_text:
        raise ValueError("zypper's XML carries a DTD, which zypper never writes: not parsed")
    root = ET.fromstring(xml_text)  # noqa: S314  (no DTD, see above)
    errors = [m.text or "" for m in root.iter("message") if m.get("type") == "error"]
    if errors:
        raise RuntimeError(f"zypper: {' '.join(e.strip() for e in errors)}")
    patches = []
    for update in root.iter("update"):
        if update.get("kind") != "patch":
            continue
        issue = update.find("issue-date")
        stamp = issue.get("time_t") if issue is not None else None
        patches.append(
            SusePatch(
                update.get("name", "?"),
                update.get("status", ""),
                update.get("category", ""),
                update.get("severity", ""),
                int(stamp) if stamp and stamp.isdigit() else None,
                (update.findtext("summary") or "").strip(),
            )
        )
    return patches


def suse_pending(patches: list[SusePatch], now: float) -> list[Pending]:
    pending = []
    for patch in patches:
        if patch.category != "security" or patch.severity != "critical":
            continue
        if patch.status in ("applied", "not-needed"):
            continue
        what = f"{patch.name} ({patch.summary})" if patch.summary else patch.name
        if patch.issued is None:
            pending.append(Pending(what, None, "release time unknown (no issue-date)"))
        else:
            age = (now - patch.issued) / 3600
            pending.append(Pending(what, age, f"issued {_utc(patch.issued)}"))
    return pending


def _describe(item: Pending) -> str:
    if item.age_hours is None:
        return f"{item.what}: {item.released}"
    bound = "" if item.exact else "at least "
    return f"{item.what}: {item.released}, {bound}{item.age_hours:.1f} h ago"


def verdict(pending: list[Pending], max_hours: float) -> tuple[list[str], list[str], list[str]]:
    """(overdue, undecided, within the limit): each an evidence line per update."""
    overdue, undecided, within = [], [], []
    for item in pending:
        if item.age_hours is not None and item.age_hours > max_hours:
            overdue.append(_describe(item))
        elif item.age_hours is None or not item.exact:
            undecided.append(_describe(item))
        else:
            within.append(_describe(item))
    return overdue, undecided, within


def max_age_hours(hostvars: dict[str, Any]) -> float:
    value = hostvars.get("patching_critical_max_age_hours", DEFAULT_MAX_AGE_HOURS)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ValueError(f"patching_critical_max_age_hours is {value!r}, expected hours > 0")
    return float(value)


def parse_probe(text: str) -> tuple[str | None, float, datetime.datetime]:
    """PROBE's output -> (package manager or None, now as epoch, now in host local time)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise ValueError("the host printed neither a package manager nor its time")
    stamp, _, local = lines[-1].partition(" ")
    manager = lines[0].rsplit("/", 1)[-1] if len(lines) > 1 else None
    when = datetime.datetime.strptime(local, "%Y-%m-%d %H:%M:%S")
    return (manager if manager in MANAGERS else None), float(stamp), when


def sections(text: str) -> tuple[str, str]:
    """A combined read's output, split at SECTION: (before, after; "" when absent)."""
    before, _, after = text.partition(f"{SECTION}\n")
    return before, after


def _read(host: Any, command: str) -> str:
    with host.sudo():
        done = host.run(command)
    if done.rc != 0:
        raise RuntimeError(f"`{command}` exited {done.rc}: {done.stderr.strip()[:300]}")
    return str(done.stdout)


def _pending(host: Any) -> list[Pending]:
    manager, now, now_local = parse_probe(_read(host, PROBE))
    if manager == "zypper":
        return suse_pending(parse_zypper_patches(_read(host, ZYPPER_PATCHES)), now)
    if manager == "dnf":
        listed, info = sections(_read(host, REDHAT_READ))
        return redhat_pending(parse_dnf_list(listed), parse_dnf_info(info), now_local)
    if manager == "apt-get":
        simulated, record = sections(_read(host, DEBIAN_READ))
        upgrades = parse_apt_simulation(simulated)
        return debian_pending(upgrades, parse_record(record) if record.strip() else None, now)
    raise LookupError(f"none of {', '.join(MANAGERS)} found: cannot read pending updates")


@pytest.mark.control("security_updates_installed")
def test_critical_security_updates_installed_in_time(host: Any, hostvars: dict[str, Any]) -> None:
    if host.system_info.type != "linux":
        pytest.skip(f"not applicable: checked on Linux here, this is {host.system_info.type}")
    max_hours = max_age_hours(hostvars)
    overdue, undecided, within = verdict(_pending(host), max_hours)
    pending_note = f"; pending within the limit: {'; '.join(within)}" if within else ""
    assert not overdue, (
        f"critical security updates missing more than {max_hours:g} h after release: "
        f"{'; '.join(overdue)}"
        + (f"; release time not decidable: {'; '.join(undecided)}" if undecided else "")
        + pending_note
    )
    if undecided:
        raise LookupError(
            f"cannot tell whether these critical security updates are within {max_hours:g} h "
            f"of release: {'; '.join(undecided)}"
        )


# --- Windows Server (one collection per host, judged in windows_patching.py) ----------------------


@pytest.mark.windows
@pytest.mark.control("win_updates_critical_48h")
def test_windows_updates_critical_48h(host: Any, hostvars: dict[str, Any]) -> None:
    found = windows_patching.judge_win_updates_critical_48h(windows_facts(host), hostvars)
    assert not found, "; ".join(found)
