"""The report's script in a real browser (Debian's headless chromium): clicking a count filters
the results to exactly that host and status, a column head sorts, evidence is collapsed.
Skipped where chromium is not installed (`apt-get install chromium`)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from test_report_html import BEFORE, CURRENT

from driftvakt import report

CHROMIUM = shutil.which("chromium")
PROBE = """<script>
document.querySelector('a.count[data-filter-status="fail"][data-filter-host="web-01"]').click();
var shown = [].filter.call(document.querySelectorAll('#result-table tbody tr'),
  function (r) { return !r.hidden; });
var out = shown.map(function (r) { return r.dataset.host + ':' + r.dataset.status; }).join(',');
var head = document.querySelector('th[data-sort="host"] button');
head.click(); head.click();
out += '|' + document.querySelector('#result-table tbody tr').dataset.host;
out += '|' + document.querySelectorAll('#result-table details[open]').length;
document.body.setAttribute('data-probe', out);
</script></body>"""


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_counts_filter_and_heads_sort_in_a_browser(tmp_path: Path) -> None:
    page = tmp_path / "probe.html"
    page.write_text(report.render(CURRENT, "en", BEFORE).replace("</body>", PROBE), "utf-8")
    dom = subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    probe = dom.split('data-probe="', 1)[1].split('"', 1)[0]
    # one failure on web-01; after sorting by host descending web-01 comes first; all collapsed
    assert probe == "web-01:fail|web-01|0"
