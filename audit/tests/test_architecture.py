"""docs/architecture.md kept true: every module of the package sits in a layer of its table of
layers, and no module imports a layer above its own (lazy imports inside functions included)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import driftvakt

PACKAGE = Path(driftvakt.__file__).resolve().parent
DOC = PACKAGE.parents[1] / "docs" / "architecture.md"
_ROW = re.compile(r"^\|\s*(\d+)\s[^|]*\|(.*)\|\s*$")
_NAME = re.compile(r"`([^`]+)`")


def layers(doc: str) -> dict[str, int]:
    """The table under "Rules of direction": each top-level module or folder of the package
    (``audit.py`` -> ``audit``, ``store/`` -> ``store``, ``__init__.py`` -> ``driftvakt``) and
    its layer."""
    section = doc.split("## Rules of direction", 1)[1].split("\n## ", 1)[0]
    found: dict[str, int] = {}
    for line in section.splitlines():
        if row := _ROW.match(line):
            for name in _NAME.findall(row.group(2)):
                unit = name.removesuffix("/").removesuffix(".py")
                found["driftvakt" if unit == "__init__" else unit] = int(row.group(1))
    return found


def unit_of(module: str) -> str:
    """``driftvakt.store.chain`` -> ``store``; ``driftvakt`` -> ``driftvakt``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def imported(source: str, module: str, is_package: bool = False) -> set[str]:
    """The driftvakt modules ``source`` (the text of ``module``; ``is_package``: its
    ``__init__.py``) imports, wherever it does."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolved against the importing module's package
                anchor = package[: len(package) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from driftvakt import lab` imports the module driftvakt.lab
            found.update(
                f"{base}.{alias.name}" if base == "driftvakt" else base for alias in node.names
            )
    return {name for name in found if name == "driftvakt" or name.startswith("driftvakt.")}


def against_the_flow(
    module: str, source: str, ranks: dict[str, int], is_package: bool = False
) -> list[str]:
    """One line per import in ``source`` (the text of ``module``) that reaches a layer above."""
    own = ranks[unit_of(module)]
    return [
        f"{module} (layer {own}) imports {name} (layer {ranks[unit_of(name)]})"
        for name in sorted(imported(source, module, is_package))
        if unit_of(name) in ranks and ranks[unit_of(name)] > own
    ]


def package_modules() -> dict[str, Path]:
    """Every module of the package by its dotted name (a package by its ``__init__.py``)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = ["driftvakt", *path.relative_to(PACKAGE).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


RANKS = layers(DOC.read_text("utf-8"))


def test_every_module_has_a_layer_in_the_doc() -> None:
    missing = sorted({unit_of(m) for m in package_modules()} - set(RANKS))
    assert missing == [], f"add these to the table of layers in {DOC.name}: {missing}"
    stale = sorted(set(RANKS) - {unit_of(m) for m in package_modules()})
    assert stale == [], f"{DOC.name} names modules that do not exist: {stale}"


def test_no_module_imports_against_the_flow() -> None:
    problems = [
        line
        for module, path in package_modules().items()
        for line in against_the_flow(
            module, path.read_text("utf-8"), RANKS, path.name == "__init__.py"
        )
    ]
    assert problems == []


PLUGINS = PACKAGE.parents[1] / "plugins"
PLUGIN_LAYER = 7  # docs/architecture.md: plugins may use layers up to report / export
# ... except the audit action, which drives the audit as the command does (never the command)
DRIVING_PLUGINS = {"driftvakt_audit.py": 8}


def test_the_ansible_plugins_import_nothing_that_drives_or_commands() -> None:
    plugins = sorted(PLUGINS.rglob("*.py"))
    assert plugins, f"no plugins found under {PLUGINS}"
    reached = {
        f"{path.name} imports {name}"
        for path in plugins
        for name in imported(path.read_text("utf-8"), "plugins.x")
        if RANKS[unit_of(name)] > DRIVING_PLUGINS.get(path.name, PLUGIN_LAYER)
    }
    assert reached == set()
    assert max(DRIVING_PLUGINS.values()) < RANKS["cli"]


def test_the_doc_puts_the_command_on_top_and_the_store_below_drift() -> None:
    assert RANKS["cli"] == max(RANKS.values())
    assert RANKS["transport"] < RANKS["store"] < RANKS["drift"] < RANKS["report"]


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("driftvakt.store.queries", "from driftvakt.report import write\n"),
        ("driftvakt.store", "from driftvakt import drift\n"),
        ("driftvakt.transport.ssh", "import driftvakt.cli\n"),
        ("driftvakt.report", "def f():\n    from driftvakt.cli.parser import build_parser\n"),
        ("driftvakt.drift", "from .audit import run_audit\n"),
        ("driftvakt.store.writing", "from ..comparison import stored_drift\n"),
        ("driftvakt.store.writing", "from .. import report\n"),
    ],
)
def test_an_import_against_the_flow_is_caught(module: str, source: str) -> None:
    assert against_the_flow(module, source, RANKS) != []


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("driftvakt.store.queries", "from driftvakt.store.chain import GENESIS_HASH\n"),
        ("driftvakt.report", "from driftvakt.drift import compare\nimport json\n"),
        ("driftvakt.cli.reports", "def f():\n    from driftvakt import report\n"),
        ("driftvakt.store.writing", "from . import queries\n"),
    ],
)
def test_an_import_with_the_flow_passes(module: str, source: str) -> None:
    assert against_the_flow(module, source, RANKS) == []


def test_a_package_s_relative_imports_start_in_the_package() -> None:
    # in store/__init__.py, ".runstore" is driftvakt.store.runstore, not driftvakt.runstore
    assert imported("from .runstore import Store\n", "driftvakt.store", is_package=True) == {
        "driftvakt.store.runstore"
    }
    assert imported("from .drift import compare\n", "driftvakt.comparison") == {"driftvakt.drift"}
