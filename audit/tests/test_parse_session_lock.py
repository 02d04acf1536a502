"""The parser of tests/test_session_lock.py on a login shell's real answers (bash 5.2)."""

from __future__ import annotations

from driftvakt_checks import test_session_lock as CHECK


def test_readonly_timeout_within_the_limit() -> None:
    timeout = CHECK.parse_probe('TMOUT=900\ndeclare -rx TMOUT="900"\n')
    assert (timeout.seconds, timeout.readonly) == (900, True)
    assert CHECK.problems(timeout, 900) == []


def test_unset_timeout() -> None:
    timeout = CHECK.parse_probe("TMOUT=\n")
    assert timeout.seconds is None and not timeout.readonly
    assert CHECK.problems(timeout, 900) == [
        "TMOUT is unset: idle shells never end",
        "TMOUT is not read-only: a user can lift it",
    ]


def test_too_long_or_writable_or_zero() -> None:
    long = CHECK.parse_probe('TMOUT=3600\ndeclare -rx TMOUT="3600"\n')
    assert CHECK.problems(long, 900) == ["TMOUT is 3600 s, longer than the allowed 900 s"]
    writable = CHECK.parse_probe("TMOUT=600\n")
    assert CHECK.problems(writable, 900) == ["TMOUT is not read-only: a user can lift it"]
    zero = CHECK.parse_probe('TMOUT=0\ndeclare -r TMOUT="0"\n')
    assert CHECK.problems(zero, 900) == ["TMOUT is 0: idle shells never end"]
    exported_only = CHECK.parse_probe('TMOUT=600\ndeclare -x TMOUT="600"\n')
    assert not exported_only.readonly
