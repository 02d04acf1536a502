"""Time synchronisation: chrony, fed only by the region's NTP servers, running and synchronised.

Requirements SKA-SEC-07 (the region's NTP source synchronises every clock) and RST-9.4.4
(systems have correct time). The expected servers come from the inventory variable
``timesync_ntp_servers``, the same one the ``timesync`` role is applied with.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any

import pytest

from . import windows_timesync
from .required_vars import required
from .systemd_units import unit_states
from .windows_facts import windows_facts

# Where chrony's configuration lives: Debian, then RHEL and SLES.
CHRONY_CONF_PATHS = ("/etc/chrony/chrony.conf", "/etc/chrony.conf")
SOURCE_DIRECTIVES = ("server", "pool", "peer", "refclock")
_SAFE_GLOB = re.compile(r"^[\w./*?\[\]-]+$")


@dataclass(frozen=True)
class Source:
    """One line of ``chronyc -n sources``: mode (^ server, = peer, # refclock), state, address."""

    mode: str
    state: str
    address: str

    def __str__(self) -> str:
        return f"{self.mode}{self.state} {self.address}"


def parse_sources(output: str) -> list[Source]:
    """The sources listed by ``chronyc -n sources`` (lines after the ``====`` rule)."""
    sources = []
    started = False
    for line in output.splitlines():
        if line.startswith("===="):
            started = True
            continue
        fields = line.split()
        if started and len(fields) >= 2 and len(fields[0]) == 2 and fields[0][0] in "^=#":
            sources.append(Source(fields[0][0], fields[0][1], fields[1]))
    return sources


def parse_directives(text: str) -> list[tuple[str, list[str]]]:
    """chrony configuration lines as (directive, arguments); comments start with ! ; # or %."""
    directives = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "!;#%":
            continue
        name, *args = line.split()
        directives.append((name.lower(), args))
    return directives


def included_globs(directives: list[tuple[str, list[str]]]) -> list[str]:
    """Other files the configuration reads: include, confdir (*.conf), sourcedir (*.sources)."""
    globs = []
    for name, args in directives:
        if name == "include" and args:
            globs.append(args[0])
        elif name == "confdir":
            globs += [f"{folder.rstrip('/')}/*.conf" for folder in args]
        elif name == "sourcedir":
            globs += [f"{folder.rstrip('/')}/*.sources" for folder in args]
    return globs


def configured_sources(directives: list[tuple[str, list[str]]]) -> list[tuple[str, str]]:
    """(directive, name) of every time source: server/pool/peer host, refclock driver."""
    return [(name, args[0]) for name, args in directives if name in SOURCE_DIRECTIVES and args]


def parse_getent(output: str) -> set[str]:
    """Addresses from ``getent ahosts NAME`` (first column)."""
    return {line.split()[0] for line in output.splitlines() if line.strip()}


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _region_servers(hostvars: dict[str, Any]) -> list[str]:
    return [str(s) for s in required(hostvars, "timesync_ntp_servers")]


def _region_addresses(host: Any, servers: list[str]) -> set[str]:
    addresses = set()
    for name in servers:
        if _is_address(name):
            addresses.add(str(ipaddress.ip_address(name)))
        else:
            addresses |= parse_getent(host.run("getent ahosts %s", name).stdout)
    return addresses


def _linux_only(host: Any) -> None:
    if host.system_info.type != "linux":
        pytest.skip(f"not applicable: chrony is checked on Linux, this is {host.system_info.type}")


# What a state other than "enabled" means for the next boot, where it is not obvious.
NEXT_BOOT = {
    "enabled-runtime": " (enabled only until the next reboot)",
    "linked": " (linked in, but nothing starts it at boot)",
    "linked-runtime": " (linked in until the next reboot, nothing starts it at boot)",
    "masked": " (masked: it cannot be started at all)",
    "absent": " (no such unit)",
}


def _chrony_service(host: Any) -> str:
    return "chrony" if host.system_info.distribution in ("debian", "ubuntu") else "chronyd"


def _read_config(host: Any) -> tuple[str | None, list[tuple[str, str, str]]]:
    """(main file, [(directive, name, file)]) following include/confdir/sourcedir."""
    main = next((p for p in CHRONY_CONF_PATHS if host.file(p).is_file), None)
    if main is None:
        return None, []
    found: list[tuple[str, str, str]] = []
    queue, seen = [main], set()
    while queue:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        directives = parse_directives(host.file(path).content_string)
        found += [(d, n, path) for d, n in configured_sources(directives)]
        for pattern in included_globs(directives):
            if not _SAFE_GLOB.match(pattern):
                found.append(("include", pattern, path))  # cannot expand it: report it
                continue
            listing = host.run(f'for f in {pattern}; do [ -f "$f" ] && echo "$f"; done; true')
            queue += listing.stdout.split()
    return main, found


@pytest.mark.control("ntp_region_servers")
def test_region_servers_are_the_only_time_sources(host: Any, hostvars: dict[str, Any]) -> None:
    _linux_only(host)
    expected = _region_servers(hostvars)
    with host.sudo():
        main, found = _read_config(host)
        assert main is not None, f"no chrony configuration at {' or '.join(CHRONY_CONF_PATHS)}"
        names = {name for directive, name, _ in found if directive != "refclock"}
        foreign = [f"{d} {n} ({f})" for d, n, f in found if d == "refclock" or n not in expected]
        missing = sorted(set(expected) - names)
        evidence = (
            f"configured sources {[f'{d} {n} ({f})' for d, n, f in found]}; "
            f"not the region's: {foreign}; region servers missing: {missing}; "
            f"region servers: {expected}"
        )
        assert not foreign, evidence
        assert not missing, evidence
        live = host.run("chronyc -n sources")
        if live.rc == 0:  # chronyd answers: its sources in use must be the region's too
            allowed = _region_addresses(host, expected)
            in_use = parse_sources(live.stdout)
            stray = [str(s) for s in in_use if s.address not in allowed]
            assert not stray, (
                f"chronyd uses sources that are not the region's: {stray} "
                f"(all: {[str(s) for s in in_use]}; region servers {expected} = {sorted(allowed)})"
            )


@pytest.mark.control("ntp_service_enabled")
def test_chrony_is_installed_running_and_enabled(host: Any, hostvars: dict[str, Any]) -> None:
    _linux_only(host)
    name = _chrony_service(host)
    problems = []
    if not host.package("chrony").is_installed:
        problems.append("package chrony is not installed")
    # systemctl's own words, not testinfra's is_enabled: that one also takes "enabled-runtime"
    # (gone at the next boot), "static", "indirect" and "alias" as enabled.
    enabled, active = unit_states(host, (f"{name}.service",))[f"{name}.service"]
    if active != "active":
        problems.append(f"service {name} is not running ({active})")
    if enabled != "enabled":
        problems.append(
            f"service {name} is {enabled} at boot, not enabled{NEXT_BOOT.get(enabled, '')}"
        )
    assert not problems, "; ".join(problems)


@pytest.mark.control("ntp_source_selected")
def test_a_region_source_is_selected(host: Any, hostvars: dict[str, Any]) -> None:
    _linux_only(host)
    expected = _region_servers(hostvars)
    with host.sudo():
        result = host.run("chronyc -n sources")
        output = (result.stderr or result.stdout).strip()
        assert result.rc == 0, f"`chronyc -n sources` failed (rc {result.rc}): {output}"
        allowed = _region_addresses(host, expected)
    sources = parse_sources(result.stdout)
    selected = [s for s in sources if s.state == "*"]
    assert any(s.address in allowed for s in selected), (
        f"selected source: {[str(s) for s in selected] or 'none'}; all sources: "
        f"{[str(s) for s in sources] or 'none'}; region servers {expected} = {sorted(allowed)}"
    )


# --- Windows Server (one collection per host, judged in windows_timesync.py) ----------------------


@pytest.mark.windows
@pytest.mark.control("ntp_region_servers")
def test_windows_ntp_region_servers(host: Any, hostvars: dict[str, Any]) -> None:
    found = windows_timesync.judge_ntp_region_servers(windows_facts(host), hostvars)
    assert not found, "; ".join(found)


@pytest.mark.windows
@pytest.mark.control("ntp_service_enabled")
def test_windows_ntp_service_enabled(host: Any, hostvars: dict[str, Any]) -> None:
    found = windows_timesync.judge_ntp_service_enabled(windows_facts(host), hostvars)
    assert not found, "; ".join(found)


@pytest.mark.windows
@pytest.mark.control("ntp_source_selected")
def test_windows_ntp_source_selected(host: Any, hostvars: dict[str, Any]) -> None:
    found = windows_timesync.judge_ntp_source_selected(windows_facts(host), hostvars)
    assert not found, "; ".join(found)
