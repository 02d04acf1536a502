# ruff: noqa: E501  (captured output is quoted verbatim)
"""The pure parsers of tests/test_services.py, on captured ss, dpkg-query and modprobe.d output."""

from __future__ import annotations

from test_parse_timesync import check_module

CHECK = check_module("test_services")

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
    listeners = CHECK.parse_ss(SS)
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
    rogue = CHECK.unapproved(CHECK.parse_ss(SS), SSHD, True)
    assert [(s["proto"], s["port"], s["process"]) for s in rogue] == [("tcp", 9999, "python3")]


def test_loopback_counts_when_not_allowed() -> None:
    rogue = CHECK.unapproved(CHECK.parse_ss(SS), SSHD, False)
    assert sorted({s["port"] for s in rogue}) == [53, 323, 9999]


def test_process_must_match_when_named() -> None:
    ss = 'tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:* users:(("dropbear",pid=7,fd=3))\n'
    assert CHECK.unapproved(CHECK.parse_ss(ss), SSHD, True)
    assert not CHECK.unapproved(CHECK.parse_ss(ss), [{"port": 22, "proto": "tcp"}], True)


def test_installed_packages() -> None:
    out = "telnetd installed\nopenvpn config-files\nxinetd not-installed\n"
    assert CHECK.parse_installed(out) == {"telnetd"}
    assert CHECK.parse_installed("") == set()


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
    rules = CHECK.parse_modprobe(conf)
    assert rules["dccp"] == {
        "install": ["/bin/false"],
        "blacklist": ["/etc/modprobe.d/driftvakt-protocols.conf"],
    }
    assert "tipc" not in rules
    assert CHECK.parse_modprobe("") == {}
