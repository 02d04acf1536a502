"""Drift between two runs: classification, evidence differences, hosts, texts."""

from __future__ import annotations

from typing import Any

import pytest

from driftvakt.drift import Change, Kind, compare, evidence_diff, format_text


def result(
    host: str, control: str, status: str, evidence: list[str] | None = None, reason: str = ""
) -> dict[str, Any]:
    return {
        "host": host,
        "control": control,
        "status": status,
        "evidence": evidence or [],
        "reason": reason,
        "duration": 0.1,
    }


def run(run_id: str, *results: dict[str, Any], hosts: list[str] | None = None) -> dict[str, Any]:
    return {
        "id": run_id,
        "hosts": hosts if hosts is not None else sorted({r["host"] for r in results}),
        "results": list(results),
    }


def only(before: dict[str, Any], after: dict[str, Any]) -> Change:
    report = compare(before, after)
    assert len(report.changes) == 1, report.changes
    return report.changes[0]


@pytest.mark.parametrize("was", ["pass", "not_applicable", "waived", "error"])
def test_new_failure(was: str) -> None:
    change = only(run("a", result("web1", "ntp", was)), run("b", result("web1", "ntp", "fail")))
    assert change.kind is Kind.NEW_FAILURE
    assert (change.status_before, change.status_after) == (was, "fail")


def test_a_failing_control_new_to_a_known_host_is_a_new_failure() -> None:
    before = run("a", result("web1", "ssh", "pass"))
    after = run("b", result("web1", "ssh", "pass"), result("web1", "ntp", "fail", ["x"]))
    report = compare(before, after)
    assert [(c.control, c.kind, c.status_before) for c in report.changes] == [
        ("ntp", Kind.NEW_FAILURE, None)
    ]
    assert report.controls_added == ("ntp",)
    assert report.changes[0].added == ("x",)


@pytest.mark.parametrize("was", ["fail", "error"])
def test_repaired(was: str) -> None:
    change = only(run("a", result("web1", "ntp", was)), run("b", result("web1", "ntp", "pass")))
    assert change.kind is Kind.REPAIRED


@pytest.mark.parametrize("was", ["pass", "fail", "waived", "not_applicable"])
def test_new_error(was: str) -> None:
    change = only(
        run("a", result("web1", "ntp", was, reason="")),
        run("b", result("web1", "ntp", "error", reason="ssh: connection refused")),
    )
    assert change.kind is Kind.NEW_ERROR
    assert change.reason_before == ""
    assert change.reason_after == "ssh: connection refused"


@pytest.mark.parametrize("now", ["waived", "not_applicable"])
def test_error_cleared(now: str) -> None:
    change = only(run("a", result("web1", "ntp", "error")), run("b", result("web1", "ntp", now)))
    assert change.kind is Kind.ERROR_CLEARED


def test_still_failing_with_changed_evidence_carries_the_changed_lines() -> None:
    before = run(
        "a",
        result(
            "web1",
            "ntp",
            "fail",
            ["driftfile /var/lib/chrony/drift\nserver ntp1.region.example iburst\nmakestep 1 3"],
            reason="wrong server",
        ),
    )
    after = run(
        "b",
        result(
            "web1",
            "ntp",
            "fail",
            ["driftfile /var/lib/chrony/drift\nserver pool.ntp.org iburst\nmakestep 1 3"],
            reason="wrong server",
        ),
    )
    change = only(before, after)
    assert change.kind is Kind.STILL_FAILING
    assert change.removed == ("server ntp1.region.example iburst",)
    assert change.added == ("server pool.ntp.org iburst",)


def test_unchanged_results_are_counted_not_listed() -> None:
    before = run(
        "a",
        result("web1", "ntp", "fail", ["same"]),
        result("web1", "ssh", "pass", ["a"]),
        result("web1", "fw", "error"),
    )
    after = run(
        "b",
        result("web1", "ntp", "fail", ["same"]),
        result("web1", "ssh", "pass", ["b"]),  # pass with other evidence: still no drift
        result("web1", "fw", "error", reason="other"),
    )
    report = compare(before, after)
    assert report.is_empty
    assert report.changes == ()
    assert report.unchanged == 3


def test_other_status_changes_and_missing_results_are_not_lost() -> None:
    before = run("a", result("web1", "ntp", "fail"), result("web1", "ssh", "pass", ["x"]))
    after = run("b", result("web1", "ntp", "waived"), result("web2", "ssh", "pass"))
    report = compare(before, after)
    kinds = {(c.host, c.control): c.kind for c in report.changes}
    assert kinds == {("web1", "ntp"): Kind.STATUS_CHANGED, ("web1", "ssh"): Kind.RESULT_MISSING}


def test_hosts_appeared_and_vanished_and_controls_added_and_removed() -> None:
    before = run("a", result("web1", "ntp", "pass"), result("db1", "ntp", "pass"))
    before["results"].append(result("db1", "legacy", "pass"))
    after = run("b", result("web1", "ntp", "pass"), result("web2", "ntp", "fail", ["bad"]))
    after["results"].append(result("web1", "audit", "pass"))
    report = compare(before, after)
    assert report.hosts_appeared == ("web2",)
    assert report.hosts_vanished == ("db1",)
    assert report.controls_added == ("audit",)
    assert report.controls_removed == ("legacy",)
    # the vanished host's results are not repeated one by one; the new host's failure is news
    assert [(c.host, c.control, c.kind) for c in report.changes] == [
        ("web2", "ntp", Kind.NEW_FAILURE)
    ]
    assert not report.is_empty


def test_a_host_without_results_still_counts_as_appeared() -> None:
    report = compare(run("a", hosts=["web1"]), run("b", hosts=["web1", "web9"]))
    assert report.hosts_appeared == ("web9",)


def test_changes_are_sorted_by_host_and_control() -> None:
    before = run("a", *(result(h, c, "pass") for h in ("b", "a") for c in ("z", "y")))
    after = run("b", *(result(h, c, "fail") for h in ("b", "a") for c in ("z", "y")))
    report = compare(before, after)
    assert [(c.host, c.control) for c in report.changes] == [
        ("a", "y"),
        ("a", "z"),
        ("b", "y"),
        ("b", "z"),
    ]
    assert report.count(Kind.NEW_FAILURE) == 4


def test_evidence_diff_keeps_only_changed_lines_in_order() -> None:
    removed, added = evidence_diff(["a", "b", "c", "d"], ["a", "B", "c", "d", "e"])
    assert removed == ("b",)
    assert added == ("B", "e")


def test_first_run_has_nothing_to_compare() -> None:
    report = compare(None, run("b", result("web1", "ntp", "fail")))
    assert report.before_id is None
    assert report.is_empty
    assert format_text(report) == "No earlier run to compare with."
    assert format_text(report, "sv") == "Ingen tidigare körning att jämföra med."


def drifted() -> tuple[dict[str, Any], dict[str, Any]]:
    before = run(
        "11111111-aaaa",
        result("web1", "ntp", "pass", ["server ntp1.region.example iburst"]),
        result("web1", "ssh", "fail", ["PermitRootLogin yes"], reason="root login allowed"),
        result("web1", "fw", "pass"),
        result("db1", "ntp", "pass"),
    )
    after = run(
        "22222222-bbbb",
        result("web1", "ntp", "fail", ["server pool.ntp.org iburst"], reason="not the region"),
        result("web1", "ssh", "pass", ["PermitRootLogin no"]),
        result("web1", "fw", "error", reason="nft: permission denied"),
        result("web3", "ntp", "pass"),
    )
    return before, after


def test_english_text() -> None:
    text = format_text(compare(*drifted()))
    assert text.splitlines()[0] == "Drift 11111111 -> 22222222"
    assert "new failure: web1 ntp (pass -> fail)" in text
    assert "- server ntp1.region.example iburst" in text
    assert "+ server pool.ntp.org iburst" in text
    assert "repaired: web1 ssh (fail -> pass)" in text
    assert "new error: web1 fw (pass -> error)" in text
    assert "host appeared: web3" in text
    assert "host vanished: db1" in text
    assert "'nft: permission denied'" in text


def test_swedish_text() -> None:
    text = format_text(compare(*drifted()), lang="sv")
    assert text.splitlines()[0] == "Förändringar 11111111 -> 22222222"
    assert "ny avvikelse: web1 ntp (godkänd -> underkänd)" in text
    assert "åtgärdad: web1 ssh (underkänd -> godkänd)" in text
    assert "nytt fel: web1 fw (godkänd -> fel)" in text
    assert "värd tillkommen: web3" in text
    assert "värd försvunnen: db1" in text
    assert "orsak: var" in text
    assert "new failure" not in text


def test_text_without_drift_and_long_evidence_is_cut() -> None:
    same = run("11111111-x", result("web1", "ntp", "pass"))
    assert format_text(compare(same, same)) == "No change since run 11111111."
    assert format_text(compare(same, same), "sv") == "Ingen förändring sedan körning 11111111."
    before = run("a", result("web1", "ntp", "fail", [f"old {i}" for i in range(10)]))
    after = run("b", result("web1", "ntp", "fail", [f"new {i}" for i in range(10)]))
    text = format_text(compare(before, after), max_lines=4)
    assert "... 16 more line(s)" in text
    assert "... 16 rad(er) till" in format_text(compare(before, after), "sv", max_lines=4)


def test_report_to_json() -> None:
    data = compare(*drifted()).to_json()
    assert data["before"] == "11111111-aaaa"
    assert data["hosts_appeared"] == ["web3"]
    first = data["changes"][0]
    assert first["kind"] in {k.value for k in Kind}
    assert isinstance(first["added"], list)
