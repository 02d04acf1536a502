"""Which checks apply to which host, by the inventory alone: Linux checks skip Windows hosts
and Windows checks (marked ``windows``) skip the rest, before anything is read from the host.

One rule, used by the suites' autouse fixture (when pytest runs the checks) and by the
engine's direct evaluation (checkrun.py), so both say the same for every host.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

WINDOWS_CONNECTIONS = ("winrm", "psrp")  # psrp hosts are reached over WinRM too


def is_windows(hostvars: Mapping[str, Any]) -> bool:
    """Windows by the inventory: reached over WinRM/PSRP, or ansible_os_family Windows."""
    return (
        str(hostvars.get("ansible_connection")) in WINDOWS_CONNECTIONS
        or hostvars.get("ansible_os_family") == "Windows"
    )


def platform_mismatch(name: str, windows_check: bool, windows_host: bool) -> str | None:
    """Why a check does not apply to this host (its skip reason), or None when it does."""
    if windows_check and not windows_host:
        return f"not applicable: a Windows check, and {name} is not a Windows host"
    if windows_host and not windows_check:
        return f"not applicable: a Linux check, and {name} is a Windows host"
    return None
