# ruff: noqa: E501  (captured output is quoted verbatim)
"""The pure parsers of tests/test_services.py, on captured ss, dpkg-query and modprobe.d output."""

from __future__ import annotations

from driftvakt_checks import services_apps as APPS
from driftvakt_checks import services_listeners as LISTEN
from driftvakt_checks import services_packages as PACKAGES

# `ss -Hltunp` on a converged Debian 12 lab host, plus the drift's rogue listener.
SS = """\
udp   UNCONN 0      0          127.0.0.1:323        0.0.0.0:*    users:(("chronyd",pid=512,fd=5))
udp   UNCONN 0      0              [::1]:323           [::]:*    users:(("chronyd",pid=512,fd=6))
tcp   LISTEN 0      128          0.0.0.0:22         0.0.0.0:*    users:(("sshd",pid=34,fd=3))
tcp   LISTEN 0      128             [::]:22            [::]:*    users:(("sshd",pid=34,fd=4))
tcp   LISTEN 0      5            0.0.0.0:9999       0.0.0.0:*    users:(("python3",pid=2211,fd=3))
udp   UNCONN 0      0      127.0.0.53%lo:53         0.0.0.0:*    users:(("systemd-resolve",pid=90,fd=13))
"""
SSHD = [{"port": 22, "proto": "tcp", "process": "sshd"}]


def test_ss_lines() -> None:
    listeners = LISTEN.parse_ss(SS)
    assert len(listeners) == 6
    assert listeners[1] == {
        "proto": "udp",
        "port": 323,
        "address": "::1",
        "process": "chronyd",
        "pid": 512,
    }
    assert listeners[4]["port"] == 9999 and listeners[4]["process"] == "python3"
    assert listeners[5]["address"] == "127.0.0.53"


def test_rogue_listener_is_unapproved_and_loopback_is_allowed() -> None:
    rogue = LISTEN.unapproved(LISTEN.parse_ss(SS), SSHD, True)
    assert [(s["proto"], s["port"], s["process"]) for s in rogue] == [("tcp", 9999, "python3")]


def test_loopback_counts_when_not_allowed() -> None:
    rogue = LISTEN.unapproved(LISTEN.parse_ss(SS), SSHD, False)
    assert sorted({s["port"] for s in rogue}) == [53, 323, 9999]


def test_process_must_match_when_named() -> None:
    ss = 'tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:* users:(("dropbear",pid=7,fd=3))\n'
    assert LISTEN.unapproved(LISTEN.parse_ss(ss), SSHD, True)
    assert not LISTEN.unapproved(LISTEN.parse_ss(ss), [{"port": 22, "proto": "tcp"}], True)


def test_installed_packages() -> None:
    out = "telnetd installed\nopenvpn config-files\nxinetd not-installed\n"
    assert PACKAGES.parse_installed(out) == {"telnetd"}
    assert PACKAGES.parse_installed("") == set()


def test_modprobe_blocked_and_drifted() -> None:
    conf = """\
==> /etc/modprobe.d/driftvakt-protocols.conf <==
# Managed by driftvakt
install dccp /bin/false
blacklist dccp
install sctp /bin/false
blacklist sctp
==> /lib/modprobe.d/aliases.conf <==
alias net-pf-10 ipv6
"""
    rules = PACKAGES.parse_modprobe(conf)
    assert rules["dccp"] == {
        "install": ["/bin/false"],
        "blacklist": ["/etc/modprobe.d/driftvakt-protocols.conf"],
    }
    assert "tipc" not in rules
    assert PACKAGES.parse_modprobe("") == {}


# app_services_least_privilege: `systemctl show -p ...` and getent on a Debian 12 lab host,
# converged; then the drift (a drop-in with User=root).
SHOW = """\
Id=labapp.service
User=labapp
DynamicUser=no
PrivateTmp=yes
ProtectHome=yes
ProtectSystem=strict
NoNewPrivileges=yes
DropInPaths=
LoadState=loaded
ActiveState=active
UnitFileState=enabled
"""
ACCOUNTS = """\
root:x:0:0:root:/root:/bin/bash
ops:x:1000:1000::/home/ops:/bin/bash
labapp:x:998:998:labapp application component:/home/labapp:/usr/sbin/nologin
"""
GROUPS = """\
root:x:0:
sudo:x:27:ops
labapp:x:998:
"""


def _app(show: str, passwd: str = ACCOUNTS, groups: str = GROUPS) -> list[str]:
    props = APPS.parse_systemctl_show(show).get("labapp.service")
    return list(
        APPS.app_problems(
            "labapp.service",
            props,
            "labapp",
            APPS.parse_getent(passwd),
            APPS.parse_getent(groups),
        )
    )


def test_a_converged_component_passes() -> None:
    assert _app(SHOW) == []


def test_running_as_root_through_a_drop_in_fails() -> None:
    drifted = SHOW.replace("User=labapp", "User=root").replace(
        "DropInPaths=", "DropInPaths=/etc/systemd/system/labapp.service.d/zz-local.conf"
    )
    assert _app(drifted) == [
        "labapp.service runs as root, not its own account labapp",
        "labapp.service runs as root (uid 0)",
        "(drop-ins: /etc/systemd/system/labapp.service.d/zz-local.conf)",
    ]


def test_disabled_stopped_unsandboxed_or_missing_fails() -> None:
    off = SHOW.replace("UnitFileState=enabled", "UnitFileState=disabled").replace(
        "ActiveState=active", "ActiveState=inactive"
    )
    assert _app(off) == [
        "labapp.service is disabled at boot",
        "labapp.service is inactive, not running",
    ]
    loose = SHOW.replace("ProtectSystem=strict", "ProtectSystem=no")
    assert _app(loose) == ["labapp.service is not sandboxed: ProtectSystem=no"]
    gone = "Id=labapp.service\nLoadState=not-found\n"
    assert _app(gone) == ["labapp.service is not installed (not-found)"]


def test_a_login_shell_or_an_admin_group_fails() -> None:
    shell = ACCOUNTS.replace("/home/labapp:/usr/sbin/nologin", "/home/labapp:/bin/bash")
    assert _app(SHOW, passwd=shell) == [
        "labapp.service: account labapp has a login shell (/bin/bash)"
    ]
    sudo = GROUPS.replace("sudo:x:27:ops", "sudo:x:27:ops,labapp")
    assert _app(SHOW, groups=sudo) == ["labapp.service: account labapp is in admin groups ['sudo']"]
    uid0 = ACCOUNTS.replace("labapp:x:998:998", "labapp:x:0:998")
    assert _app(SHOW, passwd=uid0) == ["labapp.service runs as root (uid 0)"]
