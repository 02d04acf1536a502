"""The roles honour waivers: site.yml loads them before any role, and every task that enforces a
control runs only under the condition that skips it on a host where a waiver covers it. The
walk follows every import and include from each role's tasks/main.yml (task files, the platform
files in tasks/windows/, the guarded change's apply files), carrying the conditions of the
blocks, imports and includes above each task. (The lab proof: test_lab_changes.py.)"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from driftvakt.catalog import controls
from driftvakt.traceability import TASK_NAME

ROOT = Path(__file__).resolve().parents[2]
# One artefact enforces both firewall controls together on Linux (the whole ruleset, and the
# checks that refuse a ruleset cutting the management connection), so a waiver for one cannot
# be honoured by skipping tasks: docs/audit.md, "The roles honour the same waivers". On Windows
# each has its own task file (firewall/tasks/windows/), behind its own waiver condition.
SHARED_ARTEFACT = {
    ("firewall", name): {"firewall_inbound_default_deny", "firewall_approved_paths_only"}
    for name in ("main.yml", "nftables.yml", "firewalld.yml")
}
INCLUDES = ("ansible.builtin.import_tasks", "ansible.builtin.include_tasks")
ROLE_INCLUDES = ("ansible.builtin.include_role", "ansible.builtin.import_role")


def waiver_condition(cid: str) -> str:
    return f"'{cid}' not in driftvakt_waived_controls | default([])"


def _conditions(task: dict[str, Any]) -> list[str]:
    when = task.get("when") or []
    return [when] if isinstance(when, str) else [str(w) for w in when]


def _tags(task: dict[str, Any]) -> set[str]:
    tags = task.get("tags") or []
    return {tags} if isinstance(tags, str) else {str(t) for t in tags}


def enforced_control(task: dict[str, Any], known: set[str]) -> str | None:
    """The control a task enforces: the one it is named for, else the only control it is tagged
    with. A task tagged with several controls serves them all (a snapshot, a directory); a meta
    task (flush_handlers) only runs handlers that guarded tasks notified."""
    if "ansible.builtin.meta" in task:
        return None
    match = TASK_NAME.match(str(task.get("name", "")))
    if match and match.group(1) in known:
        return match.group(1)
    tagged = _tags(task) & known
    return next(iter(tagged)) if len(tagged) == 1 else None


@dataclass
class Walk:
    roles: Path
    known: set[str]
    problems: list[str] = field(default_factory=list)
    reached: set[Path] = field(default_factory=set)

    def role(self, name: str, tasks_file: str = "main.yml") -> None:
        self.file(self.roles / name / "tasks" / tasks_file, name, [], {})

    def file(self, path: Path, role: str, above: list[str], vars_: dict[str, Any]) -> None:
        if not path.is_file():
            self.problems.append(f"{path}: included but missing")
            return
        self.reached.add(path)
        for task in yaml.safe_load(path.read_text()) or []:
            self.task(task, path, role, above, vars_)

    def task(
        self, task: dict[str, Any], path: Path, role: str, above: list[str], vars_: dict[str, Any]
    ) -> None:
        conditions = above + _conditions(task)
        vars_ = {**vars_, **(task.get("vars") or {})}
        cid = enforced_control(task, self.known)
        exempt = SHARED_ARTEFACT.get((role, path.name), set())
        if cid and cid not in exempt and waiver_condition(cid) not in conditions:
            rel = path.relative_to(self.roles.parent)
            self.problems.append(f"{rel}: '{task.get('name')}' lacks `{waiver_condition(cid)}`")
        for key in ("block", "rescue", "always"):
            for child in task.get(key) or []:
                self.task(child, path, role, conditions, vars_)
        for key in INCLUDES:
            if key in task:
                self.include(task[key], path, role, conditions, vars_)
        for key in ROLE_INCLUDES:
            if key in task:
                self.include_role(task[key], role, conditions, vars_)

    def include(
        self, spec: Any, path: Path, role: str, above: list[str], vars_: dict[str, Any]
    ) -> None:
        target = spec.get("file") if isinstance(spec, dict) else spec
        for name in self.resolve(str(target), role):
            # Ansible looks beside the including file first, then in the role's tasks/.
            beside = path.parent / name
            self.file(beside if beside.is_file() else self.tasks(role) / name, role, above, vars_)

    def include_role(
        self, spec: dict[str, Any], caller: str, above: list[str], vars_: dict[str, Any]
    ) -> None:
        self.role(spec["name"], str(spec.get("tasks_from", "main")) + ".yml")
        # The guarded change applies the caller's task file: its tasks run under these conditions.
        apply = vars_.get("guarded_change_apply_tasks")
        if apply:
            self.file(self.tasks(caller) / str(apply), caller, above, vars_)

    def resolve(self, target: str, role: str) -> list[str]:
        """A file name; a templated one only where the role's argument spec lists its values
        (``{{ __firewall_backend }}.yml``: one file per choice of firewall_backend)."""
        if "{{" not in target:
            return [target]
        if "ansible_parent_role_paths" in target:
            return []  # the guarded change's apply file: walked from the caller (include_role)
        specs = yaml.safe_load((self.roles / role / "meta" / "argument_specs.yml").read_text())
        choices = specs["argument_specs"]["main"]["options"][f"{role}_backend"]["choices"]
        assert target == f"{{{{ __{role}_backend }}}}.yml", f"cannot resolve {target}"
        return [f"{choice}.yml" for choice in choices if choice]

    def tasks(self, role: str) -> Path:
        return self.roles / role / "tasks"


def walk(roles: Path, known: set[str]) -> Walk:
    found = Walk(roles, known)
    for role in sorted(p.name for p in roles.iterdir() if (p / "tasks" / "main.yml").is_file()):
        found.role(role)
    return found


def test_every_task_that_enforces_a_control_runs_under_its_waiver_condition() -> None:
    found = walk(ROOT / "roles", set(controls()))
    assert found.problems == []
    every_file = set((ROOT / "roles").glob("*/tasks/**/*.yml"))
    assert every_file - found.reached == set(), "task files the walk never reached"


def test_every_control_is_enforced_somewhere_under_its_condition() -> None:
    """Every control but the firewall pair appears, with its condition, in the walk."""
    guarded: set[str] = set()
    for path in (ROOT / "roles").glob("*/tasks/**/*.yml"):
        text = path.read_text()
        guarded |= {cid for cid in controls() if waiver_condition(cid) in text}
    assert set(controls()) - guarded == set()


def test_the_walk_finds_a_task_that_ignores_waivers(tmp_path: Path) -> None:
    """The check above can fail: a control task imported without its condition, or one that
    hides behind an include of several controls, is reported."""
    tasks = tmp_path / "roles" / "demo" / "tasks"
    (tasks / "windows").mkdir(parents=True)
    (tasks / "main.yml").write_text(
        yaml.safe_dump(
            [
                {"name": "Guarded", "ansible.builtin.import_tasks": "alpha.yml",
                 "when": waiver_condition("alpha")},
                {"name": "Unguarded", "when": ["demo_enabled | bool"],
                 "block": [{"name": "Both", "ansible.builtin.include_tasks": "windows/both.yml"}]},
            ]
        )
    )  # fmt: skip
    (tasks / "alpha.yml").write_text(
        yaml.safe_dump([{"name": "alpha | Do it", "ansible.builtin.debug": {}, "tags": ["alpha"]}])
    )
    (tasks / "windows" / "both.yml").write_text(
        yaml.safe_dump(
            [
                {"name": "Beta step", "ansible.builtin.debug": {}, "tags": ["demo", "beta"]},
                {"name": "gamma | Do it", "ansible.builtin.debug": {}, "tags": ["gamma"]},
                {"name": "Shared", "ansible.builtin.debug": {}, "tags": ["beta", "gamma"]},
            ]
        )
    )
    found = walk(tmp_path / "roles", {"alpha", "beta", "gamma"})
    assert found.problems == [
        f"roles/demo/tasks/windows/both.yml: 'Beta step' lacks `{waiver_condition('beta')}`",
        f"roles/demo/tasks/windows/both.yml: 'gamma | Do it' lacks `{waiver_condition('gamma')}`",
    ]


def test_site_loads_waivers_and_gates_changes_before_any_role() -> None:
    (play,) = yaml.safe_load((ROOT / "site.yml").read_text())
    gate, waivers, inventory, show = play["pre_tasks"]
    assert gate["driftvakt_change_gate"] and gate["any_errors_fatal"] is True
    assert "path" in waivers["driftvakt_waivers"]
    assert "path" in inventory["driftvakt_inventory_check"]  # test_inventory_check.py
    assert show["ansible.builtin.debug"]["msg"] == "{{ driftvakt_waiver_notes }}"
    assert all(task["tags"] == ["always"] for task in (gate, waivers, inventory, show))
    cfg = (ROOT / "ansible.cfg").read_text()
    assert "callbacks_enabled = driftvakt_changes" in cfg
    assert "callback_plugins = plugins/callback" in cfg and "action_plugins = plugins/action" in cfg
