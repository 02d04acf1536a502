"""Action: refuse to harden a production host without a change reference and a change record."""

# ruff: noqa: E402 - Ansible's convention: DOCUMENTATION comes before the imports
from __future__ import annotations

DOCUMENTATION = """
module: driftvakt_change_gate
short_description: Stop a hardening run that would change production without a change record
description:
  - Runs on the controller. For a host whose C(driftvakt_environment) is C(production) it fails
    unless a change reference is given (extra var C(change_ref) or environment variable
    C(DRIFTVAKT_CHANGE_REF)) and the driftvakt_changes callback has committed this run's change
    record to the run store. Other hosts only get a warning when the record is missing.
options:
  change_ref:
    description: The change reference (the playbook passes C(change_ref) or the environment's).
    type: str
  environment:
    description: The host's environment (C(driftvakt_environment)).
    type: str
  ref_pattern:
    description: A regular expression a change reference must match in full.
    type: str
    default: "[A-Za-z0-9][A-Za-z0-9._/-]{2,63}"
"""

import os
import re
from pathlib import Path
from typing import Any

from ansible.plugins.action import ActionBase

PRODUCTION = "production"


def record_exists(store: str, change_id: str, callback_error: str = "") -> str:
    """'' if the change record is committed, else why not (one line)."""
    if callback_error:
        return f"no change record: {callback_error}"
    if not change_id or not store:
        return "no change record was begun: enable the driftvakt_changes callback (ansible.cfg)"
    try:  # the store's own functions: the gate knows no table (imported late: a gate on a
        # controller without driftvakt still refuses production, by the message below)
        from driftvakt.store import Store, StoreError
        from driftvakt.store.location import describe, resolve
    except ImportError as exc:
        return f"cannot read the change record: driftvakt is not importable ({exc})"
    location = resolve(store)
    if isinstance(location, Path) and not location.is_file():
        return f"cannot read the change record in {store}: no run store there"
    try:
        with Store(location, create=False) as opened:
            found = opened.has_change(change_id)
    except StoreError as exc:
        return f"cannot read the change record in {describe(location)}: {exc}"
    return "" if found else f"change record {change_id[:8]} is missing from {describe(location)}"


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        args = self._task.args
        ref = str(args.get("change_ref") or os.environ.get("DRIFTVAKT_CHANGE_REF") or "").strip()
        environment = str(args.get("environment") or "")
        pattern = str(args.get("ref_pattern") or r"[A-Za-z0-9][A-Za-z0-9._/-]{2,63}")
        missing = record_exists(
            os.environ.get("DRIFTVAKT_CHANGE_STORE", ""),
            os.environ.get("DRIFTVAKT_CHANGE_ID", ""),
            os.environ.get("DRIFTVAKT_CHANGE_ERROR", ""),
        )
        result.update(changed=False, change_ref=ref, environment=environment)
        if environment != PRODUCTION or self._play_context.check_mode:
            if missing:
                result["warnings"] = [f"this run is not recorded: {missing}"]
            result["msg"] = (
                "check mode: nothing changes, change reference optional"
                if environment == PRODUCTION
                else f"{environment or 'non-production'} host: change reference optional"
            )
            return result
        if not ref:
            result.update(
                failed=True,
                msg="production host: give a change reference: -e change_ref=CHG... "
                "or DRIFTVAKT_CHANGE_REF=CHG...",
            )
        elif not re.fullmatch(pattern, ref):
            result.update(failed=True, msg=f"change reference {ref!r} does not match {pattern}")
        elif missing:
            result.update(failed=True, msg=f"production host: {missing}; nothing was changed")
        else:
            result["msg"] = f"production change {ref} is recorded"
        return result
