"""Which inventory variables each control's checks read, found in the checks' own code.

A hand-kept list of "control X needs variable Y" would drift from the checks; instead the
installed suites are parsed (never imported, so this costs no pytest): from every check
function (``@pytest.mark.control``, ``@pytest.mark.windows`` for Windows) the calls that pass
``hostvars`` on are followed through the suites' modules, and each read is recorded:
``required(hostvars, "name")`` (``required_vars.py``: the check cannot judge without it) or
``hostvars.get("name")`` / ``hostvars["name"]`` (read, with a default). A read this analysis
cannot follow (a computed name, ``hostvars`` handed to something else) is listed in
``unresolved``; a product test keeps that list empty, so a new read is never missed.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from driftvakt.suites import suites_dir

HOSTVARS = "hostvars"  # the fixture's name, and the parameter name every helper uses for it
REQUIRED = "required"  # required_vars.required(hostvars, name)
REQUIRED_MODULE = "required_vars"
UNSET_MESSAGE = "inventory sets no"  # required()'s message

Function = tuple[str, str]  # (module, function name)


@dataclass(frozen=True)
class Need:
    """What one control's checks on one platform family read from a host's variables."""

    control: str
    family: str  # "linux" or "windows"
    # (variable, given): must be set; given "" always, else when the variable given is set
    required: frozenset[tuple[str, str]]
    read: frozenset[str]  # every variable read, the required ones included


@dataclass
class Needs:
    by_control: dict[tuple[str, str], Need] = field(default_factory=dict)
    unresolved: list[str] = field(default_factory=list)  # "file:line: what"

    @property
    def variables(self) -> frozenset[str]:
        return frozenset(v for need in self.by_control.values() for v in need.read)

    def for_family(self, family: str) -> list[Need]:
        return [n for (_, fam), n in sorted(self.by_control.items()) if fam == family]


@dataclass
class _Reads:
    required: set[tuple[str, str]] = field(default_factory=set)
    read: set[str] = field(default_factory=set)
    # (function, index of the argument that is hostvars, where): helpers it is passed to
    calls: set[tuple[Function, int, str]] = field(default_factory=set)


@cache
def suite_needs() -> Needs:
    """The installed suites' needs (parsed once per process)."""
    return analyse(suites_dir())


def analyse(folder: Path) -> Needs:
    modules = {p.stem: ast.parse(p.read_text("utf-8"), str(p)) for p in folder.glob("*.py")}
    needs = Needs()
    reads: dict[Function, _Reads] = {}
    parameters: dict[Function, list[str]] = {}
    checks: list[tuple[Function, str, str]] = []  # (function, control, family)
    for module, tree in sorted(modules.items()):
        imported = _imports(tree, set(modules))
        local = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef) or (module, node.name) == (
                REQUIRED_MODULE,
                REQUIRED,
            ):
                continue  # required() itself reads the name it is given: its callers are read
            parameters[(module, node.name)] = [a.arg for a in node.args.args]
            reads[(module, node.name)] = _function_reads(
                node, module, local, imported, folder / f"{module}.py", needs.unresolved
            )
            control, windows = _markers(node)
            if control:
                checks.append(((module, node.name), control, "windows" if windows else "linux"))
    for found in reads.values():
        for target, index, where in sorted(found.calls):
            names = parameters.get(target)
            if names is None or index >= len(names) or names[index] != HOSTVARS:
                needs.unresolved.append(
                    f"{where}: hostvars passed to {target[0]}.{target[1]}, whose parameter "
                    f"there is not named {HOSTVARS}"
                )
    for function, control, family in checks:
        required, read = _closure(function, reads)
        key = (control, family)
        old = needs.by_control.get(key)
        if old:
            required |= old.required
            read |= old.read
        needs.by_control[key] = Need(control, family, frozenset(required), frozenset(read))
    return needs


def _imports(tree: ast.Module, suite_modules: set[str]) -> dict[str, Function | str]:
    """Local name -> (module, function) for ``from .m import f``, -> module for ``from . import m``
    (the suites import each other relatively)."""
    names: dict[str, Function | str] = {}
    for node in tree.body:
        if not isinstance(node, ast.ImportFrom) or node.level != 1:
            continue
        for alias in node.names:
            local = alias.asname or alias.name
            if node.module is None and alias.name in suite_modules:
                names[local] = alias.name
            elif node.module in suite_modules:
                names[local] = (node.module, alias.name)
    return names


def _markers(node: ast.FunctionDef) -> tuple[str | None, bool]:
    control, windows = None, False
    for deco in node.decorator_list:
        target = deco.func if isinstance(deco, ast.Call) else deco
        name = target.attr if isinstance(target, ast.Attribute) else ""
        if name == "windows":
            windows = True
        elif name == "control" and isinstance(deco, ast.Call) and deco.args:
            first = deco.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                control = first.value
    return control, windows


def _callee(
    func: ast.expr, module: str, local: set[str], imported: dict[str, Function | str]
) -> Function | None:
    if isinstance(func, ast.Name):
        if func.id in local:
            return (module, func.id)
        found = imported.get(func.id)
        return found if isinstance(found, tuple) else None
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        owner = imported.get(func.value.id)
        return (owner, func.attr) if isinstance(owner, str) else None
    return None


def _literal(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _function_reads(
    function: ast.FunctionDef,
    module: str,
    local: set[str],
    imported: dict[str, Function | str],
    path: Path,
    unresolved: list[str],
) -> _Reads:
    found = _Reads()
    parents = {
        child: parent for parent in ast.walk(function) for child in ast.iter_child_nodes(parent)
    }

    def unknown(node: ast.AST, what: str) -> None:
        unresolved.append(f"{path.name}:{getattr(node, 'lineno', 0)}: {what}")

    for node in ast.walk(function):
        if isinstance(node, ast.Raise) and _unset_lookup(node):
            unknown(node, "raises its own LookupError for an unset variable: use required()")
        if not (
            isinstance(node, ast.Name) and node.id == HOSTVARS and isinstance(node.ctx, ast.Load)
        ):
            continue
        parent = parents.get(node)
        if isinstance(parent, ast.Attribute) and parent.attr == "get":
            call = parents.get(parent)
            name = _literal(call.args[0]) if isinstance(call, ast.Call) and call.args else None
            if name is None:
                unknown(node, "hostvars.get() of a name that is not a literal")
            else:
                found.read.add(name)
        elif isinstance(parent, ast.Subscript) and parent.value is node:
            name = _literal(parent.slice)
            if name is None:
                unknown(node, "hostvars[...] of a name that is not a literal")
            else:
                found.read.add(name)
        elif isinstance(parent, ast.Call) and node in parent.args:
            _passed_on(parent, node, module, local, imported, found, path, unknown)
        else:
            unknown(node, f"hostvars used as {type(parent).__name__}: cannot tell what it reads")
    return found


def _unset_lookup(node: ast.Raise) -> bool:
    """``raise LookupError("the inventory sets no ...")``: a required read the analysis
    would not see (required() is the one place that says it)."""
    texts = [n.value for n in ast.walk(node) if isinstance(n, ast.Constant)]
    return any(isinstance(t, str) and UNSET_MESSAGE in t for t in texts)


def _passed_on(
    call: ast.Call,
    node: ast.Name,
    module: str,
    local: set[str],
    imported: dict[str, Function | str],
    found: _Reads,
    path: Path,
    unknown: Callable[[ast.AST, str], None],
) -> None:
    func = call.func
    simple = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
    if simple == REQUIRED:
        name = _literal(call.args[1]) if len(call.args) > 1 else None
        given = [_literal(k.value) for k in call.keywords if k.arg == "given"] or [""]
        if name is None or given[0] is None or len(call.args) > 2 or call.args[0] is not node:
            unknown(node, "required() of a name that is not a literal")
        else:
            found.required.add((name, given[0]))
            found.read.add(name)
        return
    target = _callee(func, module, local, imported)
    if target is None:
        unknown(node, f"hostvars passed to {ast.unparse(func)}, outside the suites")
    else:
        found.calls.add((target, call.args.index(node), f"{path.name}:{node.lineno}"))


def _closure(
    start: Function, reads: dict[Function, _Reads]
) -> tuple[set[tuple[str, str]], set[str]]:
    required: set[tuple[str, str]] = set()
    read: set[str] = set()
    seen: set[Function] = set()
    todo = [start]
    while todo:
        function = todo.pop()
        if function in seen or function not in reads:
            continue
        seen.add(function)
        found = reads[function]
        required |= found.required
        read |= found.read
        todo += [target for target, _, _ in found.calls]
    return required, read
