"""Windows checks read one JSON collection per host; this module reads and parses it.

``windows_facts(host)`` runs the collection (``driftvakt.windows.collect_command()``, which the
audit's WinRM transport expands to ``collect.ps1``) and parses it once per distinct answer. The
judges of each concern (``windows_<concern>.py``) return the problems found (empty: compliant),
each one a line of evidence; the checks beside the Linux ones in ``test_<concern>.py`` assert
there are none. A section the host could not read raises ``FactsUnavailable``: the check then
reports an error, never a pass or a fail. Unit-tested on documented-shape fixtures in
audit/tests/test_windows_eval.py.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from driftvakt.windows import collect_command

Facts = dict[str, Any]
HostVars = dict[str, Any]


class FactsUnavailable(RuntimeError):
    """The collection could not read what this check needs: an error, never a verdict."""


@lru_cache(maxsize=64)
def parse_collection(stdout: str) -> Facts:
    try:
        data = json.loads(stdout)
    except ValueError as exc:
        raise FactsUnavailable(f"the Windows collection is not JSON: {exc}") from exc
    if not isinstance(data, dict) or data.get("schema") != 1:
        raise FactsUnavailable("the Windows collection has an unknown schema")
    return data


def windows_facts(host: Any) -> Facts:
    """The host's collection; one remote run per audit (the replay backend answers again)."""
    result = host.run(collect_command())
    if result.rc != 0:
        raise FactsUnavailable(
            f"the Windows collection failed (rc {result.rc}): {str(result.stderr).strip()[:200]}"
        )
    return parse_collection(str(result.stdout))


# Every list collect.ps1 writes, by where it is ("section" or "section.Field"), with the type of
# its items and the lists inside each item (field -> item type). PowerShell unrolls a pipeline's
# output (no item: $null, one item: the bare item), so collect.ps1 builds each of these with @()
# and ConvertTo-Json writes a JSON array even for none or one; test_windows_shapes.py checks the
# script against this table, and section() refuses any other shape as an error.
LISTS: dict[str, tuple[type, dict[str, type]]] = {
    "services": (dict, {}),
    "updates": (dict, {"KBArticleIDs": str, "Categories": str, "CategoryIDs": str}),
    "processes": (dict, {}),
    "certificates": (dict, {"Chain": dict, "ChainStatus": str}),
    "firewall.Profiles": (dict, {}),
    "firewall.InboundAllowRules": (dict, {"LocalPort": str, "RemoteAddress": str}),
    "accounts.Administrators": (dict, {}),
    "accounts.Users": (dict, {}),
    "winrm.Listeners": (dict, {}),
    "schannel.CipherSuites": (str, {}),
    "audit.Subcategories": (dict, {}),
    "eventlog.SubscriptionManagers": (str, {}),
    "eventlog.EventLogReaders": (str, {}),
    "software.Installed": (dict, {}),
    "software.PluginPaths": (str, {}),
}

JSON_TYPE = {dict: "an object", list: "a list", str: "a string", type(None): "null"}


def _kind(value: Any) -> str:
    return JSON_TYPE.get(type(value), type(value).__name__)


def _check_list(where: str, value: Any, item: type, inner: dict[str, type]) -> None:
    """``value`` is a list of ``item``s whose inner lists are lists too, or FactsUnavailable."""
    if not isinstance(value, list):
        raise FactsUnavailable(
            f"the collection's {where} is {_kind(value)}, not a list: PowerShell unrolled it "
            "(a collect.ps1 list not built with @()); re-run with this version's collect.ps1"
        )
    for index, entry in enumerate(value):
        if not isinstance(entry, item):
            raise FactsUnavailable(
                f"the collection's {where}[{index}] is {_kind(entry)}, expected {JSON_TYPE[item]}"
            )
        fields: dict[str, Any] = entry if isinstance(entry, dict) else {}
        for field, field_item in inner.items():
            _check_list(f"{where}[{index}].{field}", fields.get(field), field_item, {})


def _check_shape(name: str, value: Any) -> None:
    if name in LISTS:
        _check_list(f"'{name}'", value, *LISTS[name])
        return
    # Every other section is one object: a script block that emitted two objects would be a list.
    if not isinstance(value, dict):
        raise FactsUnavailable(f"the collection's '{name}' is {_kind(value)}, not an object")
    fields = {k.split(".", 1)[1]: v for k, v in LISTS.items() if k.split(".", 1)[0] == name}
    for field, (item, inner) in fields.items():
        _check_list(f"'{name}.{field}'", value.get(field), item, inner)


def section(facts: Facts, name: str) -> Any:
    """One section of the collection; FactsUnavailable if the host could not read it or it is
    not in the shape collect.ps1 writes (LISTS)."""
    error = (facts.get("errors") or {}).get(name)
    if error:
        raise FactsUnavailable(f"the host could not read '{name}': {error}")
    if name not in facts or facts[name] is None:
        raise FactsUnavailable(f"the collection has no '{name}' section")
    _check_shape(name, facts[name])
    return facts[name]


def when(text: str) -> datetime:
    """An ISO 8601 time as PowerShell's ToString('o') writes it (7 fraction digits, Z)."""
    cleaned = re.sub(r"(\.\d{6})\d+", r"\1", text.strip()).replace("Z", "+00:00")
    value = datetime.fromisoformat(cleaned)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def services_by_name(facts: Facts) -> dict[str, dict[str, Any]]:
    """The host's services by lower-case name."""
    return {str(s["Name"]).lower(): s for s in section(facts, "services")}
