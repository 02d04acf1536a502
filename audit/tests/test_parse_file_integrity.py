# ruff: noqa: E501  (captured output is quoted verbatim)
"""The pure parsers of tests/test_file_integrity.py, on captured AIDE and systemctl output."""

from __future__ import annotations

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
