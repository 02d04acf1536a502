"""The antivirus role's vendor table, platform units and offline signature database (no host)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from driftvakt.rendering import FAMILY_FACTS, family_vars, render_template
from driftvakt_checks import test_antivirus as CHECK

PROJECT = Path(__file__).resolve().parents[2]
ROLE = PROJECT / "roles" / "antivirus"

EXPECTED = {
    "debian12": ("clamav-daemon", "clamav-freshclam", True),
    "rhel8": ("clamd@scan", "clamav-freshclam", False),
    "rhel9": ("clamd@scan", "clamav-freshclam", False),
    "rhel10": ("clamd@scan", "clamav-freshclam", False),
    "sles15": ("clamd", "freshclam", False),
}
NDB_LINE = re.compile(r"^[^:\s]+:\d+:(\*|\d+):[0-9a-f]+$")


def _vars(family: str, **extra: Any) -> dict[str, Any]:
    return family_vars(ROLE, family, **extra)


@pytest.mark.parametrize("family", sorted(FAMILY_FACTS))
def test_platform_clamav_units(family: str) -> None:
    variables = _vars(family)
    service, freshclam, dropin = EXPECTED[family]
    vendor = variables["__antivirus_vendor"]
    assert vendor["managed"] is True
    assert vendor["services"] == [service]
    assert vendor["packages"] == variables["__antivirus_clamav_packages"]
    assert variables["__antivirus_clamav_freshclam_service"] == freshclam
    assert variables["__antivirus_clamav_condition_dropin"] is dropin
    # what the role starts is what the check looks for
    assert service in CHECK.VENDORS["clamav"][0]


def test_online_site_enables_freshclam_after_the_one_off_fetch() -> None:
    # On RHEL (EPEL) and SLES the package leaves freshclam's service to the presets, which
    # disable it: without this task the definitions go stale between role runs (issue 15).
    tasks = yaml.safe_load((ROLE / "tasks" / "antivirus_definitions_fresh.yml").read_text())
    names = [t["name"] for t in tasks]
    (task,) = [t for t in tasks if "enabled and running (online site)" in t["name"]]
    unit = task["ansible.builtin.systemd_service"]
    assert unit == {
        "name": "{{ __antivirus_clamav_freshclam_service }}",
        "state": "started",
        "enabled": True,
    }
    assert "not (antivirus_clamav_offline_signatures | bool)" in task["when"]
    fetch = names.index("antivirus_definitions_fresh | Fetch new ClamAV signatures with freshclam")
    assert names.index(task["name"]) > fetch


def test_vendor_table_matches_the_check() -> None:
    variables = _vars("debian12")
    table = variables["__antivirus_vendors"]
    assert set(table) == set(CHECK.VENDORS)
    specs = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())
    assert specs["argument_specs"]["main"]["options"]["antivirus_vendor"]["choices"] == list(table)
    for vendor, entry in table.items():
        services, probe = CHECK.VENDORS[vendor]
        if vendor != "clamav":
            assert tuple(entry["services"]) == services, vendor
            assert entry["managed"] is False
        # the role reads the age the same way the check does, where it can
        if "age_minutes" in entry:
            assert probe is not None
            assert entry["age_minutes"].removeprefix("/usr/bin/") == probe
        for command in (entry.get("update"), entry.get("age_minutes")):
            assert command is None or command.startswith("/"), f"{vendor}: {command}"


def test_database_patterns_and_refresh_age() -> None:
    variables = _vars("debian12")
    patterns = variables["__antivirus_clamav_database_patterns"]
    assert [p.removeprefix("*.") for p in patterns] == list(CHECK.CLAMAV_DATABASE_TYPES)
    assert variables["__antivirus_clamav_database_dir"] == CHECK.CLAMAV_DATABASE_DIR
    assert int(variables["__antivirus_refresh_hours"]) == 24
    assert (
        int(_vars("debian12", antivirus_max_definition_age_hours=1)["__antivirus_refresh_hours"])
        == 1
    )


def test_offline_database_holds_one_harmless_signature() -> None:
    variables = _vars("debian12")
    path = Path(variables["__antivirus_clamav_offline_database"])
    assert path.parent == Path(CHECK.CLAMAV_DATABASE_DIR)
    assert path.suffix.removeprefix(".") in CHECK.CLAMAV_DATABASE_TYPES
    lines = (ROLE / "files" / path.name).read_text().splitlines()
    assert len(lines) == 1
    assert NDB_LINE.match(lines[0]), lines[0]
    assert bytes.fromhex(lines[0].rsplit(":", 1)[1]) == b"DRIFTVAKT-OFFLINE-TEST-SIGNATURE"


def test_offline_dropin_lets_clamav_daemon_start_on_the_local_database() -> None:
    variables = _vars("debian12")
    dropin = render_template(ROLE, "etc/systemd/system/clamav-offline.conf.j2", variables)
    assert dropin.startswith("#")
    assert "\nConditionPathExistsGlob=\n" in dropin
    assert "ConditionPathExistsGlob=/var/lib/clamav/driftvakt-local.ndb\n" in dropin


def test_rhel_scan_conf_lines() -> None:
    lines = _vars("rhel9")["__antivirus_clamav_config_lines"]
    assert _vars("rhel9")["__antivirus_clamav_config"] == "/etc/clamd.d/scan.conf"
    assert [entry["line"] for entry in lines] == [
        "#Example",
        "LocalSocket /run/clamd.scan/clamd.sock",
    ]
    assert re.match(lines[0]["regexp"], "Example")
    assert re.match(lines[1]["regexp"], "#LocalSocket /run/clamd.scan/clamd.sock")


def test_defaults_agree_with_the_check() -> None:
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    assert defaults["antivirus_vendor"] == CHECK.DEFAULT_VENDOR
    assert defaults["antivirus_max_definition_age_hours"] == CHECK.DEFAULT_MAX_AGE_HOURS


# --- ClamAV's package source on RHEL (EPEL) and SLES (a module) (issue 15) ----------------------

SOURCE_TASKS = ROLE / "tasks" / "clamav_package_source.yml"


def _source_task(name_start: str) -> dict[str, Any]:
    tasks = yaml.safe_load(SOURCE_TASKS.read_text())
    (task,) = [t for t in tasks if t["name"].startswith(name_start)]
    return dict(task)


def _template(expression: Any, variables: dict[str, Any]) -> Any:
    from ansible.template import Templar

    from driftvakt.rendering import trusted

    return Templar(loader=None, variables=trusted(variables)).template(trusted(expression))


@pytest.mark.parametrize(
    ("family", "client", "hint"),
    [
        ("rhel8", "dnf", "EPEL"),
        ("rhel9", "dnf", "EPEL"),
        ("rhel10", "dnf", "EPEL"),
        ("sles15", "zypper", "SUSEConnect --list-extensions"),
        ("debian12", None, None),
    ],
)
def test_each_family_asks_its_package_manager_for_clamav(
    family: str, client: str | None, hint: str | None
) -> None:
    variables = _vars(family)
    probe = variables["__antivirus_clamav_available_probe"]
    if client is None:  # in Debian's own archive: nothing to enable
        assert probe == []
        return
    assert probe[0] == client
    assert hint in variables["__antivirus_clamav_source_hint"]
    assert "antivirus_clamav_repository" in variables["__antivirus_clamav_source_hint"]


# What the probes print, as the real clients print it on the lab's RPM hosts
# (test_lab_rpm_sources.py runs them): dnf 4's repoquery with the role's query format, and
# zypper 1.14's search table.
DNF_FOUND = ["| clamav |", "| clamav-update |", "| clamd |"]
ZYPPER_FOUND = [
    "S  | Name   | Summary                                                            | Type",
    "---+--------+--------------------------------------------------------------------+--------",
    "   | clamav | driftvakt lab only: stands in for a package with a security update | package",
]


def _failure(family: str, rc: int, stdout: list[str], stderr: list[str]) -> str | None:
    """The assert task's message when it fails, else None."""
    variables = _vars(family)
    task = _source_task("Fail early when ClamAV's packages")
    variables.update(task["vars"])
    variables["__antivirus_available"] = {"rc": rc, "stdout_lines": stdout, "stderr_lines": stderr}
    conditions = task["ansible.builtin.assert"]["that"]
    if all(_template("{{ " + c + " }}", variables) for c in conditions):
        return None
    return " ".join(str(_template(task["ansible.builtin.assert"]["fail_msg"], variables)).split())


def test_the_packages_found_pass_and_missing_ones_fail_in_one_line() -> None:
    assert _failure("rhel9", 0, DNF_FOUND, []) is None
    assert _failure("sles15", 0, ZYPPER_FOUND, []) is None
    message = _failure("rhel9", 0, DNF_FOUND[:1], [])
    assert message == (
        "ClamAV cannot be installed: clamd, clamav-update are in none of the enabled "
        "repositories; on RHEL they come from EPEL: name EPEL or the region's mirror of it in "
        "antivirus_clamav_repository ({name, baseurl, gpgkey})"
    )
    message = _failure("sles15", 104, ["No matching items found."], [])
    assert message is not None and message.startswith(
        "ClamAV cannot be installed: clamav is in none of the enabled repositories; on SLES 15 "
        "it comes from a module that must be registered"
    )
    # a package manager that cannot answer is said so, never read as "not there"
    message = _failure("rhel9", 1, [], ["Error: Failed to download metadata for repo 'epel'"])
    assert message == (
        "cannot list the packages of the enabled repositories (dnf exited 1: "
        "Error: Failed to download metadata for repo 'epel')"
    )


# `SUSEConnect --status` (JSON) on a SLES 15 SP5 host with the base product and modules
SUSECONNECT_STATUS = (
    '[{"identifier":"SLES","version":"15.5","arch":"x86_64","status":"Registered"},'
    '{"identifier":"sle-module-basesystem","version":"15.5","arch":"x86_64","status":"Registered"},'
    '{"identifier":"PackageHub","version":"15.5","arch":"x86_64","status":"Not Registered"}]'
)


@pytest.mark.parametrize(
    ("product", "pending"),
    [("PackageHub/15.5/x86_64", True), ("sle-module-basesystem/15.5/x86_64", False)],
)
def test_suse_module_registered_only_when_not_yet(product: str, pending: bool) -> None:
    task = _source_task("Decide whether the SUSE module must be registered")
    variables = _vars("sles15", antivirus_clamav_repository={"product": product})
    variables["__antivirus_suse_status"] = {"stdout": SUSECONNECT_STATUS}
    value = _template(task["ansible.builtin.set_fact"]["__antivirus_product_pending"], variables)
    assert str(value).strip() == str(pending)


def test_the_source_comes_before_the_installation_and_check_mode_stays_honest() -> None:
    tasks = yaml.safe_load((ROLE / "tasks" / "main.yml").read_text())[0]["block"]
    names = [t["name"] for t in tasks]
    source = names.index("Enable ClamAV's package source, or fail saying what is missing")
    install = names.index("Install ClamAV")
    shown = names.index(
        "Show the installation a real run would do from the new package source (check mode)"
    )
    assert source < install < shown
    assert (
        "not (ansible_check_mode and __antivirus_source_changed | default(false) | bool)"
        in (tasks[install]["when"])
    )
    assert tasks[shown]["register"] == "__antivirus_install"  # later tasks skip as after install


def test_check_mode_says_which_zypper_repository_a_run_would_add() -> None:
    # zypper_repository cannot run in check mode: the configured ones are read instead
    variables = _vars("sles15", antivirus_clamav_repository={"name": "m", "baseurl": "http://m/x"})
    for urls, pending in (([], True), (["http://m/x"], False), (["http://other"], True)):
        variables["__antivirus_zypper_repos"] = {"repodatalist": [{"url": u} for u in urls]}
        raw = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())["__antivirus_zypper_pending"]
        assert str(_template(raw, variables)).strip() == str(pending)
