"""A host's inventory is checked before any host is contacted: a variable the checks need and
the inventory does not set is one line per host and variable, and that host's controls needing
it are `error` (config); its other controls and the rest of the fleet are audited as usual.
No lab: the hosts are addresses nobody is asked (a listener that counts, TEST-NET) or the
simulated fleet (fleetsim.py)."""

from __future__ import annotations

import json
import socket
import textwrap
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fleetsim import SimHost, audit, fleet

from driftvakt.catalog import controls
from driftvakt.cli import main
from driftvakt.exitcodes import Exit
from driftvakt.inventory import targets
from driftvakt.inventory_check import (
    UNSET,
    check_inventory,
    role_specs,
    wanted_variables,
)
from driftvakt.needs import analyse, suite_needs
from driftvakt.results import Status
from driftvakt.waivers import load
from driftvakt_checks import required_vars

PROJECT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 12, 7)
REGION = {"timesync_ntp_servers": ["ntp1.region.example"], "logging_central_host": "log.example"}


def _inventory(tmp_path: Path, hosts: dict[str, dict[str, Any]], group: dict[str, Any]) -> Path:
    (tmp_path / "group_vars").mkdir(exist_ok=True)
    (tmp_path / "group_vars" / "all.yml").write_text(json.dumps(group))
    (tmp_path / "hosts.yml").write_text(json.dumps({"all": {"hosts": hosts}}))
    return tmp_path


def _checked(inventory: Path, waivers: Path | None = None) -> Any:
    needs, specs = suite_needs(), role_specs(PROJECT / "roles")
    hosts = targets(str(inventory), None, wanted_variables(needs, specs))
    found = load(waivers, set(controls())) if waivers else []
    return check_inventory(hosts, needs, specs, found, TODAY, str(inventory))


# --- what the checks need, read from their code ---------------------------------------------


def test_the_needs_are_read_from_the_checks_and_every_read_is_known() -> None:
    needs = suite_needs()
    assert needs.unresolved == []  # a read the mapping cannot follow fails here
    by = needs.by_control
    assert ("timesync_ntp_servers", "") in by[("ntp_region_servers", "linux")].required
    assert ("timesync_ntp_servers", "") in by[("ntp_source_selected", "windows")].required
    assert ("windows_local_admins", "") in by[("win_local_admins_approved", "windows")].required
    assert by[("ntp_service_enabled", "linux")].required == frozenset()
    assert ("crypto_approved_cas", "crypto_certificates") in by[
        ("crypto_certificates_valid", "linux")
    ].required
    assert "session_lock_tmout" in by[("session_shell_idle_timeout", "linux")].read


def test_a_check_reading_a_variable_the_mapping_cannot_see_is_reported(tmp_path: Path) -> None:
    """As test_timesync.py read timesync_ntp_servers before: its own LookupError, invisible."""
    (tmp_path / "test_x.py").write_text(
        textwrap.dedent("""
        import pytest
        from .helpers import servers

        def _own(hostvars):
            value = hostvars.get("timesync_ntp_servers")
            if not value:
                raise LookupError("the inventory sets no timesync_ntp_servers for this host")
            return value

        @pytest.mark.control("ntp_region_servers")
        def test_a(host, hostvars):
            _own(hostvars)

        @pytest.mark.control("ntp_source_selected")
        def test_b(host, hostvars):
            name = "x"
            hostvars.get(name)
            servers(hostvars)
            dict(hostvars)
        """)
    )
    (tmp_path / "helpers.py").write_text("def servers(hv):\n    return hv['ntp']\n")
    unresolved = "\n".join(analyse(tmp_path).unresolved)
    assert "test_x.py:8: raises its own LookupError for an unset variable" in unresolved
    assert "test_x.py:18: hostvars.get() of a name that is not a literal" in unresolved
    assert "hostvars passed to helpers.servers, whose parameter there is not named" in unresolved
    assert "test_x.py:20: hostvars passed to dict, outside the suites" in unresolved


def test_the_checks_and_the_inventory_check_agree_on_unset() -> None:
    assert required_vars.UNSET == UNSET
    for value in (None, "", [], 0, False, {}, "x", ["a"]):
        unset = value in UNSET
        try:
            required_vars.required({"v": value}, "v")
            raised = False
        except LookupError:
            raised = True
        assert raised == unset, value


# --- driftvakt inventory check ----------------------------------------------------------------


def _listener() -> socket.socket:
    """A port that records any connection: the proof that nothing was contacted."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.setblocking(False)
    return sock


def _contacted(sock: socket.socket) -> bool:
    try:
        sock.accept()[0].close()
    except BlockingIOError:
        return False
    return True


@pytest.mark.fault(
    "input",
    "a host without `timesync_ntp_servers`: `driftvakt inventory check`",
    "one line per host and variable (controls, role, where to set it), exit 3, no host contacted",
)
def test_inventory_check_names_each_missing_variable_without_contacting_hosts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    listener = _listener()
    port = listener.getsockname()[1]
    inventory = _inventory(
        tmp_path,
        {
            "web01": {
                "ansible_host": "127.0.0.1",
                "ansible_port": port,
                "timesync_ntp_servers": [],
            },
            "web02": {"ansible_host": "127.0.0.1", "ansible_port": port},
            "win01": {
                "ansible_host": "192.0.2.10",
                "ansible_connection": "winrm",
                "crypto_certificates": [{"subject": "CN=win01"}],
                "crypto_approved_cas": ["CN=Region CA"],
            },
        },
        {"logging_central_host": "log.example", "timesync_ntp_servers": ["ntp1"]},
    )
    (inventory / "host_vars").mkdir()
    (inventory / "host_vars" / "web02.yml").write_text("logging_central_host: ''\n")
    code = main(["inventory", "check", "-i", str(inventory)])
    out, err = capsys.readouterr()
    assert code == Exit.BAD_INPUT
    assert out.splitlines() == [
        f"web01: timesync_ntp_servers is not set (role timesync; needed by ntp_region_servers, "
        f"ntp_source_selected): set it in {inventory}/group_vars/<group>.yml or "
        f"{inventory}/host_vars/web01.yml",
        f"web02: logging_central_host is not set (role logging; needed by "
        f"security_logs_forwarded): set it in {inventory}/group_vars/<group>.yml or "
        f"{inventory}/host_vars/web02.yml",
        f"win01: windows_local_admins is not set (role accounts; needed by "
        f"win_local_admins_approved): set it in {inventory}/group_vars/<group>.yml or "
        f"{inventory}/host_vars/win01.yml",
    ]
    assert "3 host(s), 3 problem(s) on 3 host(s)" in err
    assert not _contacted(listener)
    listener.close()


def test_inventory_check_of_a_complete_inventory_is_quiet_and_exit_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inventory = _inventory(tmp_path, {"web01": {"ansible_host": "192.0.2.1"}}, REGION)
    assert main(["inventory", "check", "-i", str(inventory)]) == Exit.OK
    assert capsys.readouterr().out == ""


@pytest.mark.fault(
    "input",
    "a role variable of the wrong type or not one of its choices (`firewall_backend: ufw`)",
    "one line naming host, variable, role and Ansible's reason; the controls reading it `error`",
)
def test_argument_spec_types_and_choices_are_checked(tmp_path: Path) -> None:
    inventory = _inventory(
        tmp_path,
        {"web01": {"ansible_host": "192.0.2.1"}, "web02": {"ansible_host": "192.0.2.2"}},
        {**REGION, "firewall_backend": "ufw"},
    )
    (inventory / "host_vars").mkdir()
    (inventory / "host_vars" / "web02.yml").write_text("session_lock_tmout: soon\n")
    checked = _checked(inventory)
    lines = checked.lines()
    assert len(lines) == 3
    assert lines[0].startswith(
        "web01: firewall_backend is not valid: value of firewall_backend must be one of: , "
        "nftables, firewalld, got: ufw (role firewall; the audit's checks do not read it)"
    )
    assert lines[2].startswith(
        "web02: session_lock_tmout is not valid: argument 'session_lock_tmout' is of type str"
    )
    assert "(role session_lock; needed by session_shell_idle_timeout)" in lines[2]
    assert checked.overrides == {
        "web02": {
            "session_shell_idle_timeout": checked.overrides["web02"]["session_shell_idle_timeout"]
        }
    }
    assert checked.overrides["web02"]["session_shell_idle_timeout"].status is Status.ERROR


@pytest.mark.fault(
    "input",
    "a missing variable on a host whose control is waived or whose concern toggle is off",
    "no line and no `error`: `waived` / `not_applicable` there; an expired waiver does not count",
)
def test_waived_and_switched_off_controls_are_not_errors(tmp_path: Path) -> None:
    inventory = _inventory(
        tmp_path,
        {
            "off": {"ansible_host": "192.0.2.1", "timesync_enabled": False},
            "waived": {"ansible_host": "192.0.2.2"},
            "expired": {"ansible_host": "192.0.2.3"},
        },
        {"logging_central_host": "log.example"},
    )
    waivers = tmp_path / "waivers.yml"
    entries = [
        (control, host, expires)
        for control in ("ntp_region_servers", "ntp_source_selected")
        for host, expires in (("waived", "2027-06-30"), ("expired", "2026-01-31"))
    ]
    waivers.write_text(
        "waivers:\n"
        + "".join(
            f"  - control: {c}\n    hosts: [{h}]\n    reason: isolated network\n"
            f"    risk_analysis: RA-1\n    approver: Anna Andersson\n    expires: {e}\n"
            for c, h, e in entries
        )
    )
    checked = _checked(inventory, waivers)
    assert [p.host for p in checked.problems] == ["expired"]
    decided = {
        host: {control: o.status for control, o in by.items()}
        for host, by in checked.overrides.items()
    }
    assert decided == {
        "off": dict.fromkeys(("ntp_region_servers", "ntp_source_selected"), Status.NOT_APPLICABLE),
        "waived": dict.fromkeys(("ntp_region_servers", "ntp_source_selected"), Status.WAIVED),
        "expired": dict.fromkeys(("ntp_region_servers", "ntp_source_selected"), Status.ERROR),
    }


def test_a_conditional_need_counts_only_when_its_reason_is_set(tmp_path: Path) -> None:
    inventory = _inventory(
        tmp_path,
        {
            "plain": {"ansible_host": "192.0.2.1"},
            "certs": {"ansible_host": "192.0.2.2", "crypto_certificates": [{"path": "/etc/a.pem"}]},
        },
        REGION,
    )
    assert [line.split(" (")[0] for line in _checked(inventory).lines()] == [
        "certs: crypto_approved_cas is not set"
    ]


# --- the audit: the host's affected controls only ----------------------------------------------


@pytest.mark.fault(
    "host",
    "one host's inventory without `timesync_ntp_servers` (`driftvakt audit`)",
    "its time controls `error` (config) with the line; its other controls and the fleet audited",
)
def test_the_audit_makes_only_that_hosts_controls_needing_it_errors(tmp_path: Path) -> None:
    hosts = [SimHost("good", "127.0.93.1"), SimHost("bad", "127.0.93.2")]
    with fleet(hosts, tmp_path) as sim:
        (tmp_path / "group_vars").mkdir()
        (tmp_path / "group_vars" / "all.yml").write_text(json.dumps(REGION))
        (tmp_path / "host_vars").mkdir()
        (tmp_path / "host_vars" / "bad.yml").write_text("timesync_ntp_servers: []\n")
        run = audit(sim, tmp_path).run
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for r in run["results"]:
        results.setdefault(r["host"], {})[r["control"]] = r
    needing = {"ntp_region_servers", "ntp_source_selected"}
    for control in needing:
        bad = results["bad"][control]
        assert (bad["status"], bad["error_kind"]) == ("error", "config")
        assert bad["reason"].startswith(
            "inventory: bad: timesync_ntp_servers is not set (role timesync; needed by "
            "ntp_region_servers, ntp_source_selected): set it in "
        )
        assert results["good"][control].get("error_kind") != "config"
    others = set(results["good"]) - needing
    assert {c: results["bad"][c]["status"] for c in others} == {
        c: results["good"][c]["status"] for c in others
    }
    assert {"pass", "fail"} <= {results["bad"][c]["status"] for c in others}  # judged, not read


# --- ansible-playbook site.yml: the same lines, before any role ---------------------------------


def test_site_yml_checks_the_inventory_before_any_role() -> None:
    import yaml

    (play,) = yaml.safe_load((PROJECT / "site.yml").read_text())
    (task,) = [t for t in play["pre_tasks"] if "driftvakt_inventory_check" in t]
    assert task["tags"] == ["always"]


@pytest.mark.fault(
    "input",
    "a host without `timesync_ntp_servers`: `ansible-playbook site.yml`",
    "that host fails before any role with the same line; the others go on",
)
def test_the_playbook_action_fails_only_the_host_missing_a_variable(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    python = sys.executable
    (tmp_path / "inventory").mkdir()
    inventory = _inventory(
        tmp_path / "inventory",
        {
            "good": {"ansible_connection": "local", "ansible_python_interpreter": python},
            "bad": {
                "ansible_connection": "local",
                "ansible_python_interpreter": python,
                "timesync_ntp_servers": [],
            },
        },
        REGION,
    )
    play = tmp_path / "play.yml"
    play.write_text(
        "- hosts: all\n  gather_facts: false\n  tasks:\n"
        "    - driftvakt_inventory_check:\n"
        "    - ansible.builtin.debug: {msg: went on}\n"
    )
    (tmp_path / "roles").symlink_to(PROJECT / "roles")  # the argument specs, as beside site.yml
    config = tmp_path / "ansible.cfg"  # not the checkout's: no change record, no lab inventory
    config.write_text(f"[defaults]\naction_plugins = {PROJECT / 'plugins' / 'action'}\n")
    done = subprocess.run(
        [str(Path(python).parent / "ansible-playbook"), "-i", str(inventory), str(play)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
        env={**os.environ, "ANSIBLE_CONFIG": str(config)},
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert (
        f"bad: timesync_ntp_servers is not set (role timesync; needed by ntp_region_servers, "
        f"ntp_source_selected): set it in {inventory}/group_vars/<group>.yml or "
        f"{inventory}/host_vars/bad.yml" in done.stdout + done.stderr
    )
    assert 'ok: [good] => {\n    "msg": "went on"' in done.stdout
    assert 'ok: [bad] => {\n    "msg"' not in done.stdout


@pytest.mark.fault(
    "input",
    "a role's `meta/argument_specs.yml` that is not valid YAML or not a spec",
    "one line naming the file, exit 3, before any host",
)
def test_an_unusable_argument_spec_is_one_line(tmp_path: Path) -> None:
    from driftvakt.errors import BadInputError

    meta = tmp_path / "roles" / "timesync" / "meta"
    meta.mkdir(parents=True)
    for text in ("argument_specs: [\n", "argument_specs:\n  other: {}\n"):
        (meta / "argument_specs.yml").write_text(text)
        with pytest.raises(BadInputError, match=r"argument_specs.yml: not a usable argument spec"):
            role_specs(tmp_path / "roles")


@pytest.mark.fault(
    "secrets",
    "a `no_log` option (a private key's `key_content`) in a value the argument spec refuses",
    "the inventory check's line masks it",
)
def test_a_value_the_spec_marks_no_log_never_reaches_a_line() -> None:
    from driftvakt.inventory_check import _validate

    option = {
        "type": "list",
        "elements": "dict",
        "options": {
            "path": {"type": "str"},
            "key_content": {"type": "str", "no_log": True, "choices": ["x"]},
        },
    }
    line = _validate("crypto_certificates", [{"path": "/a", "key_content": "CANARY-KEY"}], option)
    assert "must be one of" in line
    assert "CANARY-KEY" not in line and "********" in line
