"""Pending critical security updates per family, parsed from apt, dnf and zypper output and
judged by their release time, for test_patching.py.
"""

from __future__ import annotations

import datetime
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

RECORD = "/var/lib/driftvakt/security-first-seen.json"  # written by roles/patching's apt hook
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
    packages = data.get("packages") if isinstance(data, dict) else None
    if not isinstance(packages, dict) or not all(
        isinstance(entry, dict)
        and isinstance(entry.get("first_seen"), int | float)
        and isinstance(entry.get("after"), int | float | None)
        for entry in packages.values()
    ):
        raise ValueError(f"{RECORD} is not a record of first-seen times: it was edited or damaged")
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


def xml_errors(text: str) -> list[str]:
    """The error messages in zypper's XML output ([] when it is not zypper's XML)."""
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        return []
    try:
        root = ET.fromstring(text)  # noqa: S314  (no DTD, see parse_zypper_patches)
    except ET.ParseError:
        return []
    return [
        " ".join((m.text or "").split()) for m in root.iter("message") if m.get("type") == "error"
    ]


def parse_zypper_patches(xml_text: str) -> list[SusePatch]:
    """``zypper --xmlout list-patches`` -> its patches (an error message raises)."""
    # zypper writes no DTD; refusing one keeps entity expansion from a tampered host out.
    if "<!DOCTYPE" in xml_text or "<!ENTITY" in xml_text:
        raise ValueError("zypper's XML carries a DTD, which zypper never writes: not parsed")
    try:
        root = ET.fromstring(xml_text)  # noqa: S314  (no DTD, see above)
    except ET.ParseError as exc:
        raise ValueError(f"zypper's XML output cannot be read ({exc})") from exc
    errors = xml_errors(xml_text)
    if errors:
        raise RuntimeError(f"zypper: {' '.join(errors)}")
    if any(a.get("status") == "no-update-repositories" for a in root.iter("appletinfo")):
        # zypper 1.14's word for "no enabled repository carries patches (updateinfo)"
        raise LookupError(
            "zypper reports no update repositories: no enabled repository carries patches "
            "(updateinfo), so pending security updates cannot be told"
        )
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
