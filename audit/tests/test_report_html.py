"""The HTML report: both languages, self-contained, escaped, drift and waivers, locale formats."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from driftvakt import report
from driftvakt.cli import main

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)> & "quoted"'


def result(host: str, control: str, status: str, reason: str = "", evidence: Any = ()) -> dict:  # type: ignore[type-arg]
    return {
        "host": host,
        "control": control,
        "status": status,
        "evidence": list(evidence),
        "reason": reason,
        "duration": 0.2,
    }


def run(run_id: str, started: str, finished: str, *results: dict) -> dict:  # type: ignore[type-arg]
    return {
        "id": run_id,
        "started": started,
        "finished": finished,
        "user": "ops",
        "driftvakt_version": "0.1.0",
        "baseline_revision": "abc1234",
        "inventory": "inventories/lab",
        "limit": None,
        "hosts": sorted({r["host"] for r in results}),
        "results": list(results),
    }


BEFORE = run(
    "11111111-aaaa",
    "2026-11-20T08:00:00+00:00",
    "2026-11-20T08:00:09+00:00",
    result("web-01", "ssh_root_login_disabled", "pass"),
    result("web-01", "auditd_running", "pass"),
    result("db-01", "ssh_root_login_disabled", "pass"),
)
CURRENT = run(
    "22222222-bbbb",
    "2026-11-23T13:05:00+00:00",
    "2026-11-23T13:05:12.5+00:00",
    result(
        "web-01",
        "ssh_root_login_disabled",
        "fail",
        "sshd -T shows ['permitrootlogin yes']; expected permitrootlogin no",
        ["$ sshd -T (rc=0)", HOSTILE],
    ),
    result(
        "web-01",
        "auditd_running",
        "waived",
        "waived until 2027-06-30 (RA-2026-014, approved by Anna Andersson, CISO): "
        "containers get no kernel audit socket",
        ["observed (fail): auditd is not running"],
    ),
    result(
        "db-01",
        "ssh_root_login_disabled",
        "fail",
        "sshd -T shows ['permitrootlogin yes'] [waiver waivers.yml:3 expired on 2026-10-01]",
    ),
    result("db-01", "auditd_running", "error", "check could not run (CommandMissing): auditctl"),
)


class _Assets(HTMLParser):
    """Every attribute that could load something from elsewhere."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href", "srcset", "action") and value and not value.startswith("#"):
                self.loads.append(f"<{tag} {name}={value}>")
        if tag in ("link", "iframe", "object", "embed", "img"):
            self.loads.append(f"<{tag}>")


@pytest.fixture(scope="module", params=["sv", "en"])
def page(request: pytest.FixtureRequest) -> tuple[str, str]:
    return request.param, report.render(CURRENT, request.param, BEFORE)


def test_the_page_is_self_contained(page: tuple[str, str]) -> None:
    _, html = page
    parser = _Assets()
    parser.feed(html)
    assert parser.loads == []
    assert not re.search(r"https?://|url\(|@import", html)


def test_hostile_evidence_is_escaped(page: tuple[str, str]) -> None:
    _, html = page
    assert HOSTILE not in html
    assert (
        "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    )
    assert html.count("<script>") == 1  # the report's own script only


def test_every_section_is_there(page: tuple[str, str]) -> None:
    lang, html = page
    words = {
        "sv": ["Avvikelser sedan föregående körning", "ny avvikelse", "Undantag", "Per värd"],
        "en": ["Drift since the previous run", "new failure", "Waivers", "Per host"],
    }[lang]
    for word in words:
        assert word in html
    assert 'id="drift"' in html and "11111111" in html  # compared with the earlier run
    assert "RA-2026-014" in html and "Anna Andersson, CISO" in html
    assert "waivers.yml:3" in html  # the expired waiver is named


def test_without_javascript_everything_is_shown(page: tuple[str, str]) -> None:
    _, html = page
    body = html.split("</head>")[1].split("<script>")[0]
    assert not re.search(r"<[^>]* hidden[ >=]|style=\"[^\"]*display", body)
    assert body.count("<tr data-status=") == len(CURRENT["results"])
    # evidence is open until the script collapses it
    assert body.count("<details open>") == sum(bool(r["evidence"]) for r in CURRENT["results"])


def test_dates_and_numbers_follow_the_language() -> None:
    sv = report.render(CURRENT, "sv", BEFORE)
    en = report.render(CURRENT, "en", BEFORE)
    assert "23 nov. 2026 14:05:00 CET" in sv  # Stockholm time, Swedish month
    assert "23 Nov 2026, 14:05:00 CET" in en
    assert "12,5 s" in sv and "12.5 s" in en  # decimal comma in Swedish
    assert "30 juni 2027" in sv and "30 June 2027" in en  # the waiver's expiry
    assert "underkänd" in sv and "fail" in en


def test_clickable_counts_filter_the_results() -> None:
    html = report.render(CURRENT, "en", BEFORE)
    assert 'data-filter-status="fail" data-filter-host="web-01"' in html
    assert 'data-filter-status="fail" data-filter-control="ssh_root_login_disabled"' in html
    for key in ("status", "severity", "requirement", "host"):
        assert f'<select data-key="{key}">' in html


def test_first_run_says_there_is_nothing_to_compare() -> None:
    html = report.render(CURRENT, "sv", None)
    assert "Ingen tidigare körning att jämföra med." in html


def test_report_command_compares_with_a_named_run(tmp_path: Path) -> None:
    import json

    (tmp_path / "before.json").write_text(json.dumps(BEFORE))
    (tmp_path / "now.json").write_text(json.dumps(CURRENT))
    out = tmp_path / "r.html"
    code = main(
        [
            "report",
            str(tmp_path / "now.json"),
            "--previous",
            str(tmp_path / "before.json"),
            "--lang",
            "sv",
            "-o",
            str(out),
            "--store",
            str(tmp_path / "none.db"),
        ]
    )
    assert code == 0
    assert "Jämfört med körning 11111111" in out.read_text("utf-8")
