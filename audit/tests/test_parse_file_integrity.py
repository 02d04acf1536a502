# ruff: noqa: E501  (captured output is quoted verbatim)
"""The pure parsers of tests/test_file_integrity.py, on captured AIDE and systemctl output."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from driftvakt_checks import test_file_integrity as CHECK

# AIDE 0.18.3 (Debian 12) `--path-check` for a selected file and an excluded directory.
PATH_CHECK = """\
[X] f '/etc/passwd': selective rule: '/ (none) l+p+u+g+s+c+m+i+b+n+md5+sha1+rmd160+tiger+crc32+haval+gost+crc32b+acl+sha256+sha512+selinux+xattrs+whirlpool+ftype+e2fsattrs+caps' (/etc/aide/aide.conf.d/99_aide_root:3: '/ 0 Full')
[ ] d '/proc/1': negative rule: '!/proc$ (none)' (/etc/aide/aide.conf.d/70_aide_proc_sys:1: '!/proc$ 0')
"""
# AIDE 0.16 (RHEL 9) does not know the option.
PATH_CHECK_OLD = "aide: unrecognized option '--path-check'\n"


def test_path_check_selected_and_excluded() -> None:
    found = CHECK.parse_path_check(PATH_CHECK)
    assert found["/etc/passwd"][0] is True
    assert found["/proc/1"] == (
        False,
        "negative rule: '!/proc$ (none)' (/etc/aide/aide.conf.d/70_aide_proc_sys:1: '!/proc$ 0')",
    )


def test_path_check_unsupported_gives_nothing() -> None:
    assert CHECK.parse_path_check(PATH_CHECK_OLD) == {}


def test_database_sizes() -> None:
    out = "3629478 /var/lib/aide/aide.db\n0 /var/lib/aide/aide.db.gz\n"
    assert CHECK.parse_sizes(out) == {
        "/var/lib/aide/aide.db": 3629478,
        "/var/lib/aide/aide.db.gz": 0,
    }
    assert CHECK.parse_sizes("") == {}


def test_timers_enabled_disabled_and_absent() -> None:
    out = "dailyaidecheck.timer enabled active\ndriftvakt-aide-check.timer absent inactive\n"
    assert CHECK.parse_timers(out) == {
        "dailyaidecheck.timer": ("enabled", "active"),
        "driftvakt-aide-check.timer": ("absent", "inactive"),
    }
    drifted = CHECK.parse_timers("dailyaidecheck.timer disabled inactive\n")
    assert drifted["dailyaidecheck.timer"] == ("disabled", "inactive")


# `systemctl show driftvakt-aide-check.service --property=ExecMainExitTimestamp,ExecMainStatus`
# on a Debian 12 lab host (systemd 252), whose aide is /usr/bin/aide as on SUSE: before any run;
# the unit as it was (ExecStart=/usr/sbin/aide ..., issue 15's SUSE failure: 203/EXEC); a shell
# that finds no aide (127); the unit as the role now writes it (aide ran and found changes: 7).
NEVER_RAN = "ExecMainExitTimestamp=\nExecMainStatus=0\n"
NOT_EXECUTABLE = "ExecMainExitTimestamp=Mon 2026-12-07 22:25:49 UTC\nExecMainStatus=203\n"
NOT_FOUND = "ExecMainExitTimestamp=Mon 2026-12-07 22:25:50 UTC\nExecMainStatus=127\n"
CHANGES_FOUND = "ExecMainExitTimestamp=Mon 2026-12-07 22:26:48 UTC\nExecMainStatus=7\n"


def test_the_check_services_last_run() -> None:
    assert CHECK.parse_last_run(NEVER_RAN) == (False, 0)
    assert CHECK.parse_last_run(CHANGES_FOUND) == (True, 7)
    assert CHECK.parse_last_run(NOT_EXECUTABLE) == (True, 203)
    assert CHECK.parse_last_run(NOT_FOUND) == (True, 127)
    assert CHECK.parse_last_run("") == (False, None)
    assert 7 in CHECK.AIDE_RAN and 203 not in CHECK.AIDE_RAN and 127 not in CHECK.AIDE_RAN


class _Host:
    """Answers the check's two reads on a RHEL or SLES host (the role's own timer)."""

    def __init__(self, last_run: str) -> None:
        self.system_info = SimpleNamespace(type="linux")
        self._last_run = last_run

    def run(self, command: str) -> SimpleNamespace:
        if command == CHECK.OWN_RESULT:
            return SimpleNamespace(rc=0, stdout=self._last_run, stderr="")
        timers = "dailyaidecheck.timer absent inactive\ndriftvakt-aide-check.timer enabled active\n"
        return SimpleNamespace(rc=0, stdout=timers, stderr="")


def test_an_active_timer_whose_service_cannot_run_aide_fails() -> None:
    with pytest.raises(AssertionError, match="exited 203"):
        CHECK.test_a_daily_aide_check_is_scheduled(_Host(NOT_EXECUTABLE), {})
    with pytest.raises(AssertionError, match="exited 127"):
        CHECK.test_a_daily_aide_check_is_scheduled(_Host(NOT_FOUND), {})
    CHECK.test_a_daily_aide_check_is_scheduled(_Host(CHANGES_FOUND), {})
    CHECK.test_a_daily_aide_check_is_scheduled(_Host(NEVER_RAN), {})
