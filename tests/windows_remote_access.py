"""Remote access to Windows: how a host is reached, RDP and WinRM.

Pure judges of the host's collection (windows_facts.py); each returns the problems found
(empty: compliant). The checks are in test_remote_access.py.
"""

from __future__ import annotations

from typing import Any

from .windows_facts import Facts, HostVars, section


def _rdp(facts: Facts, name: str) -> Any:
    rdp = section(facts, "rdp")
    policy = (rdp.get("Policies") or {}).get(name)
    return policy if policy is not None else (rdp.get("RdpTcp") or {}).get(name)


def judge_win_rdp_nla_tls(facts: Facts, hostvars: HostVars) -> list[str]:
    rdp = section(facts, "rdp")
    deny = (rdp.get("Policies") or {}).get("fDenyTSConnections")
    deny = deny if deny is not None else (rdp.get("Local") or {}).get("fDenyTSConnections")
    if deny == 1:
        return []  # RDP is off: nothing to protect
    problems = []
    if _rdp(facts, "UserAuthentication") != 1:
        problems.append(
            f"RDP UserAuthentication (NLA) is {_rdp(facts, 'UserAuthentication')}, expected 1"
        )
    if _rdp(facts, "SecurityLayer") != 2:
        problems.append(f"RDP SecurityLayer is {_rdp(facts, 'SecurityLayer')}, expected 2 (TLS)")
    return problems


def judge_win_rdp_idle_limit(facts: Facts, hostvars: HostVars) -> list[str]:
    limit_ms = int(hostvars.get("session_lock_tmout", 900)) * 1000
    idle = (section(facts, "rdp").get("Policies") or {}).get("MaxIdleTime")
    if not isinstance(idle, int) or idle == 0 or idle > limit_ms:
        return [
            f"RDP idle session limit (MaxIdleTime) is {idle} ms, at most {limit_ms} ms required"
        ]
    return []


def judge_win_winrm_https_only(facts: Facts, hostvars: HostVars) -> list[str]:
    winrm = section(facts, "winrm")
    listeners = winrm.get("Listeners") or []
    problems = []
    if not any(
        str(x.get("Transport")).upper() == "HTTPS" and x.get("CertificateThumbprint")
        for x in listeners
    ):
        problems.append(
            f"no HTTPS listener with a certificate (listeners: "
            f"{[(x.get('Transport'), x.get('Port')) for x in listeners]})"
        )
    if str(winrm.get("AllowUnencrypted")).lower() != "false":
        problems.append(f"WinRM AllowUnencrypted is {winrm.get('AllowUnencrypted')}")
    http = any(str(x.get("Transport")).upper() == "HTTP" for x in listeners)
    if http and str(winrm.get("BasicAuth")).lower() != "false":
        problems.append("Basic authentication is on while an HTTP listener exists")
    return problems
