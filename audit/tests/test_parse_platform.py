"""The pure parts of tests/test_platform.py: os-release, the lifecycle list, locales."""

from __future__ import annotations

import datetime
from pathlib import Path

from driftvakt_checks import test_platform as CHECK

LIFECYCLE = Path(CHECK.__file__).with_name("platform_lifecycle.yml").read_text()

DEBIAN12 = """\
PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
ID=debian
"""
RHEL9 = 'NAME="Red Hat Enterprise Linux"\nVERSION_ID="9.5"\nID="rhel"\nID_LIKE="fedora"\n'
SLES15SP6 = 'NAME="SLES"\nVERSION="15-SP6"\nVERSION_ID="15.6"\nID="sles"\n'
SLES15 = 'NAME="SLES"\nVERSION="15"\nVERSION_ID="15"\nID="sles"\n'
CENTOS7 = 'NAME="CentOS Linux"\nVERSION_ID="7"\nID="centos"\nPRETTY_NAME="CentOS Linux 7 (Core)"\n'
DAY = datetime.date(2026, 11, 23)


def _verdict(text: str, day: datetime.date = DAY) -> tuple[bool, str]:
    _, platforms = CHECK.load_lifecycle(LIFECYCLE)
    result: tuple[bool, str] = CHECK.support_verdict(CHECK.parse_os_release(text), platforms, day)
    return result


def test_lifecycle_file_is_dated_and_sourced() -> None:
    reviewed, platforms = CHECK.load_lifecycle(LIFECYCLE)
    assert isinstance(reviewed, datetime.date)
    keys = {(p.id, p.version) for p in platforms}
    assert {("rhel", "8"), ("rhel", "9"), ("rhel", "10"), ("debian", "12")} <= keys
    assert {("sles", f"15.{sp}") for sp in range(2, 8)} <= keys
    assert {("windows", "2022"), ("windows", "2025")} <= keys
    assert all(p.source and isinstance(p.end_of_support, datetime.date) for p in platforms)


def test_supported_releases_pass() -> None:
    assert _verdict(DEBIAN12)[0]
    ok, found = _verdict(RHEL9)
    assert ok and "Red Hat Enterprise Linux 9 supported until 2032-05-31" in found


def test_release_past_its_end_fails_with_the_date_and_source() -> None:
    ok, found = _verdict(SLES15SP6)
    assert not ok
    assert "left vendor support on 2025-12-31" in found and "suse.com/lifecycle" in found
    assert _verdict(SLES15SP6, datetime.date(2025, 6, 1))[0]
    assert not _verdict(DEBIAN12, datetime.date(2028, 7, 1))[0]


def test_unlisted_releases_fail() -> None:
    ok, found = _verdict(CENTOS7)
    assert not ok and "CentOS Linux 7 (Core) (centos 7) is not a standard platform" in found
    assert not _verdict(SLES15)[0]  # SLES 15 GA (no service pack) is not on the list
    assert CHECK.release_key(CHECK.parse_os_release(SLES15)) == ("sles", "15.0")


def test_locale_parsing_and_normalising() -> None:
    assert CHECK.parse_lang("# managed\nLANG=en_US.UTF-8\n") == "en_US.UTF-8"
    assert CHECK.parse_lang('LANG="sv_SE.utf8"\nLC_ALL=C\n') == "sv_SE.utf8"
    assert CHECK.parse_lang("LC_TIME=C\n") is None
    assert CHECK.normalise_locale("sv_SE.UTF-8") == "sv_SE.utf8"
    assert CHECK.is_utf8("en_US.UTF-8") and CHECK.is_utf8("C.utf8")
    assert not CHECK.is_utf8("C") and not CHECK.is_utf8("sv_SE.ISO-8859-1")
