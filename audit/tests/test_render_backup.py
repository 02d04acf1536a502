"""The backup role's agent table against the check's, and its interface (no host)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from driftvakt.rendering import FAMILY_FACTS, family_vars, role_vars
from driftvakt_checks import test_backup as CHECK
from driftvakt_checks import windows_backup as WINDOWS_CHECK

PROJECT = Path(__file__).resolve().parents[2]
ROLE = PROJECT / "roles" / "backup"


def _vars(family: str, **extra: Any) -> dict[str, Any]:
    return family_vars(ROLE, family, **extra)


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
    windows_only = [a for a in WINDOWS_CHECK.BACKUP_AGENT_SERVICES if a not in CHECK.AGENTS]
    assert options["backup_agent"]["choices"] == ["", *CHECK.AGENTS, *windows_only]


# --- Windows: tasks/windows/backup_agent_running.yml with vars/Windows.yml (the table itself is
# compared with the check's in test_windows_judges.py); the services win_service_info would
# report, per its docs.
WINDOWS_FACTS = {
    "ansible_os_family": "Windows",
    "ansible_distribution": "Microsoft Windows Server 2022 Standard",
    "ansible_distribution_major_version": "10",
}


def _service(name: str, display: str, start_mode: str = "auto") -> dict[str, str]:
    state = "stopped" if start_mode in ("manual", "disabled") else "started"
    return {"name": name, "display_name": display, "start_mode": start_mode, "state": state}


def _windows_found(agent: str, services: list[dict[str, str]], **extra: Any) -> list[str]:
    tasks = yaml.safe_load((ROLE / "tasks" / "windows" / "backup_agent_running.yml").read_text())
    block_vars = next(t for t in tasks if "block" in t)["vars"]
    variables = role_vars(
        ROLE,
        WINDOWS_FACTS,
        {
            "backup_agent": agent,
            "__backup_windows_service_info": {"services": services},
            **block_vars,
            **extra,
        },
    )
    return [s["name"] for s in variables["__backup_windows_found"]]


HOST_SERVICES = [
    _service("W32Time", "Windows Time"),
    _service(
        "GxCVD(Instance001)", "Commvault Communications Service (CVD) (Instance001)", "delayed"
    ),
    _service("GxClMgrS(Instance001)", "Commvault Client Manager Service (Instance001)", "manual"),
    _service("RBS", "Rubrik Backup Service"),
    _service("IBM SP Scheduler (db01)", "IBM SP Scheduler (db01)"),
]


@pytest.mark.parametrize(
    ("agent", "extra", "found"),
    [
        ("commvault", {}, ["GxCVD(Instance001)", "GxClMgrS(Instance001)"]),
        ("rubrik", {}, ["RBS"]),  # by its display name
        ("veeam", {}, []),
        ("spectrum_protect", {}, []),
        (
            "spectrum_protect",
            {"backup_windows_services": ["IBM SP Scheduler (db01)"]},
            ["IBM SP Scheduler (db01)"],
        ),
    ],
)
def test_windows_role_finds_the_services_the_check_judges(
    agent: str, extra: dict[str, Any], found: list[str]
) -> None:
    assert _windows_found(agent, HOST_SERVICES, **extra) == found
    facts = {
        "errors": {},
        "services": [
            {
                "Name": s["name"],
                "DisplayName": s["display_name"],
                "State": "Running",
                "StartMode": "Auto",
            }
            for s in HOST_SERVICES
        ],
    }
    judged = WINDOWS_CHECK.judge_backup_agent_running(facts, {"backup_agent": agent, **extra})
    assert judged == [] if found else "not installed" in judged[0]


def test_windows_role_keeps_a_delayed_start() -> None:
    tasks = yaml.safe_load((ROLE / "tasks" / "windows" / "backup_agent_running.yml").read_text())
    keep = next(t for t in tasks if "block" in t)["block"][1]["ansible.windows.win_service"]
    assert keep["start_mode"] == "{{ 'delayed' if item.start_mode == 'delayed' else 'auto' }}"
    assert keep["state"] == "started"
