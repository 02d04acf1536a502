"""The pure parsers of tests/test_timesync.py, on captured chrony output and configuration."""

from __future__ import annotations

from driftvakt_checks import test_timesync as CHECK

# chrony 4.3 (Debian 12) on a lab host: the region server selected, a foreign one unreachable.
SOURCES_DRIFTED = """\
MS Name/IP address         Stratum Poll Reach LastRx Last sample
===============================================================================
^* 10.77.140.2                   8   6    17     8  -2927ns[-8436ns] +/-   90us
^? 198.51.100.123                0   6     0     -     +0ns[   +0ns] +/-    0ns
"""
# chrony 3.5 (RHEL 8.2) prints a "210 Number of sources" line first.
SOURCES_RHEL8 = """\
210 Number of sources = 2
MS Name/IP address         Stratum Poll Reach LastRx Last sample
===============================================================================
^+ 192.168.1.11                  2   6   377    22   +203us[ +203us] +/-   21ms
^* 192.168.1.10                  2   6   377    23   -117us[ -130us] +/-   17ms
"""
# After `chronyc offline`: still listed, none selected.
SOURCES_OFFLINE = """\
MS Name/IP address         Stratum Poll Reach LastRx Last sample
===============================================================================
^? 10.77.140.2                   8   6   377    41  +1163ns[+4071ns] +/-   74us
"""
DEBIAN_STOCK_CONF = """\
# Welcome to the chrony configuration file. See chrony.conf(5) for more
# information about usable directives.

# Include configuration files found in /etc/chrony/conf.d.
confdir /etc/chrony/conf.d

# Use Debian vendor zone.
pool 2.debian.pool.ntp.org iburst

# Use time sources from DHCP.
sourcedir /run/chrony-dhcp

# Use NTP sources found in /etc/chrony/sources.d.
sourcedir /etc/chrony/sources.d

keyfile /etc/chrony/chrony.keys
driftfile /var/lib/chrony/chrony.drift
ntsdumpdir /var/lib/chrony
logdir /var/log/chrony
maxupdateskew 100.0
rtcsync
makestep 1 3
leapsectz right/UTC
"""
GETENT = """\
10.20.30.41     STREAM ntp1.region.example
10.20.30.41     DGRAM
10.20.30.41     RAW
2001:db8::41    STREAM
"""


def test_sources_selected_and_unreachable() -> None:
    sources = CHECK.parse_sources(SOURCES_DRIFTED)
    assert [(s.mode, s.state, s.address) for s in sources] == [
        ("^", "*", "10.77.140.2"),
        ("^", "?", "198.51.100.123"),
    ]
    assert str(sources[0]) == "^* 10.77.140.2"


def test_sources_with_the_old_header_line() -> None:
    sources = CHECK.parse_sources(SOURCES_RHEL8)
    assert [s.address for s in sources if s.state == "*"] == ["192.168.1.10"]
    assert len(sources) == 2


def test_sources_offline_has_none_selected() -> None:
    sources = CHECK.parse_sources(SOURCES_OFFLINE)
    assert [s.state for s in sources] == ["?"]


def test_sources_of_empty_or_failed_output() -> None:
    assert CHECK.parse_sources("") == []
    assert CHECK.parse_sources("506 Cannot talk to daemon\n") == []


def test_stock_debian_config_has_pool_and_includes() -> None:
    directives = CHECK.parse_directives(DEBIAN_STOCK_CONF)
    assert CHECK.configured_sources(directives) == [("pool", "2.debian.pool.ntp.org")]
    assert CHECK.included_globs(directives) == [
        "/etc/chrony/conf.d/*.conf",
        "/run/chrony-dhcp/*.sources",
        "/etc/chrony/sources.d/*.sources",
    ]


def test_comments_and_other_source_kinds() -> None:
    text = (
        "! pool pool.ntp.org iburst\n; server a\n% server b\nserver 10.0.0.1 iburst\n"
        "peer 10.0.0.2\nrefclock PHC /dev/ptp0 poll 2\ninclude /etc/chrony.d/*.conf\n"
    )
    directives = CHECK.parse_directives(text)
    assert CHECK.configured_sources(directives) == [
        ("server", "10.0.0.1"),
        ("peer", "10.0.0.2"),
        ("refclock", "PHC"),
    ]
    assert CHECK.included_globs(directives) == ["/etc/chrony.d/*.conf"]


def test_getent_addresses() -> None:
    assert CHECK.parse_getent(GETENT) == {"10.20.30.41", "2001:db8::41"}
    assert CHECK.parse_getent("") == set()
