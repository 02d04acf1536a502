"""Record what the real dnf and zypper answer to the patching check, into fixtures/rpm/.

    cd audit/tests && python record_rpm_patching.py

For each scenario of rpmkit.SCENARIOS and each client it builds the lab's RPM repository and a
root with its own rpm database (driftvakt.lab.rpm_repos), runs the check's own reading code
(tests/test_patching.py ``_pending``) against it with the real client, and writes every command
the check sent with its exit code and output, verbatim, to
``fixtures/rpm/<client>-<scenario>.json``.
test_parse_patching.py replays them; test_rpm_patching.py runs the same scenarios live.
Needs root (rpm's database in the root) and the apt packages rpm, dnf, zypper, createrepo-c.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

import rpmkit

from driftvakt_checks import test_patching as CHECK

FIXTURES = rpmkit.FIXTURES


def record(client: rpmkit.Client, scenario: rpmkit.Scenario, base: Path) -> dict[str, object]:
    shutil.rmtree(base, ignore_errors=True)
    host = rpmkit.scenario_host(client, scenario, base)
    try:
        CHECK._pending(host)
    except (LookupError, RuntimeError, ValueError) as exc:
        print(f"  {client} {scenario.name}: {exc}")
    return {
        "recorded_with": rpmkit.client_versions(),
        "scenario": scenario.name,
        "expect": scenario.expect,
        "tz": host.tz,
        "answers": [a.__dict__ for a in host.answers],
    }


def main() -> int:
    missing = rpmkit.missing_tools()
    if missing:
        print(f"missing: {', '.join(missing)} (apt-get install rpm dnf zypper createrepo-c)")
        return 2
    FIXTURES.mkdir(parents=True, exist_ok=True)
    # A fixed place, so the paths the clients print are the same from one recording to the next.
    work = Path(tempfile.gettempdir()) / "driftvakt-rpm-record"
    for scenario in rpmkit.SCENARIOS:
        for client in scenario.clients:
            data = record(client, scenario, work / f"{client}-{scenario.name}")
            out = FIXTURES / f"{client}-{scenario.name}.json"
            out.write_text(json.dumps(data, indent=1) + "\n")
            print(f"wrote {out.relative_to(Path(__file__).parent)}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
