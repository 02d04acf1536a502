"""The roles honour waivers: site.yml loads them before any role, and every control's task file
is imported under a condition that skips it on a host where a waiver covers it. (The lab proof:
test_lab_changes.py.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from driftvakt.catalog import controls

ROOT = Path(__file__).resolve().parents[2]
# One artefact enforces these together (the whole firewall ruleset), so a waiver for one cannot
# be honoured by skipping tasks: docs/audit.md, "The roles honour the same waivers".
NOT_SKIPPABLE_ALONE = {"firewall_inbound_default_deny", "firewall_approved_paths_only"}


def _tasks(items: list[Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for item in items or []:
        if isinstance(item, dict):
            found.append(item)
            for key in ("block", "rescue", "always"):
                found += _tasks(item.get(key) or [])
    return found


def _conditions(task: dict[str, Any]) -> list[str]:
    when = task.get("when") or []
    return [when] if isinstance(when, str) else list(when)


def test_every_control_is_imported_under_its_waiver_condition() -> None:
    guarded: set[str] = set()
    for path in sorted(ROOT.glob("roles/*/tasks/*.yml")):
        for task in _tasks(yaml.safe_load(path.read_text()) or []):
            target = task.get("ansible.builtin.import_tasks")
            if not isinstance(target, str) or Path(target).stem not in controls():
                continue
            cid = Path(target).stem
            wanted = f"'{cid}' not in driftvakt_waived_controls | default([])"
            assert wanted in _conditions(task), f"{path}: the import of {target} lacks `{wanted}`"
            guarded.add(cid)
    assert set(controls()) - guarded == NOT_SKIPPABLE_ALONE


def _included_controls(role_tasks: Path, file: str) -> set[str]:
    tags: set[str] = set()
    for task in _tasks(yaml.safe_load((role_tasks / file).read_text()) or []):
        tags |= set(task.get("tags") or [])
    return tags & set(controls())


def test_a_platform_include_for_one_control_is_skipped_when_it_is_waived() -> None:
    """E.g. backup's and crypto's windows.yml: one control each, included as a whole."""
    checked = 0
    for path in sorted(ROOT.glob("roles/*/tasks/main.yml")):
        for task in _tasks(yaml.safe_load(path.read_text()) or []):
            include = task.get("ansible.builtin.include_tasks")
            file = include.get("file") if isinstance(include, dict) else include
            if not isinstance(file, str) or "{{" in file:
                continue  # a templated file (the firewall backend): several controls anyway
            only = _included_controls(path.parent, file)
            if len(only) != 1:
                continue  # several controls in one file: per-import conditions inside it
            (cid,) = only
            wanted = f"'{cid}' not in driftvakt_waived_controls | default([])"
            assert wanted in _conditions(task), f"{path}: the include of {file} lacks `{wanted}`"
            checked += 1
    assert checked >= 2


def test_site_loads_waivers_and_gates_changes_before_any_role() -> None:
    (play,) = yaml.safe_load((ROOT / "site.yml").read_text())
    gate, waivers, show = play["pre_tasks"]
    assert gate["driftvakt_change_gate"] and gate["any_errors_fatal"] is True
    assert "path" in waivers["driftvakt_waivers"]
    assert show["ansible.builtin.debug"]["msg"] == "{{ driftvakt_waiver_notes }}"
    assert all(task["tags"] == ["always"] for task in (gate, waivers, show))
    cfg = (ROOT / "ansible.cfg").read_text()
    assert "callbacks_enabled = driftvakt_changes" in cfg
    assert "callback_plugins = plugins/callback" in cfg and "action_plugins = plugins/action" in cfg
