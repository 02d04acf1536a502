# ruff: noqa: E501  (captured output is quoted verbatim)
"""The pure parsers and the verdict of tests/test_patching.py, on output in each tool's format."""

from __future__ import annotations

import datetime
import json

import pytest
import rpmkit

from driftvakt_checks import patching_pending as PENDING
from driftvakt_checks import test_patching as CHECK

HOUR = 3600.0

# apt 2.6 (Debian 12), captured on a lab host: the lab security suite's update pending.
APT_LAB = """\
NOTE: This is only a simulation!
      apt-get needs root privileges for real execution.
      Keep also in mind that locking is deactivated,
      so don't depend on the relevance to the real current situation!
Reading package lists...
Building dependency tree...
Reading state information...
Calculating upgrade...
The following packages will be upgraded:
  driftvakt-lab-canary
1 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.
Inst driftvakt-lab-canary [1.0] (1.1 Debian-Security:bookworm-security [all])
Conf driftvakt-lab-canary (1.1 Debian-Security:bookworm-security [all])
"""
# The same format as a Debian 12 host with deb.debian.org and security.debian.org sources shows
# it (apt prints every release a candidate is in as Label:Version/Suite): a point-release
# update, a security update found in both suites, and a new package.
APT_DEBIAN = """\
Reading package lists...
Inst tzdata [2024a-0+deb12u1] (2024b-0+deb12u1 Debian:12.8/stable-updates [all])
Inst libssl3 [3.0.14-1~deb12u2] (3.0.15-1~deb12u1 Debian:12.8/stable, Debian-Security:12/stable-security [amd64])
Inst linux-image-6.1.0-28-amd64 (6.1.119-1 Debian-Security:12/stable-security [amd64])
Conf libssl3 (3.0.15-1~deb12u1 Debian:12.8/stable, Debian-Security:12/stable-security [amd64])
"""

# RHEL and SLES: no hand-written output. fixtures/rpm/ holds what the real dnf 4.14 and zypper
# 1.14 answered to the check's own commands against the lab's RPM repositories
# (record_rpm_patching.py records them; test_rpm_patching.py runs the same scenarios live).
RECORDED = [
    f"{client}-{scenario.name}" for scenario in rpmkit.SCENARIOS for client in scenario.clients
]


def _stdout(name: str, command_part: str) -> str:
    (answer,) = [a for a in rpmkit.load(name)["answers"] if command_part in a["command"]]
    text: str = answer["stdout"]
    return text


def test_apt_security_upgrades_from_lab_output() -> None:
    (canary,) = PENDING.parse_apt_simulation(APT_LAB)
    assert canary == PENDING.AptUpgrade(
        "driftvakt-lab-canary", "1.0", "1.1", ("bookworm-security",)
    )
    assert canary.security


def test_apt_suites_of_every_release_and_new_packages() -> None:
    ups = {u.name: u for u in PENDING.parse_apt_simulation(APT_DEBIAN)}
    assert set(ups) == {"tzdata", "libssl3", "linux-image-6.1.0-28-amd64"}
    assert not ups["tzdata"].security
    assert ups["libssl3"].suites == ("stable", "stable-security")
    assert ups["libssl3"].security
    assert ups["linux-image-6.1.0-28-amd64"].installed is None
    assert PENDING.parse_apt_simulation("Reading package lists...\n") == []


def _record(**packages: dict[str, object]) -> dict[str, dict[str, object]]:
    text = json.dumps({"version": 1, "suites": {}, "packages": packages})
    parsed: dict[str, dict[str, object]] = PENDING.parse_record(text)
    return parsed


def test_debian_dates_by_the_first_seen_record() -> None:
    now = 1_800_000_000.0
    ups = PENDING.parse_apt_simulation(APT_DEBIAN)
    record = _record(
        **{
            "libssl3 3.0.15-1~deb12u1": {"first_seen": now - 60 * HOUR, "after": None},
            "linux-image-6.1.0-28-amd64 6.1.119-1": {
                "first_seen": now - 10 * HOUR,
                "after": now - 30 * HOUR,
            },
        }
    )
    pending = {p.what.split()[0]: p for p in PENDING.debian_pending(ups, record, now)}
    assert set(pending) == {"libssl3", "linux-image-6.1.0-28-amd64"}  # tzdata: not security
    assert pending["libssl3"].age_hours == pytest.approx(60)
    assert not pending["libssl3"].exact  # in the suite the first time the host looked
    assert pending["linux-image-6.1.0-28-amd64"].age_hours == pytest.approx(10)
    assert pending["linux-image-6.1.0-28-amd64"].exact
    overdue, undecided, within = PENDING.verdict(list(pending.values()), 48)
    assert len(overdue) == 1 and overdue[0].startswith("libssl3 3.0.14-1~deb12u2 -> 3.0.15")
    assert "at least 60.0 h ago" in overdue[0]
    assert undecided == []
    assert "10.0 h ago" in within[0]


def test_debian_without_record_is_undecided() -> None:
    ups = PENDING.parse_apt_simulation(APT_LAB)
    (missing,) = PENDING.debian_pending(ups, None, 0.0)
    assert missing.age_hours is None and "no record file" in missing.released
    (absent,) = PENDING.debian_pending(ups, _record(), 0.0)
    assert "not in the record" in absent.released
    assert PENDING.verdict([missing], 48)[1]
    # A lower bound within the limit decides nothing either.
    young = _record(**{"driftvakt-lab-canary 1.1": {"first_seen": -10 * HOUR, "after": None}})
    (bound,) = PENDING.debian_pending(ups, young, 0.0)
    assert PENDING.verdict([bound], 48) == ([], [PENDING._describe(bound)], [])


@pytest.mark.parametrize("name", RECORDED)
def test_recorded_client_answers_give_the_expected_verdict(name: str) -> None:
    recording = rpmkit.load(name)
    found, evidence = rpmkit.outcome(rpmkit.ReplayHost(recording["answers"]))
    assert found == recording["expect"], evidence
    if found == "overdue":
        assert evidence == [_one_line(evidence[0], "60.0 h ago")]
    if found == "within":
        assert len(evidence) == 1 and evidence[0].endswith("10.0 h ago")


def _one_line(line: str, ending: str) -> str:
    assert line.startswith("DVLAB-2026-0001 (") and line.endswith(ending), line
    return line


def test_dnf_severity_filter_is_an_or_so_the_line_decides() -> None:
    # dnf joins --security and --sec-severity with "or": the Important advisory is listed.
    listed, _, _ = CHECK.redhat_sections(_stdout("dnf-important-only", "updateinfo list"))
    assert "DVLAB-2026-0001 Important/Sec. driftvakt-lab-canary-1.1-1.noarch" in listed
    assert PENDING.parse_dnf_list(listed) == {}
    mixed, info, _ = CHECK.redhat_sections(_stdout("dnf-mixed", "updateinfo list"))
    assert "DVLAB-2026-0003 unknown" in mixed  # type "recommended" is no security advisory
    assert PENDING.parse_dnf_list(mixed) == {
        "DVLAB-2026-0001": ["driftvakt-lab-canary-1.1-1.noarch"]
    }
    assert "  Update ID: DVLAB-2026-0001" in info  # dnf 4.14: no space before the colon
    assert set(PENDING.parse_dnf_info(info)) == {
        "DVLAB-2026-0001",
        "DVLAB-2026-0002",
        "DVLAB-2026-0003",
    }


def test_dnf_dates_in_host_local_time_and_the_later_of_issued_and_updated() -> None:
    recording = rpmkit.load("dnf-critical-updated")
    assert recording["tz"] == "Europe/Stockholm"
    probe = _stdout("dnf-critical-updated", "command -v")
    _, now, local = CHECK.parse_probe(probe)
    _, info, _ = CHECK.redhat_sections(_stdout("dnf-critical-updated", "updateinfo list"))
    (shown,) = PENDING.parse_dnf_info(info).values()
    # issued 100 h, updated 10 h before the recording: dnf shows the update, in local time
    assert (local - shown).total_seconds() == pytest.approx(10 * HOUR, abs=120)
    utc = datetime.datetime.fromtimestamp(now, datetime.UTC).replace(tzinfo=None)
    assert local - utc in (datetime.timedelta(hours=1), datetime.timedelta(hours=2))


def test_repositories_without_updateinfo_are_an_error() -> None:
    listed = _stdout("dnf-no-updateinfo", "updateinfo list")
    assert listed.count(CHECK.SECTION) == 2 and not listed.replace(CHECK.SECTION, "").strip()
    with pytest.raises(LookupError, match="no updateinfo"):
        CHECK.redhat_sections(listed)
    xml = _stdout("zypper-no-updateinfo", "list-patches")
    assert '<appletinfo status="no-update-repositories"/>' in xml
    with pytest.raises(LookupError, match="no update repositories"):
        PENDING.parse_zypper_patches(xml)


def test_zypper_xml_ignores_category_and_severity_so_each_patch_decides() -> None:
    patches = PENDING.parse_zypper_patches(_stdout("zypper-mixed", "list-patches"))
    assert [(p.category, p.severity) for p in patches] == [
        ("security", "critical"),
        ("security", "important"),
        ("recommended", "critical"),
    ]
    (critical,) = PENDING.suse_pending(patches, float(patches[0].issued or 0) + 10 * HOUR)
    assert critical.what.startswith("DVLAB-2026-0001 ")


def test_zypper_errors_come_from_its_xml() -> None:
    xml = _stdout("zypper-repo-gone", "list-patches")
    assert PENDING.xml_errors(xml)[0].startswith("Problem retrieving files from 'lab'.")
    with pytest.raises(RuntimeError, match="Problem retrieving files from 'lab'"):
        PENDING.parse_zypper_patches(xml)
    assert PENDING.xml_errors("not xml") == []
    assert PENDING.parse_zypper_patches(_stdout("zypper-installed", "list-patches")) == []


def test_undated_advisory_is_undecided() -> None:
    undated = PENDING.redhat_pending({"RHSA-2024:9": ["x-1-1.noarch"]}, {}, datetime.datetime.now())
    assert PENDING.verdict(undated, 48)[1]


@pytest.mark.parametrize("value", [0, -5, "48", True, None])
def test_bad_limit_is_an_error(value: object) -> None:
    with pytest.raises(ValueError, match="patching_critical_max_age_hours"):
        CHECK.max_age_hours({"patching_critical_max_age_hours": value})


def test_limit_default_and_inventory() -> None:
    assert CHECK.max_age_hours({}) == 48
    assert CHECK.max_age_hours({"patching_critical_max_age_hours": 8}) == 8


def test_probe_and_sections() -> None:
    manager, now, local = CHECK.parse_probe("/usr/bin/apt-get\n1795474243 2026-11-23 22:50:43\n")
    assert (manager, now) == ("apt-get", 1795474243.0)
    assert local == datetime.datetime(2026, 11, 23, 22, 50, 43)
    assert CHECK.parse_probe("1795474243 2026-11-23 23:50:43\n")[0] is None
    with pytest.raises(ValueError, match="neither"):
        CHECK.parse_probe("")
    assert CHECK.sections(f"a\n{CHECK.SECTION}\nb\n") == ("a\n", "b\n")
    assert CHECK.sections("a\n") == ("a\n", "")
