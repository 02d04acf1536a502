"""What an older supported RHEL or SLES release lacks, and what the roles and checks do there
(issue 15; rendered, no such host boots here).

Oldest supported: RHEL 8.0 (systemd 239, firewalld 0.6-0.8 until 8.3, OpenSSH 8.0, Python 3.6
as platform-python only on a minimal install) and SLES 15 SP2 (systemd 234, firewalld 0.5,
OpenSSH 8.1, Python 3.6). Each floor below is the version the form needs, per the project's
own changelogs: ``systemctl show -P`` (systemd 246), ``systemd-run --collect`` (systemd 236),
firewalld policies (0.9), ``Include`` in sshd_config (OpenSSH 8.2: test_render_ssh.py).
The role's own expressions are evaluated through Ansible's templar on each release's answers.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from driftvakt.rendering import family_vars, trusted
from driftvakt_checks import firewall_firewalld as FIREWALLD
from driftvakt_checks import services_listeners as LISTEN

PROJECT = Path(__file__).resolve().parents[2]
ROLES = PROJECT / "roles"


def _template(expression: Any, **variables: Any) -> Any:
    from ansible.template import Templar

    return Templar(loader=None, variables=trusted(variables)).template(trusted(expression))


def _tasks(path: str) -> list[dict[str, Any]]:
    data = yaml.safe_load((ROLES / path).read_text())
    assert isinstance(data, list)
    return data


def _task(path: str, name_start: str) -> dict[str, Any]:
    (task,) = [t for t in _tasks(path) if str(t.get("name", "")).startswith(name_start)]
    return task


def test_no_systemctl_show_dash_p_anywhere() -> None:
    # `systemctl show -P` is systemd 246+; RHEL 8 has 239, SLES 15 SP2 234
    # (--value, 230+, is older than every supported release).
    dash_p = re.compile(r"systemctl show\b[^\n]*\s-P\b")
    found = [
        f"{path.relative_to(PROJECT)}"
        for folder in ("roles", "tests")
        for path in (PROJECT / folder).rglob("*")
        if path.suffix in (".yml", ".py", ".j2", ".sh") and dash_p.search(path.read_text())
    ]
    assert found == []


def test_listener_units_transient_flag_read_in_the_old_form() -> None:
    # the role's shell loop, run for real with a stand-in systemctl answering as systemd 234
    # does for `--property=Transient` ("Transient=yes"); -P would be "Unknown option"
    task = _task(
        "services/tasks/services_listeners_allowed.yml", "services_listeners_allowed | List"
    )
    script = task["ansible.builtin.shell"]["cmd"]
    shim = (
        "ss() { echo 'udp UNCONN 0 0 10.0.2.15%eth0:68 0.0.0.0:* "
        'users:(("NetworkManager",pid=812,fd=25))\'; }; '
        "ps() { echo NetworkManager.service; }; "
        'systemctl() { [ "$2" = "-P" ] && { echo "Unknown option -P" >&2; return 1; }; '
        'echo "Transient=no"; }; '
    )
    done = subprocess.run(
        ["bash", "-c", shim + script.replace("set -o pipefail", "")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split() == ["udp", "68", "10.0.2.15%eth0", "NetworkManager",
                                   "NetworkManager.service", "no"]  # fmt: skip


@pytest.mark.parametrize(
    ("answer", "collect"),
    [
        ("systemd 234 (v234-lp152.1)\n+PAM -AUDIT +SELINUX", False),  # SLES 15 SP2
        ("systemd 239 (239-41.el8_3)\n+PAM +AUDIT +SELINUX", True),  # RHEL 8
        ("systemd 252 (252.33-1~deb12u1)\n+PAM +AUDIT", True),  # Debian 12
        ("", False),
    ],
)
def test_systemd_run_collect_only_where_systemd_has_it(answer: str, collect: bool) -> None:
    arm = "guarded_change/tasks/linux/arm.yml"
    decide = _task(arm, "Decide whether systemd-run can collect")
    value = _template(
        decide["ansible.builtin.set_fact"]["__guarded_change_collect"],
        __guarded_change_systemd={"stdout": answer},
    )
    assert bool(value) is collect
    argv = _template(
        _task(arm, "Arm the host-side rollback")["ansible.builtin.command"]["argv"],
        __guarded_change_collect=collect,
        guarded_change_id="sshd",
        guarded_change_what="sshd configuration",
        guarded_change_rollback_seconds=90,
        guarded_change_state_dir="/var/lib/driftvakt/ssh",
    )
    assert argv[0] == "systemd-run" and ("--collect" in argv) is collect
    assert argv[-2:] == ["/bin/sh", "/var/lib/driftvakt/ssh/rollback.sh"]
    # without --collect a failed earlier rollback unit is reset first, else its name stays taken
    reset = _task(arm, "Clear a failed earlier rollback unit")
    assert reset["when"] == "not __guarded_change_collect"


@pytest.mark.parametrize(
    ("version", "policies"),
    [("0.5.5", False), ("0.8.2", False), ("0.9.3", True), ("1.2.5", True), ("", False)],
)
def test_firewalld_policies_read_only_where_firewalld_has_them(
    version: str, policies: bool
) -> None:
    task = _task("firewall/tasks/firewalld.yml", "Read firewalld's runtime and permanent")
    loop = _template(task["loop"], __firewall_version={"stdout": version})
    assert ("--list-all-policies" in loop) is policies
    assert loop[:3] == ["--get-default-zone", "--list-all-zones", "--permanent --list-all-zones"]


def test_the_check_reads_an_old_firewalld_refusing_policies_as_none() -> None:
    # firewall-cmd 0.8's argparse answer to --list-all-policies (exit 2)
    refused = (
        "usage: see firewall-cmd man page\n"
        "firewall-cmd: error: unrecognized arguments: --list-all-policies\n"
    )
    assert FIREWALLD.policies_listing(refused) == ""
    # before, the error's lines were read as two policies named "usage:" and "firewall-cmd:"
    assert set(FIREWALLD.parse_firewalld_listing(refused)) == {"usage:", "firewall-cmd:"}
    listing = "allow-host-ipv6 (active)\n  priority: -15000\n  target: CONTINUE\n"
    assert FIREWALLD.policies_listing(listing) == listing


# --- DHCP clients' listeners (NetworkManager on RHEL, wicked on SLES) ---------------------------

# `ss -Hltunp` on a RHEL 9 host whose NetworkManager holds a DHCPv4 and a DHCPv6 lease
SS_DHCP = (
    'udp UNCONN 0 0 10.0.2.15%enp0s3:68 0.0.0.0:* users:(("NetworkManager",pid=812,fd=25))\n'
    "udp UNCONN 0 0 [fe80::a00:27ff:fe4e:66a1]%enp0s3:546 [::]:* "
    'users:(("NetworkManager",pid=812,fd=28))\n'
    'udp UNCONN 0 0 0.0.0.0:68 0.0.0.0:* users:(("wickedd-dhcp4",pid=901,fd=9))\n'
    'tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:* users:(("sshd",pid=700,fd=3))\n'
)


def test_dhcp_clients_are_no_unapproved_listeners_but_others_on_their_ports_are() -> None:
    listeners = LISTEN.parse_ss(SS_DHCP)
    allowed = [*LISTEN.DEFAULT_ALLOWED, *LISTEN.DHCP_CLIENT_LISTENERS]
    assert LISTEN.unapproved(listeners, allowed, True) == []
    # before: every DHCP host failed (and services_stop_unapproved stopped NetworkManager)
    before = LISTEN.unapproved(listeners, list(LISTEN.DEFAULT_ALLOWED), True)
    assert {(s["port"], s["process"]) for s in before} == {
        (68, "NetworkManager"),
        (546, "NetworkManager"),
        (68, "wickedd-dhcp4"),
    }
    rogue = LISTEN.parse_ss('udp UNCONN 0 0 0.0.0.0:68 0.0.0.0:* users:(("nc",pid=9,fd=3))\n')
    assert LISTEN.unapproved(rogue, allowed, True) == rogue


def _role_unapproved(lines: list[str], allow_dhcp: bool) -> list[dict[str, Any]]:
    task = _task(
        "services/tasks/services_listeners_allowed.yml", "services_listeners_allowed | Select"
    )
    variables = family_vars(ROLES / "services", "rhel9", services_allow_dhcp_client=allow_dhcp)
    variables["__services_sockets"] = {"stdout_lines": lines}
    value = _template(task["ansible.builtin.set_fact"]["__services_unapproved"], **variables)
    return list(value)


def test_the_role_approves_the_same_dhcp_clients_and_stops_no_networkmanager() -> None:
    role = family_vars(ROLES / "services", "rhel9")["__services_dhcp_client_listeners"]
    assert [dict(e) for e in role] == [dict(e) for e in LISTEN.DHCP_CLIENT_LISTENERS]
    # the role's own socket lines (proto port address process unit transient)
    lines = [
        "udp 68 10.0.2.15%enp0s3 NetworkManager NetworkManager.service no",
        "udp 546 [fe80::a00:27ff:fe4e:66a1]%enp0s3 NetworkManager NetworkManager.service no",
        "tcp 22 0.0.0.0 sshd sshd.service no",
    ]
    assert _role_unapproved(lines, allow_dhcp=True) == []
    stopped = {s["unit"] for s in _role_unapproved(lines, allow_dhcp=False)}
    assert stopped == {"NetworkManager.service"}


# --- Python on the host: a minimal RHEL 8 has only /usr/libexec/platform-python (3.6) ----------

PYTHON36 = sorted(Path("/root/.pyenv/versions").glob("3.6.*/bin/python3.6"))


def test_the_default_password_script_runs_with_the_python_ansible_found() -> None:
    task = _task(
        "accounts/tasks/accounts_no_default_passwords.yml", "accounts_no_default_passwords | Find"
    )
    executable = task["ansible.builtin.script"]["executable"]
    facts = {"python": {"executable": "/usr/libexec/platform-python"}}
    assert _template(executable, ansible_facts=facts) == "/usr/libexec/platform-python"
    assert _template(executable, ansible_facts={}) == "python3"


@pytest.mark.skipif(not PYTHON36, reason="no Python 3.6 on this machine (pyenv 3.6.*)")
def test_the_default_password_script_runs_on_python_3_6(tmp_path: Path) -> None:
    script = ROLES / "accounts" / "files" / "find_default_passwords.py"
    done = subprocess.run(
        [str(PYTHON36[-1]), str(script), "not-a-password-anyone-uses"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert all(line.split()[0] in ("default", "unverifiable") for line in done.stdout.splitlines())
