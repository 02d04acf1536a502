"""Trends from the run store as inline SVG: rates per run overall, per concern and per host
group; a run with nothing judged leaves a gap, never a 0 %; the report and the export show
them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from test_report_html import result, run

from driftvakt import report
from driftvakt.catalog import controls
from driftvakt.export import contents
from driftvakt.localefmt import Formatter
from driftvakt.store import Store
from driftvakt.svgchart import line_chart
from driftvakt.trends import compute, from_store


def night(n: int, statuses: dict[str, str], groups: dict[str, list[str]]) -> dict[str, Any]:
    """One run: host -> status of its ssh and auditd results."""
    results = []
    for host, status in statuses.items():
        results.append(result(host, "ssh_root_login_disabled", status))
        results.append(result(host, "auditd_running", "pass"))
    data = run(f"{n}0000000-run", f"2026-11-2{n}T01:00:00+00:00", f"2026-11-2{n}T01:00:09+00:00",
               *results)  # fmt: skip
    data["groups"] = groups
    data["summary"] = {}
    return data


GROUPS = {"web-01": ["web"], "db-01": ["db"]}


def stored(tmp_path: Path) -> Path:
    path = tmp_path / "runs.db"
    with Store(path) as store:
        store.save(night(1, {"web-01": "pass", "db-01": "pass"}, GROUPS))
        store.save(night(2, {"web-01": "fail", "db-01": "pass"}, GROUPS))
        store.save(night(3, {"web-01": "error", "db-01": "error"}, {}))  # before groups
        store.save(night(4, {"web-01": "fail", "db-01": "waived"}, GROUPS))
    return path


def test_rates_per_run_concern_and_group_from_the_store(tmp_path: Path) -> None:
    trends = from_store(stored(tmp_path), "40000000", controls())
    assert trends is not None
    assert trends.run_ids[0].startswith("1") and len(trends.run_ids) == 4
    # 4 results a night; night 3: auditd passes, ssh errors (not judged)
    assert trends.overall == [1.0, 0.75, 1.0, 0.75]
    assert trends.by_concern["ssh"] == [1.0, 0.5, None, 0.5]  # nothing judged: no point
    assert trends.by_group["web"] == [1.0, 0.5, None, 0.5]  # night 3 recorded no groups
    assert trends.by_group["db"] == [1.0, 1.0, None, 1.0]  # waived counts as compliant
    assert trends.by_group[""] == [None, None, 1.0, None]
    # the last N runs only, up to the run reported
    assert from_store(tmp_path / "runs.db", "20000000", controls(), runs=1).run_ids == [  # type: ignore[union-attr]
        "20000000-run"
    ]
    assert from_store(tmp_path / "none.db", "x", controls()) is None


def test_a_gap_breaks_the_line_and_text_is_escaped() -> None:
    svg = line_chart(
        [0.5, None, 0.8, 0.9], ["a", "b", "c", "<d>"], "x & <y>", Formatter("sv").percent
    )
    assert svg.count("<polyline") == 2  # 0.5 alone, then 0.8 -> 0.9
    assert svg.count("<circle") == 3
    assert "&lt;d&gt;: 90\xa0%" in svg and 'aria-label="x &amp; &lt;y&gt;: 90\xa0%"' in svg
    assert not re.search(r"https?://", svg)


def test_the_report_and_the_export_show_the_trends(tmp_path: Path) -> None:
    path = stored(tmp_path)
    with Store(path) as store:
        current, previous = store.load("40000000"), store.load("20000000")
        trends = compute(store.tallies("40000000", 30), controls())
    html = report.render(current, "sv", previous, trends)
    overall = html.split('id="trend-overall"', 1)[1].split("</figure>", 1)[0]
    assert overall.count("<circle") == 4
    assert "Per värdgrupp" in html and "4 körningar ur körningsarkivet" in html
    files = contents.render(contents.Source(current, previous, trends))
    for name in ("reports/report.sv.html", "reports/report.en.html"):
        assert b'id="trend-overall"' in files[name]
    assert "Ingen lagrad historik" in report.render(current, "sv", previous, None)
