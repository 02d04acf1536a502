"""OSCAL assessment-results (JSON) of one run, valid against NIST's schema (docs/formats.md).

Each host is an inventory item (the subject), each result an observation of that subject, and
each assessed result a finding on the control (an objective): pass -> ``satisfied``; fail, error
and waived -> ``not-satisfied``, with driftvakt's own status kept as a property and the reason
in the remarks, so an error is never mistaken for an assessed failure and a waiver stays
visible. not_applicable results are observations without a finding. Every UUID is derived
from the run id (uuid5), so exporting the same run twice gives the same document.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from driftvakt import __version__
from driftvakt.formats import Row, rows

OSCAL_VERSION = "1.0.6"  # the schema version the tests validate against
NS = "urn:driftvakt:oscal"  # our props' namespace (OSCAL requires one for non-OSCAL names)
STATE = {"pass": "satisfied", "fail": "not-satisfied", "error": "not-satisfied"}
STATE["waived"] = "not-satisfied"  # an accepted deviation is still not satisfied
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:driftvakt:run")


class _Ids:
    def __init__(self, run_id: str) -> None:
        self.base = uuid.uuid5(_NAMESPACE, run_id)

    def __call__(self, *parts: str) -> str:
        return str(uuid.uuid5(self.base, "/".join(parts)))


def _prop(name: str, value: str) -> dict[str, str]:
    return {"name": name, "ns": NS, "value": value}


def _when(run: dict[str, Any]) -> tuple[str, str]:
    start = run["started"]
    return start, run.get("finished") or start


def _observation(row: Row, ids: _Ids, collected: str) -> dict[str, Any]:
    obs: dict[str, Any] = {
        "uuid": ids("observation", row.host, row.control),
        "title": f"{row.host}: {row.control}",
        "description": row.title,
        "props": [_prop("status", row.status), _prop("control", row.control)],
        "methods": ["TEST"],
        "types": ["control-objective"],
        "subjects": [{"subject-uuid": ids("host", row.host), "type": "inventory-item"}],
        "collected": collected,
    }
    if row.evidence:
        obs["relevant-evidence"] = [{"description": line} for line in row.evidence]
    if row.reason:
        obs["remarks"] = row.reason
    return obs


def _finding(row: Row, ids: _Ids) -> dict[str, Any]:
    status: dict[str, Any] = {"state": STATE[row.status]}
    if row.status != "pass":
        # OSCAL's reasons: pass, fail, other. An error is "other": nobody could look.
        status["reason"] = "fail" if row.status == "fail" else "other"
    target: dict[str, Any] = {
        "type": "objective-id",
        "target-id": row.control,
        "title": row.title,
        "props": [_prop("status", row.status)]
        + [_prop("requirement", req) for req in row.requirements],
        "status": status,
    }
    if row.reason:
        target["remarks"] = row.reason
    return {
        "uuid": ids("finding", row.host, row.control),
        "title": f"{row.control} on {row.host}",
        "description": f"{row.title} ({row.status})",
        "target": target,
        "related-observations": [{"observation-uuid": ids("observation", row.host, row.control)}],
    }


def document(run: dict[str, Any], lang: str = "en") -> dict[str, Any]:
    ids = _Ids(run["id"])
    start, end = _when(run)
    found = rows(run, lang)
    requirements = sorted({req for row in found for req in row.requirements})
    result: dict[str, Any] = {
        "uuid": ids("result"),
        "title": f"driftvakt audit {run['id']}",
        "description": (
            f"Automated audit of {len(run['hosts'])} host(s) against the baseline "
            f"{run['baseline_revision']} by {run['user']}."
        ),
        "start": start,
        "end": end,
        "props": [_prop("run-id", run["id"])],
        "reviewed-controls": {
            "control-selections": [
                {"include-controls": [{"control-id": req} for req in requirements]}
                if requirements
                else {"include-all": {}}
            ]
        },
    }
    if run["hosts"]:
        result["local-definitions"] = {
            "inventory-items": [
                {
                    "uuid": ids("host", host),
                    "description": host,
                    "props": [{"name": "asset-id", "value": host}],
                }
                for host in run["hosts"]
            ]
        }
    if found:
        result["observations"] = [_observation(row, ids, end) for row in found]
    findings = [_finding(row, ids) for row in found if row.status in STATE]
    if findings:
        result["findings"] = findings
    plan = ids("assessment-plan")
    return {
        "assessment-results": {
            "uuid": ids("assessment-results"),
            "metadata": {
                "title": f"driftvakt audit {run['id']}",
                "last-modified": end,
                "version": run["id"],
                "oscal-version": OSCAL_VERSION,
                "props": [_prop("driftvakt-version", run["driftvakt_version"] or __version__)],
            },
            # The plan is driftvakt's control catalog at the audited baseline revision.
            "import-ap": {"href": f"#{plan}"},
            "results": [result],
            "back-matter": {
                "resources": [
                    {
                        "uuid": plan,
                        "title": "driftvakt control catalog (the assessment plan)",
                        "description": f"baseline revision {run['baseline_revision']}",
                    }
                ]
            },
        }
    }


def render(run: dict[str, Any], lang: str = "en") -> str:
    return json.dumps(document(run, lang), indent=2, ensure_ascii=False) + "\n"
