"""Action: the controls a valid waiver exempts on this host, as facts the roles consult."""

# ruff: noqa: E402 - Ansible's convention: DOCUMENTATION comes before the imports
from __future__ import annotations

DOCUMENTATION = """
module: driftvakt_waivers
short_description: Load driftvakt's waivers and set the controls not to enforce on this host
description:
  - Runs on the controller and reads the same waiver file as C(driftvakt audit) (driftvakt's
    waivers module). Sets the facts C(driftvakt_waived_controls) (control IDs) and
    C(driftvakt_waivers_applied) (control, waiver file:line, risk analysis, expiry) for this
    host. An expired waiver does not count; a malformed file fails the task naming file:line.
options:
  path:
    description: The waiver file; default beside the first inventory source (as the audit).
    type: str
requirements:
  - the driftvakt Python package importable by ansible-playbook's Python
"""

import datetime as dt
from pathlib import Path
from typing import Any

from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        try:
            from driftvakt.catalog import controls
            from driftvakt.errors import DriftvaktError
            from driftvakt.waivers import default_path, find, load
        except ImportError as exc:
            return {**result, "failed": True, "msg": f"cannot import driftvakt: {exc}"}
        sources = [str(s) for s in task_vars.get("ansible_inventory_sources") or []]
        given = self._task.args.get("path")
        path = Path(given) if given else (default_path(sources[0]) if sources else None)
        host = str(task_vars.get("inventory_hostname"))
        groups = {str(g) for g in task_vars.get("group_names") or []}
        facts: dict[str, Any] = {
            "driftvakt_waived_controls": [],
            "driftvakt_waivers_applied": [],
            "driftvakt_waiver_notes": [],
        }
        result.update(changed=False, ansible_facts=facts, waivers_file=str(path or ""))
        if path is None or (not given and not path.exists()):
            result["msg"] = "no waiver file: every control is enforced"
            return result
        try:
            waivers = load(path, set(controls()))
        except DriftvaktError as exc:
            return {**result, "failed": True, "msg": str(exc)}
        today = dt.date.today()
        notes: list[str] = []
        for control in controls():
            waiver = find(waivers, control, host, groups)
            if waiver is None:
                continue
            if waiver.expired(today):
                notes.append(f"ENFORCED {control}: waiver {waiver.source} expired {waiver.expires}")
                continue
            facts["driftvakt_waived_controls"].append(control)
            facts["driftvakt_waivers_applied"].append(
                {
                    "control": control,
                    "source": waiver.source,
                    "risk_analysis": waiver.risk_analysis,
                    "approver": waiver.approver,
                    "expires": waiver.expires.isoformat(),
                }
            )
            notes.append(
                f"NOT ENFORCED {control}: waiver {waiver.source} ({waiver.risk_analysis}, "
                f"approved by {waiver.approver}, expires {waiver.expires})"
            )
        facts["driftvakt_waiver_notes"] = notes
        result["msg"] = notes or [f"no waiver in {path} covers this host"]
        return result
