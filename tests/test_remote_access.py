"""Remote access: how a Windows host is reached (RDP, WinRM). Software that opens a way around
the region's VPN is a services check (test_services.py), beside its Linux sibling.

Requirements as in the catalog (audit/driftvakt/catalog/controls/). The checks read the host's
one collection and ask the judges in windows_remote_access.py; SSH, the Linux way in, has its
own module (test_ssh.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from . import windows_remote_access
from .windows_facts import windows_facts

# --- Windows Server (one collection per host, judged in windows_remote_access.py) -----------------


@pytest.mark.windows
@pytest.mark.control("win_rdp_nla_tls")
def test_windows_rdp_nla_tls(host: Any, hostvars: dict[str, Any]) -> None:
    found = windows_remote_access.judge_win_rdp_nla_tls(windows_facts(host), hostvars)
    assert not found, "; ".join(found)


@pytest.mark.windows
@pytest.mark.control("win_rdp_idle_limit")
def test_windows_rdp_idle_limit(host: Any, hostvars: dict[str, Any]) -> None:
    found = windows_remote_access.judge_win_rdp_idle_limit(windows_facts(host), hostvars)
    assert not found, "; ".join(found)


@pytest.mark.windows
@pytest.mark.control("win_winrm_https_only")
def test_windows_winrm_https_only(host: Any, hostvars: dict[str, Any]) -> None:
    found = windows_remote_access.judge_win_winrm_https_only(windows_facts(host), hostvars)
    assert not found, "; ".join(found)
