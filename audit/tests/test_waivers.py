"""Waivers: waived is never pass, expired ones stop counting, malformed files name file:line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from driftvakt.audit import apply_waivers
from driftvakt.errors import BadInputError
from driftvakt.inventory import Target
from driftvakt.results import Result, Status
from driftvakt.waivers import default_path, load

KNOWN = {"auditd_running", "ntp_region_servers"}
GOOD = """\
waivers:
  - control: auditd_running
    hosts: [lab]
    reason: containers get no kernel audit socket
    risk_analysis: RA-2026-014
    approver: Anna Andersson
    expires: 2027-06-30
"""


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "waivers.yml"
    path.write_text(text)
    return path


def _host(name: str, groups: tuple[str, ...]) -> Target:
    return Target(name, "10.0.0.1", 22, None, None, "ssh", False, "", None, None, {}, groups)


def test_valid_waiver_turns_fail_into_waived_not_pass(tmp_path: Path) -> None:
    waivers = load(_file(tmp_path, GOOD), KNOWN)
    results = [
        Result("lab-01", "auditd_running", Status.FAIL, reason="auditd inactive"),
        Result("lab-01", "ntp_region_servers", Status.FAIL, reason="pool.ntp.org"),
        Result("web1", "auditd_running", Status.FAIL, reason="auditd inactive"),
    ]
    apply_waivers(
        results, waivers, [_host("lab-01", ("lab",)), _host("web1", ("prod",))], dt.date(2027, 1, 1)
    )
    assert [r.status for r in results] == [Status.WAIVED, Status.FAIL, Status.FAIL]
    assert "RA-2026-014" in results[0].reason
    assert results[0].to_json()["waiver"] == {
        "source": f"{tmp_path / 'waivers.yml'}:2",
        "reason": "containers get no kernel audit socket",
        "risk_analysis": "RA-2026-014",
        "approver": "Anna Andersson",
        "expires": "2027-06-30",
        "expired": False,
    }
    assert "waiver" not in results[1].to_json()
    assert "auditd inactive" in results[0].evidence[0]


def test_expired_waiver_stops_counting_and_says_so(tmp_path: Path) -> None:
    waivers = load(_file(tmp_path, GOOD), KNOWN)
    results = [Result("lab-01", "auditd_running", Status.FAIL, reason="auditd inactive")]
    apply_waivers(results, waivers, [_host("lab-01", ("lab",))], dt.date(2027, 7, 1))
    assert results[0].status is Status.FAIL
    assert "expired on 2027-06-30" in results[0].reason
    assert results[0].waiver["expired"] is True


def test_an_error_is_never_waived(tmp_path: Path) -> None:
    results = [Result("lab-01", "auditd_running", Status.ERROR, reason="unreachable")]
    apply_waivers(
        results,
        load(_file(tmp_path, GOOD), KNOWN),
        [_host("lab-01", ("lab",))],
        dt.date(2027, 1, 1),
    )
    assert results[0].status is Status.ERROR


def test_a_pass_stays_a_pass(tmp_path: Path) -> None:
    results = [Result("lab-01", "auditd_running", Status.PASS)]
    apply_waivers(
        results,
        load(_file(tmp_path, GOOD), KNOWN),
        [_host("lab-01", ("lab",))],
        dt.date(2027, 1, 1),
    )
    assert results[0].status is Status.PASS


@pytest.mark.fault(
    "input",
    "malformed waivers: bad YAML, missing/unknown fields, impossible dates, date-times, "
    "lists or numbers where text belongs, a key given twice",
    "one line naming file:line, exit 3; was: tracebacks after the fleet was audited, "
    "or a second `hosts:` silently winning",
)
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("waivers:\n  - control: [unclosed\n", r"waivers\.yml:\d+: not valid YAML"),
        (GOOD.replace("    approver: Anna Andersson\n", ""), r"waivers\.yml:2: missing approver"),
        (GOOD.replace("auditd_running", "no_such_control"), r"waivers\.yml:2: unknown control"),
        (GOOD.replace("2027-06-30", "next summer"), r"waivers\.yml:2: expires must be a date"),
        (GOOD + "    note: extra\n", r"waivers\.yml:2: unknown field\(s\) note"),
        ("- control: x\n", r"waivers\.yml:1: expected a mapping"),
        # found as a new user would: each of these ended the run with a traceback
        (GOOD.replace("2027-06-30", "2027-13-45"), r"waivers\.yml:2: expires .* no such day"),
        (GOOD.replace("2027-06-30", "2027-06-30 10:00:00"), r"waivers\.yml:2: expires must be"),
        (GOOD.replace("control: auditd_running", "control: [a, b]"), r":2: control must be text"),
        (GOOD.replace("hosts: [lab]", "hosts: 5"), r"waivers\.yml:2: hosts must be host names"),
        (GOOD.replace("hosts: [lab]", "hosts: []"), r"waivers\.yml:2: hosts must be a host"),
        (
            GOOD.replace("reason: containers get no kernel audit socket", "reason: 7"),
            r":2: reason must",
        ),
        # a key given twice silently took the last: a second hosts: ["*"] waived it everywhere
        (GOOD + '    hosts: ["*"]\n', r"waivers\.yml:8: 'hosts' is given twice"),
        ("waivers: []\nwaivers: []\n", r"waivers\.yml:2: 'waivers' is given twice"),
        ("waivers:\n  - 5\n", r"waivers\.yml:2: each waiver must be a mapping"),
        ("waivers: {}\n", r"waivers\.yml:1: expected a mapping with a 'waivers' list"),
    ],
)
def test_malformed_waivers_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(BadInputError, match=message):
        load(_file(tmp_path, text), KNOWN)


def test_default_path_is_beside_the_inventory(tmp_path: Path) -> None:
    assert default_path(str(tmp_path)) == tmp_path.with_name(tmp_path.name + ".waivers.yml")
    assert default_path(str(tmp_path / "hosts.ini")) == tmp_path / "waivers.yml"


@pytest.mark.fault("input", "a waiver file that is not UTF-8", "one line, exit 3")
def test_a_file_that_is_not_utf8_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "waivers.yml"
    path.write_bytes(GOOD.replace("Anna Andersson", "Åsa").encode("latin-1"))
    with pytest.raises(BadInputError, match=r"waivers .*waivers\.yml: not UTF-8 text"):
        load(path, KNOWN)


def test_quoted_numbers_are_host_names(tmp_path: Path) -> None:
    [waiver] = load(_file(tmp_path, GOOD.replace("hosts: [lab]", 'hosts: ["5", web*]')), KNOWN)
    assert waiver.hosts == ("5", "web*")
    assert waiver.expires == dt.date(2027, 6, 30)
