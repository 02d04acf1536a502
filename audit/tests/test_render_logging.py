"""The logging role's platform paths and rendered configuration, for every family (no host)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from driftvakt.rendering import FAMILY_FACTS, render_template, role_vars
from driftvakt_checks import logging_auditd as AUDITD
from driftvakt_checks import logging_rsyslog as RSYSLOG

PROJECT = Path(__file__).resolve().parents[2]
ROLE = PROJECT / "roles" / "logging"
CENTRAL = "loghost.region.example"

EXPECTED = {
    "debian12": (["auditd"], "/var/spool/rsyslog"),
    "rhel8": (["audit"], "/var/lib/rsyslog"),
    "rhel9": (["audit"], "/var/lib/rsyslog"),
    "rhel10": (["audit"], "/var/lib/rsyslog"),
    "sles15": (["audit"], "/var/spool/rsyslog"),
}


def _vars(family: str, **extra: Any) -> dict[str, Any]:
    facts = FAMILY_FACTS[family]
    ansible_facts = {k.removeprefix("ansible_"): v for k, v in facts.items()}
    ansible_facts["architecture"] = extra.pop("architecture", "x86_64")
    variables: dict[str, Any] = role_vars(
        ROLE, facts, {"ansible_facts": ansible_facts, "logging_central_host": CENTRAL, **extra}
    )
    return variables


@pytest.mark.parametrize("family", sorted(FAMILY_FACTS))
def test_platform_packages_services_and_spool(family: str) -> None:
    variables = _vars(family)
    packages, spool = EXPECTED[family]
    assert variables["__logging_auditd_packages"] == packages
    assert variables["__logging_rsyslog_packages"] == ["rsyslog"]
    assert variables["__logging_rsyslog_service"] == "rsyslog"
    assert variables["__logging_auditd_service"] == "auditd"
    assert variables["__logging_rsyslog_spool_dir"] == spool


@pytest.mark.parametrize("family", sorted(FAMILY_FACTS))
def test_rendered_forwarding_passes_the_check(family: str) -> None:
    variables = _vars(family)
    text = render_template(ROLE, "etc/rsyslog.d/60-driftvakt-central.conf.j2", variables)
    assert text.startswith("#")  # ansible_managed comes first
    forwards = RSYSLOG.parse_forwards(text)
    assert {f.target for f in forwards} == {CENTRAL}
    assert all(f.protocol == "tcp" and f.disk_queue and f.port == "514" for f in forwards)
    assert any(RSYSLOG.selector_covers(f.selector, "auth") for f in forwards)
    assert any(RSYSLOG.selector_covers(f.selector, "authpriv") for f in forwards)
    assert f'queue.spoolDirectory="{EXPECTED[family][1]}"' in text
    if family.startswith("rhel"):
        # SELinux denies rsyslogd reading audit.log: auditd's syslog plugin hands records over
        assert "imfile" not in text
        assert 'if $programname == "audisp-syslog" then call driftvakt_audit' in text
        assert text.index('ruleset(name="driftvakt_audit")') < text.index("call driftvakt_audit")
    else:
        assert 'file="/var/log/audit/audit.log"' in text


def test_forwarding_without_the_audit_log() -> None:
    variables = _vars("rhel9", logging_forward_audit_log=False, logging_central_port=6514)
    text = render_template(ROLE, "etc/rsyslog.d/60-driftvakt-central.conf.j2", variables)
    assert "imfile" not in text
    assert [f.port for f in RSYSLOG.parse_forwards(text)] == ["6514"]


@pytest.mark.parametrize("family", sorted(FAMILY_FACTS))
def test_rendered_audit_rules_pass_the_check(family: str) -> None:
    text = render_template(ROLE, "etc/audit/rules.d/driftvakt.rules.j2", _vars(family))
    assert text.startswith("#")
    rules = AUDITD.parse_audit_rules(text)
    assert AUDITD.missing_audit_events(rules) == []
    assert {r.key for r in rules} == {
        "driftvakt_logins",
        "driftvakt_privileged",
        "driftvakt_accounts",
        "driftvakt_time",
    }
    assert any(r.arches == {"b32"} for r in rules)  # x86_64 has the 32-bit syscall table


def test_no_32_bit_rules_on_aarch64() -> None:
    text = render_template(
        ROLE, "etc/audit/rules.d/driftvakt.rules.j2", _vars("rhel9", architecture="aarch64")
    )
    rules = AUDITD.parse_audit_rules(text)
    assert not any("b32" in r.arches for r in rules)
    assert AUDITD.missing_audit_events(rules) == []


def test_role_removes_the_rule_the_check_finds() -> None:
    import re

    import yaml

    tasks = yaml.safe_load((ROLE / "tasks" / "auditd_rules_present.yml").read_text())
    (find,) = [t for t in tasks if "switch all syscall auditing off" in t["name"]]
    (remove,) = [t for t in tasks if "Remove the rule that switches" in t["name"]]
    pattern = find["ansible.builtin.find"]["contains"]
    assert pattern == remove["ansible.builtin.lineinfile"]["regexp"]
    assert pattern == AUDITD.SUPPRESS_ALL.pattern  # the role removes exactly what the check finds
    assert find["ansible.builtin.find"]["paths"] == "/etc/audit/rules.d"
    for line in ("-a task,never", "-a never,task", "  -a task,never  # SUSE"):
        assert re.match(pattern, line)
    names = [t["name"] for t in tasks]
    assert names.index(remove["name"]) < names.index(
        "auditd_rules_present | Compile rules.d into the rules auditd loads at boot"
    )
