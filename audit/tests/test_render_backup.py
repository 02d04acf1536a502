"""The backup role's agent table against the check's, and its interface (no host)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from test_parse_backup import CHECK

from driftvakt.rendering import FAMILY_FACTS, role_vars

PROJECT = Path(__file__).resolve().parents[2]
ROLE = PROJECT / "roles" / "backup"


def _vars(family: str, **extra: Any) -> dict[str, Any]:
    facts = FAMILY_FACTS[family]
    ansible_facts = {k.removeprefix("ansible_"): v for k, v in facts.items()}
    variables: dict[str, Any] = role_vars(ROLE, facts, {"ansible_facts": ansible_facts, **extra})
    return variables


@pytest.mark.parametrize("family", sorted(FAMILY_FACTS))
def test_agent_table_matches_the_check(family: str) -> None:
    table = _vars(family)["__backup_agents"]
    assert set(table) == set(CHECK.AGENTS)
    for agent, entry in table.items():
        assert tuple(entry["services"]) == CHECK.AGENTS[agent], agent
        assert entry["name"]


def test_not_required_by_default() -> None:
    variables = _vars("debian12")
    assert variables["backup_required"] is False
    assert CHECK.applies(variables) is False
    assert CHECK.applies(_vars("rhel9", backup_required=True)) is True


def test_agent_choices_are_the_agents_the_check_knows() -> None:
    specs = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())
    options = specs["argument_specs"]["main"]["options"]
    assert options["backup_agent"]["choices"] == ["", *CHECK.AGENTS]
