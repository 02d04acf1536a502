# ruff: noqa: E501  (captured output is quoted verbatim)
"""The pure parsers and the verdict of tests/test_patching.py, on output in each tool's format."""

from __future__ import annotations

import datetime
import json

import pytest

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

# dnf 4 (RHEL 8/9/10) `updateinfo list --security --sec-severity Critical`: "%-*s %-*s %s"
# of advisory, type label and NEVRA (dnf/cli/commands/updateinfo.py, display_list). The format
# is dnf's; the advisories in these samples are illustrative.
DNF_LIST = """\
RHSA-2024:3339 Critical/Sec. glibc-2.34-100.el9_4.2.x86_64
RHSA-2024:3339 Critical/Sec. glibc-common-2.34-100.el9_4.2.x86_64
RHSA-2024:4083 Critical/Sec. openssh-8.7p1-38.el9_4.1.x86_64
"""
# ... `updateinfo info`: a block per advisory, labels right-aligned to "Description"
# (display_info), the date as dnf's "Updated" in the host's local time.
DNF_INFO = """\
===============================================================================
  Critical: glibc security update
===============================================================================
  Update ID : RHSA-2024:3339
       Type : security
    Updated : 2024-05-23 07:11:45
       Bugs : 2273404 - CVE-2024-2961 glibc: Out of bounds write in iconv may lead to remote code execution
       CVEs : CVE-2024-2961
Description : The glibc packages provide the standard C libraries.
            :
            : Security Fix(es):
   Severity : Critical

===============================================================================
  Critical: openssh security update
===============================================================================
  Update ID : RHSA-2024:4083
       Type : security
    Updated : 2024-06-25 14:02:10
       CVEs : CVE-2024-6387
Description : OpenSSH is an SSH protocol implementation.
   Severity : Critical

"""

# zypper --xmlout list-patches --category security --severity critical (SLES 15): the
# update-status format with issue-date as time_t and text (zypper src/update.cc).
ZYPPER = """\
<?xml version='1.0'?>
<stream>
<update-status version="0.6">
<update-list>
<update kind="patch" name="SUSE-SLE-Module-Basesystem-15-SP6-2024-2274" edition="1" arch="noarch" status="needed" category="security" severity="critical" pkgmanager="false" restart="false" interactive="false"><summary>Security update for openssh</summary><description>This update for openssh fixes CVE-2024-6387.</description><license/><source url="https://updates.suse.com/SUSE/Updates/SLE-Module-Basesystem/15-SP6/x86_64/update" alias="Basesystem_Module_15_SP6_x86_64:SLE-Module-Basesystem15-SP6-Updates"/><issue-date time_t="1719838800" text="2024-07-01T13:00:00Z"/><issue-list><issue type="cve" id="CVE-2024-6387"><title>CVE-2024-6387</title><href>https://www.suse.com/security/cve/CVE-2024-6387/</href></issue></issue-list></update>
<update kind="patch" name="SUSE-SLE-Module-Basesystem-15-SP6-2024-2190" edition="1" arch="noarch" status="needed" category="security" severity="important" pkgmanager="false" restart="false" interactive="false"><summary>Security update for curl</summary><description>curl</description><license/><issue-date time_t="1719400000" text="2024-06-26T11:06:40Z"/></update>
</update-list>
</update-status>
</stream>
"""
ZYPPER_NONE = """\
<?xml version='1.0'?>
<stream>
<update-status version="0.6">
<update-list>
</update-list>
</update-status>
</stream>
"""
ZYPPER_ERROR = """\
<?xml version='1.0'?>
<stream>
<message type="error">Repository 'SLE-Module-Basesystem15-SP6-Updates' is invalid.</message>
</stream>
"""


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


def test_dnf_critical_advisories_and_dates() -> None:
    advisories = PENDING.parse_dnf_list(DNF_LIST)
    assert advisories == {
        "RHSA-2024:3339": [
            "glibc-2.34-100.el9_4.2.x86_64",
            "glibc-common-2.34-100.el9_4.2.x86_64",
        ],
        "RHSA-2024:4083": ["openssh-8.7p1-38.el9_4.1.x86_64"],
    }
    dates = PENDING.parse_dnf_info(DNF_INFO)
    assert dates == {
        "RHSA-2024:3339": datetime.datetime(2024, 5, 23, 7, 11, 45),
        "RHSA-2024:4083": datetime.datetime(2024, 6, 25, 14, 2, 10),
    }
    now = datetime.datetime(2024, 6, 26, 0, 2, 10)  # host local time
    pending = PENDING.redhat_pending(advisories, dates, now)
    overdue, undecided, within = PENDING.verdict(pending, 48)
    assert len(overdue) == 1 and overdue[0].startswith("RHSA-2024:3339 (glibc-2.34")
    assert within == [
        "RHSA-2024:4083 (openssh-8.7p1-38.el9_4.1.x86_64): released 2024-06-25 14:02 "
        "(host local time), 10.0 h ago"
    ]
    assert undecided == []


def test_dnf_ignores_other_severities_and_noise() -> None:
    text = (
        "Updating Subscription Management repositories.\nRHSA-2024:1 Important/Sec. a-1-1.x86_64\n"
    )
    assert PENDING.parse_dnf_list(text) == {}
    undated = PENDING.redhat_pending({"RHSA-2024:9": ["x-1-1.noarch"]}, {}, datetime.datetime.now())
    assert PENDING.verdict(undated, 48)[1]


def test_zypper_critical_security_patches_by_issue_date() -> None:
    patches = PENDING.parse_zypper_patches(ZYPPER)
    assert [p.name for p in patches] == [
        "SUSE-SLE-Module-Basesystem-15-SP6-2024-2274",
        "SUSE-SLE-Module-Basesystem-15-SP6-2024-2190",
    ]
    assert patches[0].issued == 1719838800
    pending = PENDING.suse_pending(patches, 1719838800 + 60 * HOUR)
    assert len(pending) == 1  # "important" is not critical
    overdue, _, _ = PENDING.verdict(pending, 48)
    assert overdue == [
        "SUSE-SLE-Module-Basesystem-15-SP6-2024-2274 (Security update for openssh): issued "
        "2024-07-01 13:00 UTC, 60.0 h ago"
    ]
    assert PENDING.verdict(PENDING.suse_pending(patches, 1719838800 + 10 * HOUR), 48)[0] == []


def test_zypper_nothing_pending_and_errors() -> None:
    assert PENDING.parse_zypper_patches(ZYPPER_NONE) == []
    with pytest.raises(RuntimeError, match="is invalid"):
        PENDING.parse_zypper_patches(ZYPPER_ERROR)


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
