"""Where each control ID appears: role tasks (name + tag) and checks (pytest marker).

Used by the catalog test and by ``driftvakt controls --trace`` so that a missing task, check or
an ID the catalog does not know is found before a user finds it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

TASK_NAME = re.compile(r"^([a-z][a-z0-9_]+) \| ")


@dataclass
class Trace:
    task_names: dict[str, list[str]] = field(default_factory=dict)  # id -> files
    task_tags: dict[str, list[str]] = field(default_factory=dict)
    untagged: list[str] = field(default_factory=list)  # "file: task name" lacking its id tag
    checks: dict[str, list[str]] = field(default_factory=dict)  # id -> check files
    windows_checks: dict[str, list[str]] = field(default_factory=dict)  # those marked windows


def _tasks(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, list):
        for item in node:
            yield from _tasks(item)
    elif isinstance(node, dict):
        if "name" in node:
            yield node
        for key in ("block", "rescue", "always"):
            if key in node:
                yield from _tasks(node[key])


def _tags(task: dict[str, Any]) -> set[str]:
    tags = task.get("tags") or []
    return {tags} if isinstance(tags, str) else {str(t) for t in tags}


def scan_roles(roles: Path, trace: Trace) -> None:
    # Nested too: a role's Windows tasks live in tasks/windows/.
    for path in sorted([*roles.glob("*/tasks/**/*.yml"), *roles.glob("*/handlers/**/*.yml")]):
        data = yaml.safe_load(path.read_text("utf-8")) or []
        rel = str(path.relative_to(roles.parent))
        for task in _tasks(data):
            match = TASK_NAME.match(str(task["name"]))
            if not match:
                continue
            cid = match.group(1)
            trace.task_names.setdefault(cid, []).append(rel)
            if cid in _tags(task):
                trace.task_tags.setdefault(cid, []).append(rel)
            else:
                trace.untagged.append(f"{rel}: {task['name']}")


def _control_id(node: ast.AST) -> str | None:
    """The ID in a ``….control("<id>")`` call, else None."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "control"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    ):
        return str(node.args[0].value)
    return None


def _marks_windows(node: ast.AST) -> bool:
    """A ``….windows`` mark (decorator or module ``pytestmark``) somewhere in ``node``."""
    return any(isinstance(n, ast.Attribute) and n.attr == "windows" for n in ast.walk(node))


def scan_checks(tests: Path, trace: Trace) -> None:
    for path in sorted(tests.glob("test_*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        module_windows = any(
            isinstance(n, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in n.targets)
            and _marks_windows(n.value)
            for n in tree.body
        )
        for node in ast.walk(tree):
            if cid := _control_id(node):
                trace.checks.setdefault(cid, []).append(path.name)
        for func in tree.body:
            if not isinstance(func, ast.FunctionDef):
                continue
            windows = module_windows or any(_marks_windows(d) for d in func.decorator_list)
            for decorator in func.decorator_list:
                if windows and (cid := _control_id(decorator)):
                    trace.windows_checks.setdefault(cid, []).append(path.name)


def trace(project: Path) -> Trace:
    result = Trace()
    scan_roles(project / "roles", result)
    scan_checks(project / "tests", result)
    return result
