"""Patch level: no critical security update stays uninstalled longer than 48 h after its release.

Requirements SKA-SRV-04 (critical security patches installed within 48 h), RST-9.5.2 (vendor
security updates installed promptly) and RSK-OPS-01 (an automated routine applies fixes).
Each pending update is judged by its release time, never by "an update is pending":

- RHEL: Critical security advisories whose packages are not installed (``dnf updateinfo list``),
  dated by ``dnf updateinfo info``'s "Updated" (dnf shows the later of the advisory's issued and
  updated dates, in the host's local time, and so it is compared with the host's local clock).
  dnf joins its filters with "or" (``--security --sec-severity Critical`` lists Important
  security advisories too), so the severity is read from each line, not trusted to the filter.
  Repositories without ``updateinfo`` (a mirror synced without it) show no advisory at all:
  ``updateinfo summary --all`` then is empty, and that is an error, never a pass.
- SLES: needed security patches of severity critical (``zypper --xmlout list-patches``), dated by
  their ``issue-date``. zypper's XML ignores ``--category`` and ``--severity``, so both are read
  from each patch; no repository with patches is zypper's ``no-update-repositories``: an error.
The RHEL and SLES answers were recorded from the real dnf 4.14 and zypper 1.14 against the lab's
RPM repositories (audit/tests/record_rpm_patching.py), and the product's unit tests run these
commands against them live (audit/tests/test_rpm_patching.py).
- Debian: upgrades whose candidate comes from a security suite (``…-security``); each counts as
  critical (Debian's archive carries no severity). Debian's archive carries no per-package
  release time either: the patching role's apt hook records the suite's Release ``Date`` of the
  first list a version appeared in (docs/patching.md), and that record dates it.

``patching_critical_max_age_hours`` (inventory, default 48) is the limit. An update whose
release time cannot be told is an error, never a pass.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from . import windows_patching
from .patching_pending import (
    RECORD,
    Pending,
    debian_pending,
    parse_apt_simulation,
    parse_dnf_info,
    parse_dnf_list,
    parse_record,
    parse_zypper_patches,
    redhat_pending,
    suse_pending,
    verdict,
    xml_errors,
)
from .windows_facts import windows_facts

DEFAULT_MAX_AGE_HOURS = 48
MANAGERS = ("zypper", "dnf", "apt-get")

APT_SIMULATE = "LC_ALL=C apt-get --simulate -o Debug::NoLocking=1 dist-upgrade"
DNF_LIST = "LC_ALL=C dnf --quiet updateinfo list --security --sec-severity Critical"
DNF_INFO = "LC_ALL=C dnf --quiet updateinfo info --security --sec-severity Critical"
DNF_SUMMARY = "LC_ALL=C dnf --quiet updateinfo summary --all"  # empty: no updateinfo at all
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
REDHAT_READ = f"{DNF_LIST} && echo '{SECTION}' && {DNF_INFO} && echo '{SECTION}' && {DNF_SUMMARY}"


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


def redhat_sections(text: str) -> tuple[str, str, str]:
    """REDHAT_READ's output: (list, info, summary)."""
    listed, rest = sections(text)
    info, summary = sections(rest)
    if not summary.strip():
        raise LookupError(
            "dnf knows no advisory about any installed package (`dnf updateinfo summary --all` "
            "is empty): the enabled repositories carry no updateinfo (a mirror synced without "
            "it?), so pending security updates cannot be told"
        )
    return listed, info, summary


def _read(host: Any, command: str) -> str:
    with host.sudo():
        done = host.run(command)
    if done.rc != 0:
        # zypper --xmlout writes its errors into the XML on stdout, not to stderr
        detail = done.stderr.strip() or " ".join(xml_errors(str(done.stdout)))
        raise RuntimeError(f"`{command}` exited {done.rc}: {detail[:300]}")
    return str(done.stdout)


def _pending(host: Any) -> list[Pending]:
    manager, now, now_local = parse_probe(_read(host, PROBE))
    if manager == "zypper":
        return suse_pending(parse_zypper_patches(_read(host, ZYPPER_PATCHES)), now)
    if manager == "dnf":
        listed, info, _ = redhat_sections(_read(host, REDHAT_READ))
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
