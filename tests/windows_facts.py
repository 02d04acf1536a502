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


def section(facts: Facts, name: str) -> Any:
    """One section of the collection; FactsUnavailable if the host could not read it."""
    error = (facts.get("errors") or {}).get(name)
    if error:
        raise FactsUnavailable(f"the host could not read '{name}': {error}")
    if name not in facts or facts[name] is None:
        raise FactsUnavailable(f"the collection has no '{name}' section")
    return facts[name]


def when(text: str) -> datetime:
    """An ISO 8601 time as PowerShell's ToString('o') writes it (7 fraction digits, Z)."""
    cleaned = re.sub(r"(\.\d{6})\d+", r"\1", text.strip()).replace("Z", "+00:00")
    value = datetime.fromisoformat(cleaned)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def services_by_name(facts: Facts) -> dict[str, dict[str, Any]]:
    """The host's services by lower-case name."""
    return {str(s["Name"]).lower(): s for s in section(facts, "services")}
