"""VPN, tunnel and remote-control software on Windows: nothing that opens a way around the
region's VPN (the Windows side of the services concern; the Linux side is the package denylist in
services_packages.py).

A pure judge of the host's collection (windows_facts.py); the check is in test_services.py.
"""

from __future__ import annotations

import re

from .windows_facts import Facts, HostVars, section

# Products that open a path around the region's VPN: VPN clients and servers, tunnels, remote
# control. Each pattern is searched (case-insensitive) in installed programs' names, services'
# names, display names and binaries, and running processes' names and paths. The region's own
# VPN client is allowed by key (windows_remote_software_allowed). The patterns use only syntax
# .NET and Python regexes share: roles/services/vars/Windows.yml holds the same table.
REMOTE_SOFTWARE: dict[str, str] = {
    "openvpn": r"openvpn|ovpnconnect",
    "wireguard": r"wireguard",
    "tailscale": r"tailscale",
    "zerotier": r"zerotier",
    "ngrok": r"\bngrok\b",
    "cloudflared": r"cloudflared|cloudflare warp",
    "hamachi": r"hamachi",
    "softether": r"softether|\bsevpn",
    "nordvpn": r"nordvpn",
    "expressvpn": r"expressvpn",
    "protonvpn": r"proton ?vpn",
    "mullvad": r"mullvad",
    "cisco_secure_client": r"anyconnect|cisco secure client",
    "globalprotect": r"globalprotect|\bpangp",
    "forticlient": r"forticlient",
    "ivanti_secure_access": r"pulse secure|ivanti secure access",
    "checkpoint_vpn": r"check point.*vpn",
    "teamviewer": r"teamviewer",
    "anydesk": r"anydesk",
    "rustdesk": r"rustdesk",
    "splashtop": r"splashtop",
    "logmein": r"\blogmein\b(?! hamachi)",
    "screenconnect": r"screenconnect|connectwise control",
    "chrome_remote_desktop": r"chrome remote desktop|chromoting",
    "vnc": r"vnc|tvnserver",
    "radmin": r"radmin|\brserver3\b",
}

# Windows' own VPN server: Routing and Remote Access, judged by its service running.
RRAS_SERVICE = "remoteaccess"


def remote_software_allowed(hostvars: HostVars) -> set[str]:
    allowed = {str(k) for k in hostvars.get("windows_remote_software_allowed") or []}
    unknown = sorted(allowed - set(REMOTE_SOFTWARE) - {"rras"})
    if unknown:
        raise LookupError(
            f"windows_remote_software_allowed names unknown products {unknown}; known: "
            f"{sorted([*REMOTE_SOFTWARE, 'rras'])}"
        )
    return allowed


def _remote_product(text: str, allowed: set[str]) -> str | None:
    for key, pattern in REMOTE_SOFTWARE.items():
        if key not in allowed and re.search(pattern, text, re.I):
            return key
    return None


def judge_win_unapproved_remote_software_absent(facts: Facts, hostvars: HostVars) -> list[str]:
    allowed = remote_software_allowed(hostvars)
    found: dict[str, list[str]] = {}
    for program in section(facts, "software").get("Installed") or []:
        name = str(program.get("DisplayName") or "")
        if key := _remote_product(name, allowed):
            found.setdefault(key, []).append(
                f"installed {name} {program.get('DisplayVersion') or ''}".strip()
            )
    services = section(facts, "services")
    for service in services:
        text = " ".join(str(service.get(k) or "") for k in ("Name", "DisplayName", "PathName"))
        if key := _remote_product(text, allowed):
            found.setdefault(key, []).append(
                f"service {service.get('Name')} ({service.get('State')})"
            )
    for process in section(facts, "processes"):
        text = f"{process.get('Name') or ''} {process.get('ExecutablePath') or ''}"
        if key := _remote_product(text, allowed):
            found.setdefault(key, []).append(
                f"process {process.get('Name')} ({process.get('ExecutablePath')})"
            )
    rras = next((s for s in services if str(s.get("Name")).lower() == RRAS_SERVICE), None)
    if "rras" not in allowed and rras and rras.get("State") == "Running":
        found["rras"] = ["service RemoteAccess (Routing and Remote Access) is Running"]
    if not found:
        return []
    return [
        f"unapproved VPN, tunnel or remote-control software ({key}): " + ", ".join(evidence)
        for key, evidence in sorted(found.items())
    ] + [f"approved here (windows_remote_software_allowed): {sorted(allowed) or 'none'}"]
