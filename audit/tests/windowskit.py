"""Windows collections for the tests: the fixtures (shaped after the cmdlets' documented
output) and the inventory they are judged with."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures" / "windows"
HOSTVARS: dict[str, Any] = {
    "inventory_hostname": "win01.region.example",
    "group_names": ["windows"],
    "timesync_ntp_servers": ["ntp1.region.example", "ntp2.region.example"],
    "firewall_approved_paths": [
        {
            "name": "management-winrm",
            "source": "10.20.0.0/27",
            "destination": "all",
            "proto": "tcp",
            "port": 5986,
        },
        {
            "name": "app-https",
            "source": "10.10.0.0/16",
            "destination": "windows",
            "proto": "tcp",
            "port": 443,
        },
        {
            "name": "db-from-app",
            "source": "10.20.30.11/32",
            "destination": "db01",
            "proto": "tcp",
            "port": 5432,
        },
    ],
    "windows_firewall_exceptions": ["CoreNet-ICMP6-NDA-In"],
    "windows_local_admins": ["svc-ansible", "REGION\\adm-anna"],
    "windows_app_services": ["DriftvaktDemoApp"],
    "logging_central_host": "loghost.region.example",
    "session_lock_tmout": 900,
    "backup_required": True,
    "backup_agent": "veeam",
    "windows_remote_software_allowed": ["forticlient"],
    # crypto_certificates_valid: the host's TLS certificate by thumbprint; the region's issuing
    # CA approved by its SHA-256 fingerprint (the fixtures' chain element 1).
    "crypto_certificates": [{"thumbprint": "8D3F2A61C0E94B7A5D1E2F3C4B5A69788796A5B4"}],
    "crypto_approved_cas": ["5b8e2f0c7d6a41e39b2c8f4a1d0e7c6b5a49382716f5e4d3c2b1a09f8e7d6c5b"],
}


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data
