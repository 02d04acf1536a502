"""``driftvakt gate HOST…``: the acceptance gate for new VMs (RST-11.3.1, docs/gate.md).

Audits the named hosts and lets them through only if every applicable control passes or is
validly waived. An expired waiver is no waiver: its result stays ``fail`` (audit.apply_waivers).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from driftvakt.audit import default_inventory, run_audit
from driftvakt.errors import BadInputError
from driftvakt.exitcodes import Exit
from driftvakt.inventory import targets
from driftvakt.results import ErrorKind
from driftvakt.store import Location

ACCEPTED = ("pass", "waived", "not_applicable")


@dataclass(frozen=True)
class Problem:
    kind: str  # unreachable | error | fail
    host: str
    control: str
    reason: str

    def line(self) -> str:
        if self.kind == "unreachable":  # the transport's reason starts with the host already
            return f"UNREACHABLE {self.host}: {self.reason.removeprefix(f'{self.host}: ')}"
        return f"{self.kind.upper():<5} {self.host} {self.control}: {self.reason}"


def problems(run: dict[str, Any], hosts: list[str]) -> list[Problem]:
    """What keeps the hosts out, one per failing result; an unreachable host is one problem."""
    found: list[Problem] = []
    for host in hosts:
        mine = [r for r in run["results"] if r["host"] == host]
        if not mine:
            found.append(Problem("error", host, "-", "the audit returned no result for it"))
            continue
        down = next((r for r in mine if r.get("error_kind") == ErrorKind.UNREACHABLE), None)
        if down is not None:
            found.append(Problem("unreachable", host, "-", down["reason"]))
            continue
        for r in mine:
            if r["status"] not in ACCEPTED:
                found.append(Problem(r["status"], host, r["control"], r.get("reason") or ""))
    return found


def exit_code(found: list[Problem]) -> int:
    """The worst problem decides: unreachable, then error, then fail."""
    kinds = {p.kind for p in found}
    if "unreachable" in kinds:
        return Exit.UNREACHABLE
    if "error" in kinds:
        return Exit.ERRORS
    return Exit.FAILURES if kinds else Exit.OK


def run_gate(
    hosts: list[str],
    inventory: str | None,
    output: Path,
    lang: str,
    store_path: Location | None,
    waivers_path: Path | None,
    timeout: float,
    wait: float,
) -> int:
    inventory = inventory or default_inventory()
    known = {t.name for t in targets(inventory, ",".join(hosts))}
    missing = [h for h in hosts if h not in known]
    if missing:
        raise BadInputError(f"inventory {inventory}: no host named {', '.join(missing)}")
    run_audit(
        inventory=inventory,
        limit=",".join(hosts),
        output=output,
        lang=lang,
        quiet=True,
        store_path=store_path,
        waivers_path=waivers_path,
        timeout=timeout,
        wait=wait,
    )
    run = json.loads(output.read_text("utf-8"))
    found = problems(run, hosts)
    for problem in found:
        print(problem.line())
    verdict = "REJECTED" if found else "ACCEPTED"
    print(f"gate {verdict}: {len(hosts)} host(s), {len(found)} problem(s) (run {run['id'][:8]})")
    return exit_code(found)
