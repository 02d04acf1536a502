"""Runs of a simulated fleet to report on, and the report measured in a real browser.

The hosts are fleetsim.py's (one process on loopback replaying a recorded real host); this adds
what a region's report needs and the simulation lacks: host groups in the inventory and nights
that differ (which hosts fail to answer changes per night, as it does in a fleet), so that "new
since the last run" and the trends have something to show. Each night is a real ``driftvakt
audit`` of the whole fleet into one run store. Used by test_report_browser.py (a small fleet)
and bench/report_fleet.py (5000 hosts).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fleetsim import Fleet, SimHost, audit, fleet, plan, warm

CHROMIUM = shutil.which("chromium")
# A region's host groups, of unequal sizes (shares of the fleet)
GROUPS = {
    "journal": 0.22,
    "lab_systems": 0.08,
    "radiology": 0.10,
    "clients_vdi": 0.30,
    "identity": 0.03,
    "integration": 0.09,
    "web": 0.12,
    "file_print": 0.06,
}


def night_faults(size: int, night: int) -> dict[str, int]:
    """Which hosts fail to answer, per night: the counts change, so do the hosts."""

    def share(per_mille: float) -> int:
        return round(size * per_mille / 1000)

    return {
        "unreadable": max(1, share(20 + 6 * night)),
        "hanging": share(1 + night % 2),
        "refusing": share(2 + night),
        "failing": share(1),
    }


def group_inventory(sim: Fleet, hosts: list[SimHost]) -> None:
    """Rewrite the simulated fleet's inventory with its hosts in GROUPS (same hosts, vars)."""
    head, _ = sim.inventory.read_text().split("  hosts:\n", 1)
    lines = [head, "  children:\n"]
    start = 0
    names = list(GROUPS)
    for n, group in enumerate(names):
        end = len(hosts) if n == len(names) - 1 else start + round(GROUPS[group] * len(hosts))
        lines.append(f"    {group}:\n      hosts:\n")
        lines += [
            f"        {h.name}:\n          ansible_host: {h.address}\n" for h in hosts[start:end]
        ]
        start = end
    sim.inventory.write_text("".join(lines))


def audit_nights(size: int, nights: int, work: Path, prefix: int) -> list[dict[str, Any]]:
    """``nights`` audits of a ``size``-host grouped fleet into WORK/runs.db; their runs."""
    runs = []
    for night in range(nights):
        hosts = plan(size, prefix, night_faults(size, night))
        with fleet(hosts, work, lifetime_s=3600) as sim:
            group_inventory(sim, hosts)
            if night == 0:
                warm(sim, work)
            begun = time.perf_counter()
            done = audit(sim, work, timeout_s=10)
        print(
            f"night {night + 1}: run {done.run['id'][:8]}, {len(done.run['results'])} results, "
            f"{time.perf_counter() - begun:.0f} s",
            flush=True,
        )
        runs.append(done.run)
        (work / "run.json").rename(work / f"night{night + 1}.json")
    return runs


# Put after the first screen (the group x concern heat map). Its layout is forced here, so
# the time it was laid out is known by the time the probe runs; the frame that paints it
# records its paint time too, when headless Chromium draws that frame before the dump.
FIRST_SCREEN = """<script>
document.body.offsetHeight;
window.firstScreenLaidOut = performance.now();
requestAnimationFrame(function () { window.firstScreenPainted = performance.now(); });
</script>"""
# Appended to the page: runs inside the load event, after the page's own load handlers.
# --dump-dom reads the DOM only once the load event has been dispatched, so everything the
# probe does synchronously here is in the dump. (A probe that waited a frame or a timer
# after load lost that race now and then on a loaded machine: CI failed three tries in a row.)
PROBE = """<script>
window.addEventListener("load", function () {
  var out = {}, form = document.getElementById("host-filters");
  performance.getEntriesByType("paint").forEach(function (e) { out[e.name] = e.startTime; });
  out.first_screen_painted = window.firstScreenPainted;
  out.first_screen = window.firstScreenPainted || window.firstScreenLaidOut;
  out.load = performance.now();
  document.body.offsetHeight;  // the page's own first layout is not the filter's
  function change(field, key, value) {
    field.value = value;
    field.dispatchEvent(new Event(key === "q" ? "input" : "change"));
    document.body.offsetHeight;  // the layout the change causes
  }
  function timed(name, key, value) {  // the median of three, on a machine others share
    var field = form.querySelector("[data-key=" + key + "]"), took = [];
    for (var i = 0; i < 3; i++) {
      var begun = performance.now();
      change(field, key, value);
      took.push(performance.now() - begun);
      out[name + "_hosts"] = window.driftvaktHosts.matched();
      if (i < 2) change(field, key, "");
    }
    out[name] = took.sort(function (a, b) { return a - b; })[1];
  }
  timed("filter_group", "group", "0");
  timed("filter_concern", "concern", "1");
  timed("filter_status", "status", "e");
  timed("filter_search", "q", "sim000");
  document.getElementById("host-reset").click();
  var begun = performance.now();
  document.querySelector("#host-heatmap button.host").click();
  document.body.offsetHeight;
  out.host_detail = performance.now() - begun;
  out.host_detail_rows = document.querySelectorAll("#host-results tbody tr").length;
  document.body.setAttribute("data-probe", JSON.stringify(out));
});
</script></body>"""


# Should a dump still come without the probe's attribute, the page is opened again.
ATTEMPTS = 3


@dataclass(frozen=True)
class Measured:
    size_bytes: int
    numbers: dict[str, float]


def measure_in_chromium(page: Path) -> Measured:
    """Open ``page`` (a copy with PROBE) in headless Chromium and read what PROBE measured."""
    assert CHROMIUM is not None
    probed = page.with_name(page.stem + ".probe.html")
    html = page.read_text("utf-8").replace(
        '<h2 id="heatmap">', FIRST_SCREEN + '<h2 id="heatmap">', 1
    )
    probed.write_text(html.replace("</body>", PROBE), "utf-8")
    for _ in range(ATTEMPTS):
        dom = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--dump-dom", probed.as_uri()],
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        ).stdout
        if 'data-probe="' in dom:
            break
    else:
        raise AssertionError(f"Chromium dumped {page} before the probe ran, {ATTEMPTS} times")
    probe = dom.split('data-probe="', 1)[1].split('"', 1)[0].replace("&quot;", '"')
    return Measured(page.stat().st_size, json.loads(probe))
