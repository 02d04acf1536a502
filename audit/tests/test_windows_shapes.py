"""The lists of the Windows collection in the shapes PowerShell really emits.

PowerShell unrolls what a script block or pipeline emits: assigning it gives ``$null`` for no
item and the bare item for one, and ConvertTo-Json writes those as ``null`` and an object. So
collect.ps1 builds every list with ``@()`` (a list section through ``Add-ListSection``, whose
``@(& $Read)`` collects the items), the judges accept only a JSON list there (``LISTS`` in
tests/windows_facts.py) and report any other shape as an error, and the fixture set has every
list empty, with one item and with many. PowerShell cannot run here: the script is checked
with tree-sitter's PowerShell grammar, the shapes with the judges the audit runs.
"""

from __future__ import annotations

import copy
import importlib
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from windowskit import HOSTVARS, load

from driftvakt.windows import collect_script
from driftvakt_checks import windows_facts
from driftvakt_checks.windows_facts import LISTS, FactsUnavailable

ts = pytest.importorskip("tree_sitter")
grammar = pytest.importorskip("tree_sitter_powershell")

SHAPE_FIXTURES = {
    "lists-empty.json": (0, 0),
    "lists-single.json": (1, 1),
    "lists-many.json": (2, None),
}


def _tree(source: str) -> Any:
    return ts.Parser(ts.Language(grammar.language())).parse(source.encode()).root_node


def _walk(node: Any) -> Iterator[Any]:
    yield node
    for child in node.children:
        yield from _walk(child)


def _text(node: Any) -> str:
    return str(node.text.decode())


def _core(node: Any) -> Any:
    """The expression under PowerShell's chain of one-child precedence nodes."""
    while node.named_child_count == 1 and node.type not in ("array_expression", "variable"):
        node = node.named_children[0]
    return node


def _sections(root: Any) -> dict[str, tuple[str, Any]]:
    """Section name -> (Add-Section or Add-ListSection, its script block)."""
    found = {}
    for node in _walk(root):
        if node.type != "command" or node.child_by_field_name("command_name") is None:
            continue
        verb = _text(node.child_by_field_name("command_name"))
        if verb not in ("Add-Section", "Add-ListSection"):
            continue
        args = [n for n in _walk(node) if n.type in ("string_literal", "script_block")]
        found[_text(args[0]).strip("'")] = (verb, args[1])
    return found


def _is_list(value: Any, scope: Any) -> bool:
    """``value`` is an @() expression, or a variable every assignment in ``scope`` gives one."""
    core = _core(value)
    if core.type == "array_expression":
        return True
    if core.type != "variable":
        return False
    assigned = [
        _core(n.named_children[-1])
        for n in _walk(scope)
        if n.type == "assignment_expression" and _text(_core(n.named_children[0])) == _text(core)
    ]
    return bool(assigned) and all(a.type == "array_expression" for a in assigned)


def shape_problems(source: str) -> list[str]:
    """Where collect.ps1 does not build a list of LISTS as a list, or builds an undeclared one."""
    root = _tree(source)
    sections = _sections(root)
    problems = []
    wrapper = next(
        (
            n
            for n in _walk(root)
            if n.type == "function_statement" and "Add-ListSection" in _text(n)
        ),
        None,
    )
    if wrapper is None or not re.search(r"=\s*@\(\s*&\s*\$Read\s*\)", _text(wrapper)):
        problems.append("Add-ListSection does not collect its items with @(& $Read)")
    declared: dict[str, set[str]] = {}
    for where, (_, inner) in LISTS.items():
        name, _, field = where.partition(".")
        declared.setdefault(name, set()).update(inner)
        if field:
            declared[name].add(field)
        if name not in sections:
            problems.append(f"no section '{name}'")
        elif not field and sections[name][0] != "Add-ListSection":
            problems.append(f"list section '{name}' is not added with Add-ListSection")
    for name, (verb, block) in sections.items():
        if verb == "Add-ListSection" and name not in LISTS:
            problems.append(f"'{name}' is added as a list but LISTS does not declare it")
        entries: dict[str, list[Any]] = {}
        for node in _walk(block):
            if node.type == "hash_entry":
                entries.setdefault(_text(node.named_children[0]), []).append(
                    node.named_children[-1]
                )
        for key, values in entries.items():
            lists = [_is_list(v, block) for v in values]
            if key in declared.get(name, set()) and not all(lists):
                problems.append(f"'{name}': {key} is not built with @()")
            elif key not in declared.get(name, set()) and any(lists):
                problems.append(f"'{name}': {key} is a list LISTS does not declare")
        for key in declared.get(name, set()) - set(entries):
            problems.append(f"'{name}': declared list {key} is not written")
    return problems


def test_collect_ps1_builds_every_list_with_an_array_expression() -> None:
    assert shape_problems(collect_script()) == []


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("Add-ListSection 'updates'", "Add-Section 'updates'", "'updates' is not added with"),
        ("$facts[$Name] = @(& $Read)", "$facts[$Name] = & $Read", "@(& $Read)"),
        ("LocalPort     = @(", "LocalPort     = (", "LocalPort is not built with @()"),
        ("$profiles = @(Get-NetFirewallProfile", "$profiles = (Get-NetFirewallProfile", "Profiles"),
        ("CategoryIDs              = @(", "CategoryIDs              = (", "CategoryIDs"),
        ("Chain              = @(", "Chain              = (", "'certificates': Chain"),
        ("$managers = @()", "$managers = $null", "SubscriptionManagers is not built"),
        ("Installed    = $installed", "Installed    = $installed; Extra = @(1)", "Extra is a list"),
    ],
)
def test_an_unwrapped_list_is_found(old: str, new: str, problem: str) -> None:
    """The check above can fail: each edit puts back a shape PowerShell would unroll."""
    script = collect_script()
    assert old in script
    assert any(problem in p for p in shape_problems(script.replace(old, new, 1)))


def _at(facts: dict[str, Any], where: str) -> Any:
    name, _, field = where.partition(".")
    return facts[name][field] if field else facts[name]


def _put(facts: dict[str, Any], where: str, value: Any) -> None:
    name, _, field = where.partition(".")
    if field:
        facts[name][field] = value
    else:
        facts[name] = value


@pytest.mark.parametrize("fixture", sorted(SHAPE_FIXTURES))
def test_the_fixture_set_has_every_list_empty_single_and_many(fixture: str) -> None:
    low, high = SHAPE_FIXTURES[fixture]
    facts = load(fixture)
    for where, (_, inner) in LISTS.items():
        items = _at(facts, where)
        assert isinstance(items, list), (fixture, where)
        assert low <= len(items) and (high is None or len(items) <= high), (fixture, where)
        if fixture == "lists-single.json":
            for field in inner:  # one item, and one item in each of its lists
                assert len(items[0][field]) == 1, (where, field)


JUDGES: dict[str, Callable[..., list[str]]] = {
    name.removeprefix("judge_"): judge
    for module in (
        "accounts",
        "antivirus",
        "backup",
        "crypto",
        "firewall",
        "logging",
        "patching",
        "platform",
        "remote_access",
        "remote_software",
        "services",
        "session_lock",
        "timesync",
    )
    for name, judge in vars(importlib.import_module(f"driftvakt_checks.windows_{module}")).items()
    if name.startswith("judge_")
}


@pytest.mark.parametrize("fixture", sorted(SHAPE_FIXTURES))
@pytest.mark.parametrize("cid", sorted(JUDGES))
def test_every_judge_gives_a_verdict_on_none_one_and_many(cid: str, fixture: str) -> None:
    """A list's size is never an error: every judge returns its problems (a verdict)."""
    problems = JUDGES[cid](load(fixture), HOSTVARS)
    assert isinstance(problems, list)
    assert all(isinstance(p, str) for p in problems)


class Reads(dict[str, Any]):
    """A collection that records which sections a judge reads."""

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__(data)
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> Any:
        self.read.add(key)
        return super().__getitem__(key)


def _readers(where: str) -> list[str]:
    name = where.partition(".")[0]
    found = []
    for cid, judge in JUDGES.items():
        facts = Reads(load("lists-many.json"))
        judge(facts, HOSTVARS)
        if name in facts.read:
            found.append(cid)
    return found


def _unrolled(where: str, size: int) -> Iterator[tuple[str, dict[str, Any]]]:
    """The collection as PowerShell writes a list of ``size`` items assigned without @():
    null for none, the bare item for one; for an item's inner list, in the first item."""
    facts = load("lists-many.json")
    items = _at(facts, where)
    if size == 0:
        _put(facts, where, None)
    else:
        _put(facts, where, copy.deepcopy(items[0]))
    yield where, facts
    for field in LISTS[where][1]:
        inner = load("lists-many.json")
        entry = _at(inner, where)[0]
        entry[field] = None if size == 0 or not entry[field] else entry[field][0]
        yield f"{where}.{field}", inner


@pytest.mark.fault(
    "host",
    "a Windows collection whose list holds PowerShell's unrolled shape: null for no item, the "
    "bare object for one (a collect.ps1 without @())",
    "every Windows check that reads it `error`, naming the list (was: a pass on a fully patched "
    "host without 'updates', a crash ''str' object has no attribute 'get'' on one certificate)",
)
@pytest.mark.parametrize("size", [0, 1])
@pytest.mark.parametrize("where", sorted(LISTS))
def test_an_unrolled_list_is_an_error_for_every_judge_that_reads_it(where: str, size: int) -> None:
    readers = _readers(where)
    assert readers, f"no judge reads {where}"
    for label, facts in _unrolled(where, size):
        for cid in readers:
            with pytest.raises(FactsUnavailable, match=r"collection"):
                JUDGES[cid](facts, HOSTVARS)
        assert label


OBJECT_SECTIONS = sorted(
    k
    for k in load("lists-many.json")
    if not k.startswith("_") and k not in LISTS and k not in ("schema", "collected", "errors")
)


@pytest.mark.parametrize("name", OBJECT_SECTIONS)
def test_a_section_that_is_not_one_object_is_an_error(name: str) -> None:
    """A section's script block that emitted two objects gives a list where the judges read an
    object: an error for every judge that reads it, never an AttributeError."""
    readers = _readers(name)
    assert readers, f"no judge reads {name}"
    facts = load("lists-many.json")
    facts[name] = [facts[name], facts[name]]
    for cid in readers:
        with pytest.raises(FactsUnavailable, match=rf"'{name}' is a list, not an object"):
            JUDGES[cid](facts, HOSTVARS)


def test_the_error_names_the_list_and_what_to_do() -> None:
    facts = load("lists-many.json")
    facts["certificates"] = facts["certificates"][0]
    with pytest.raises(FactsUnavailable) as error:
        windows_facts.section(facts, "certificates")
    message = str(error.value)
    assert "'certificates' is an object, not a list" in message
    assert "@()" in message and "\n" not in message


def test_the_fixtures_are_json_lists_as_powershell_writes_them() -> None:
    """ConvertTo-Json of a one-item @() inside an ordered dictionary is a one-item JSON array:
    the single fixture holds exactly that text shape."""
    text = json.dumps(load("lists-single.json")["updates"])
    assert text.startswith("[{") and text.endswith("}]")
