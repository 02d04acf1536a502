"""Write ``inventories/lab*/``: a plain Ansible inventory for the lab hosts.

``ansible``, ``ansible-playbook``, testinfra and ``driftvakt audit`` read it as they are. The lab
services host is not in it: it is lab furniture, not a host to harden.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import yaml

from driftvakt.lab import pki
from driftvakt.lab.config import LabConfig, LabHost
from driftvakt.lab.rootfs import LAB_ADMIN

# crypto_certificates_valid: where each lab host keeps the certificate the lab CA issued it.
LAB_CERT_PATH = "/etc/ssl/certs/driftvakt-lab-host.pem"
LAB_KEY_PATH = "/etc/ssl/private/driftvakt-lab-host.key"
# services_app_components: the lab's stand-in application (a static file server on loopback).
LAB_APP = {
    "name": "labapp",
    "user": "labapp",
    "exec": "/usr/bin/python3 -m http.server 8731 --bind 127.0.0.1 --directory /usr/share/doc",
    "description": "driftvakt lab application (static files on loopback)",
}

HEADER = "# Written by `driftvakt lab up`; rewritten on every run, do not edit.\n"


def firewall_backend(host: LabHost, position: int) -> str:
    """Every third lab host runs firewalld (the RHEL/SLES default); the rest nftables."""
    return "firewalld" if position % 3 == 0 else "nftables"


def _dump(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + "---\n" + yaml.safe_dump(data, sort_keys=False, width=120))


# Controls a container cannot satisfy because the facility is the machine's kernel's, not the
# host's (docs/lab.md), or because the lab lacks the service they need (a backup server).
# They are waived openly, with the product's own mechanism, never passed.
LAB_LIMITED_CONTROLS = {
    "auditd_running": "systemd-nspawn withholds the kernel audit socket from containers, and the "
    "audit subsystem is one per kernel: auditd cannot run in a lab host (docs/lab.md)",
    "backup_agent_running": "the lab has no backup server and its mirror carries no backup agent: "
    "backup_required is false in the lab (not applicable); the check is proven by unit tests "
    "(audit/tests/test_parse_backup.py)",
}


def _waivers(hosts: list[LabHost]) -> dict[str, Any]:
    from driftvakt.catalog import controls

    known = controls()
    return {
        "waivers": [
            {
                "control": cid,
                "hosts": ["lab"],
                "reason": reason,
                "risk_analysis": "docs/lab.md#limits",
                "approver": "driftvakt lab (not a real host)",
                "expires": "2099-12-31",
            }
            for cid, reason in LAB_LIMITED_CONTROLS.items()
            if cid in known
        ]
    }


def write(cfg: LabConfig, hosts: list[LabHost]) -> Path:
    svc = cfg.services_host()
    lab_pki = pki.ensure(cfg.state / "pki", cfg.name, [h.name for h in hosts])
    final = cfg.inventory
    tmp = final.with_name(final.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    _dump(
        tmp / "hosts.yml",
        {
            "all": {
                "children": {"lab": {"hosts": {h.name: {"ansible_host": h.address} for h in hosts}}}
            }
        },
    )
    _dump(
        tmp / "group_vars" / "all.yml",
        {
            "ansible_user": LAB_ADMIN,
            "ansible_become": True,
            "ansible_ssh_private_key_file": str(cfg.key),
            "ansible_ssh_common_args": (
                f"-o UserKnownHostsFile={cfg.known_hosts} -o StrictHostKeyChecking=yes"
            ),
            "ansible_python_interpreter": "/usr/bin/python3",
            # The region's baseline values, lab edition (see inventories/example for a region's).
            "timesync_ntp_servers": [svc.address],
            "firewall_approved_paths": [
                {
                    "name": "management-ssh",
                    "source": f"{cfg.gateway}/32",
                    "destination": "all",
                    "proto": "tcp",
                    "port": 22,
                },
            ],
            "logging_central_host": svc.address,
            # The lab's only administrator is the automation account Ansible and the auditor use.
            "accounts_admins": [LAB_ADMIN],
            "accounts_automation": [LAB_ADMIN],
            # auditd cannot run in a container (no kernel audit socket, docs/lab.md): it is
            # configured and enabled, not started; auditd_running reports that, honestly.
            "logging_auditd_start": False,
            # services_listeners_allowed: sshd is the only approved listener (chronyd listens on
            # loopback only); the lab lets the role stop a rogue listener's service, which is
            # what its drift test proves.
            "services_allowed_listeners": [{"port": 22, "proto": "tcp", "process": "sshd"}],
            "services_stop_unapproved": True,
            # antivirus: ClamAV, offline (the lab has no internet): a locally built signature
            # database instead of freshclam's downloads (roles/antivirus/README.md).
            "antivirus_vendor": "clamav",
            "antivirus_clamav_offline_signatures": True,
            # backup_agent_running: no backup agent in the lab mirror; not applicable here.
            "backup_required": False,
            # crypto_certificates_valid: the lab CA (generated by `lab up`, audit/driftvakt/lab/
            # pki.py) is the only approved CA; the role deploys it and each host's certificate.
            "crypto_ca_certificates": [{"name": "driftvakt-lab-ca", "src": str(lab_pki.ca_cert)}],
            "crypto_approved_cas": [lab_pki.ca_fingerprint],
            "crypto_certificate_min_days": 30,
            # services_app_components: one harmless application run the way the baseline wants.
            "services_app_components": [LAB_APP],
            "driftvakt_lab": {
                "services_host": svc.address,
                "mirror_url": f"http://{svc.address}/debian",
                "sftp": {
                    "host": svc.address,
                    "port": 22,
                    "user": "driftpartner",
                    "key": str(cfg.sftp_key),
                    "known_hosts": str(cfg.known_hosts),
                },
            },
        },
    )
    _dump(final.with_name(final.name + ".waivers.yml"), _waivers(hosts))
    for position, host in enumerate(hosts, start=1):
        _dump(
            tmp / "host_vars" / f"{host.name}.yml",
            {
                "firewall_backend": firewall_backend(host, position),
                "crypto_certificates": [
                    {
                        "path": LAB_CERT_PATH,
                        "src": str(lab_pki.host_cert(host.name)),
                        "key_path": LAB_KEY_PATH,
                        "key_src": str(lab_pki.host_key(host.name)),
                    }
                ],
            },
        )
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    return final
