"""Action: fail a host whose inventory lacks a setting the baseline needs, before any role."""

# ruff: noqa: E402 - Ansible's convention: DOCUMENTATION comes before the imports
from __future__ import annotations

DOCUMENTATION = """
module: driftvakt_inventory_check
short_description: Check this host's inventory variables as C(driftvakt inventory check) does
description:
  - Runs on the controller and never contacts the host. Applies driftvakt's inventory check
    (driftvakt's inventory_check module) to this host's variables - a variable a check needs
    and the inventory does not set, a value of the wrong type or not one of a role's
    C(choices) - and fails the host with one line per variable, as C(driftvakt inventory
    check) prints them. Controls waived for the host, and concerns switched off
    (C(<concern>_enabled) false), need nothing.
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
            from driftvakt.inventory_check import variable_problems, wanted_by_check
            from driftvakt.waivers import default_path, load
        except ImportError as exc:
            return {**result, "failed": True, "msg": f"cannot import driftvakt: {exc}"}
        sources = [str(s) for s in task_vars.get("ansible_inventory_sources") or []]
        if not sources:
            return {**result, "changed": False, "msg": "no inventory source: nothing to check"}
        host = str(task_vars.get("inventory_hostname"))
        given = self._task.args.get("path")
        path = Path(given) if given else default_path(sources[0])
        try:
            waivers = load(path, set(controls())) if given or path.exists() else []
            roles = Path(str(task_vars.get("playbook_dir") or ".")) / "roles"
            # templated as the audit reads them; the roles' defaults, where the play adds
            # them, are empty or valid, so they hide nothing
            wanted = wanted_by_check(roles) | {"ansible_connection", "ansible_os_family"}
            variables = {k: self._templated(v) for k, v in task_vars.items() if k in wanted}
            found = variable_problems(
                host,
                variables,
                [str(g) for g in task_vars.get("group_names") or []],
                roles,
                waivers,
                dt.date.today(),
                sources[0],
            )
        except DriftvaktError as exc:
            return {**result, "failed": True, "msg": str(exc)}
        if found:
            return {**result, "changed": False, "failed": True, "msg": found}
        return {**result, "changed": False, "msg": "the inventory sets what the baseline needs"}

    def _templated(self, value: Any) -> Any:
        try:
            return self._templar.template(value)
        except Exception:  # as the audit: a value that cannot be templated here stays raw
            return value
