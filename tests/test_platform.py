"""Platform: a standard OS within vendor support, and a UTF-8 system locale.

Requirements SKA-SRV-01 (standard platform), SKA-SRV-02/RST-9.5.1/SKA-APP-04 (vendor support
followed, lifecycle-managed), SKA-SRV-03 (the hypervisor is recorded as evidence: the output
of ``systemd-detect-virt``; it is a fact, never a failure) and SKA-APP-02 (UTF-8 locale).
The supported releases and their end-of-support dates are in tests/platform_lifecycle.yml,
with the date it was last reviewed and each date's source.
"""

from __future__ import annotations

import datetime
import functools
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from . import windows_platform
from .windows_facts import windows_facts

LIFECYCLE = Path(__file__).with_name("platform_lifecycle.yml")
LOCALE_FILES = ("/etc/default/locale", "/etc/locale.conf")


@dataclass(frozen=True)
class Platform:
    id: str
    version: str
    name: str
    end_of_support: datetime.date
    source: str


@functools.lru_cache(maxsize=4)  # one file for a whole fleet: parsed once, not per host
def load_lifecycle(text: str) -> tuple[datetime.date, tuple[Platform, ...]]:
    """(date reviewed, platforms) from platform_lifecycle.yml's text."""
    data = yaml.safe_load(text)
    platforms = tuple(
        Platform(
            str(p["id"]), str(p["version"]), str(p["name"]), p["end_of_support"], str(p["source"])
        )
        for p in data["platforms"]
    )
    return data["reviewed"], platforms


def parse_os_release(text: str) -> dict[str, str]:
    """KEY=value lines of os-release(5), quotes removed."""
    values = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key and not key.startswith("#"):
            values[key] = " ".join(shlex.split(value)) if value else ""
    return values


def release_key(os_release: dict[str, str]) -> tuple[str, str]:
    """(id, version) as the lifecycle file lists them: SLES by service pack, others by major."""
    os_id = os_release.get("ID", "").lower()
    version = os_release.get("VERSION_ID", "")
    if os_id in ("sles", "sled", "sle_hpc"):
        return "sles", version if "." in version else f"{version}.0"
    return os_id, version.split(".")[0]


def support_verdict(
    os_release: dict[str, str], platforms: Sequence[Platform], today: datetime.date
) -> tuple[bool, str]:
    """(supported, what was found) for a host's os-release on ``today``."""
    os_id, version = release_key(os_release)
    shown = os_release.get("PRETTY_NAME") or f"{os_id} {version}"
    match = next((p for p in platforms if (p.id, p.version) == (os_id, version)), None)
    if match is None:
        listed = ", ".join(p.name for p in platforms)
        return False, f"{shown} ({os_id} {version}) is not a standard platform; listed: {listed}"
    if today > match.end_of_support:
        return False, (
            f"{match.name} left vendor support on {match.end_of_support} (today {today}; "
            f"source: {match.source})"
        )
    return True, f"{match.name} supported until {match.end_of_support} (source: {match.source})"


def parse_lang(text: str) -> str | None:
    """The LANG= value of /etc/default/locale or /etc/locale.conf (last one wins)."""
    lang = None
    for line in text.splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key.strip() == "LANG":
            lang = " ".join(shlex.split(value)) if value else ""
    return lang


def normalise_locale(name: str) -> str:
    """sv_SE.UTF-8 and sv_SE.utf8 are the same locale (``locale -a`` prints the latter)."""
    base, _, codeset = name.partition(".")
    codeset = re.sub(r"[^a-z0-9]", "", codeset.lower())
    return f"{base}.{codeset}" if codeset else base


def is_utf8(name: str) -> bool:
    return normalise_locale(name).endswith(".utf8")


def _linux_only(host: Any) -> None:
    if host.system_info.type != "linux":
        pytest.skip(f"not applicable: checked on Linux here, this is {host.system_info.type}")


@pytest.mark.control("platform_os_supported")
def test_os_is_a_supported_standard_platform(host: Any, hostvars: dict[str, Any]) -> None:
    _linux_only(host)
    reviewed, platforms = load_lifecycle(LIFECYCLE.read_text("utf-8"))
    os_release = parse_os_release(host.file("/etc/os-release").content_string)
    virt = host.run("systemd-detect-virt")  # SKA-SRV-03: recorded as evidence, never judged
    hypervisor = virt.stdout.strip() or f"unknown (rc {virt.rc})"
    supported, found = support_verdict(os_release, platforms, datetime.date.today())
    assert supported, f"{found}; hypervisor: {hypervisor}; lifecycle list reviewed {reviewed}"


@pytest.mark.control("platform_utf8_locale")
def test_system_locale_is_utf8(host: Any, hostvars: dict[str, Any]) -> None:
    _linux_only(host)
    path = next((p for p in LOCALE_FILES if host.file(p).is_file), None)
    assert path is not None, f"no system locale configured ({' or '.join(LOCALE_FILES)})"
    lang = parse_lang(host.file(path).content_string)
    assert lang, f"{path} sets no LANG"
    available = {normalise_locale(n) for n in host.run("locale -a").stdout.split()}
    assert is_utf8(lang), f"system default LANG={lang} ({path}) is not a UTF-8 locale"
    assert normalise_locale(lang) in available, (
        f"system default LANG={lang} ({path}) is not installed; `locale -a`: {sorted(available)}"
    )


# --- Windows Server (one collection per host, judged in windows_platform.py) ----------------------


@pytest.mark.windows
@pytest.mark.control("win_os_supported")
def test_windows_os_supported(host: Any, hostvars: dict[str, Any]) -> None:
    found = windows_platform.judge_win_os_supported(windows_facts(host), hostvars)
    assert not found, "; ".join(found)


@pytest.mark.windows
@pytest.mark.control("win_system_locale_swedish")
def test_windows_system_locale_swedish(host: Any, hostvars: dict[str, Any]) -> None:
    found = windows_platform.judge_win_system_locale_swedish(windows_facts(host), hostvars)
    assert not found, "; ".join(found)
