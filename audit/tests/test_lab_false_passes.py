"""Never a false pass on what is or will be in force (#12): a check judges the unit state that
decides the next boot, not only what runs now, and the kernel's live state, not only a manager's
view of it. Real lab hosts, real systemd, real nftables and firewalld."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from labkit import audit, inject, lab_possible, statuses

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(lab_possible() is not None, reason=str(lab_possible())),
]
LAB = "ci"


@pytest.mark.fault(
    "host",
    "chrony enabled only for this boot (`systemctl enable --runtime`)",
    'ntp_service_enabled `fail` ("enabled-runtime at boot"); was: pass, via testinfra\'s '
    "is_enabled",
)
def test_a_time_service_enabled_only_until_reboot_fails(ci_lab: Path, tmp_path: Path) -> None:
    inject(
        LAB, "lab-01", "systemctl disable --quiet chrony; systemctl enable --quiet --runtime chrony"
    )
    try:
        _, data = audit(ci_lab, tmp_path / "r.json", "--limit", "lab-01")
    finally:
        inject(
            LAB,
            "lab-01",
            "systemctl disable --quiet --runtime chrony; systemctl enable --quiet chrony",
        )
    assert statuses(data)[("lab-01", "ntp_service_enabled")] == "fail"
    [reason] = [r["reason"] for r in data["results"] if r["control"] == "ntp_service_enabled"]
    assert "enabled-runtime at boot" in reason
    assert "only until the next reboot" in reason
    _, again = audit(ci_lab, tmp_path / "again.json", "--limit", "lab-01")
    assert statuses(again)[("lab-01", "ntp_service_enabled")] == "pass"


def _host_on(inventory: Path, backend: str) -> str:
    for path in sorted((inventory / "host_vars").glob("lab-*.yml")):
        if yaml.safe_load(path.read_text()).get("firewall_backend") == backend:
            return path.stem
    raise AssertionError(f"the lab has no host on {backend}")


@pytest.mark.fault(
    "host",
    "the kernel ruleset flushed under a running firewalld (`nft flush ruleset`)",
    'firewall_inbound_default_deny `fail` ("nothing is filtered"); was: pass, firewalld still '
    "listing its zones",
)
def test_firewalld_zones_over_an_empty_kernel_ruleset_fail(ci_lab: Path, tmp_path: Path) -> None:
    host = _host_on(ci_lab, "firewalld")
    inject(LAB, host, "nft flush ruleset")
    try:
        _, data = audit(ci_lab, tmp_path / "r.json", "--limit", host)
    finally:
        # Not `firewall-cmd --reload`: with its table gone, firewalld's reload fails to delete
        # it and falls back to its panic table that drops everything (seen here: the host cut
        # off). A restart builds the ruleset afresh.
        inject(LAB, host, "systemctl restart firewalld")
    assert statuses(data)[(host, "firewall_inbound_default_deny")] == "fail"
    [reason] = [
        r["reason"] for r in data["results"] if r["control"] == "firewall_inbound_default_deny"
    ]
    assert "nothing is filtered" in reason
    _, again = audit(ci_lab, tmp_path / "again.json", "--limit", host)
    assert statuses(again)[(host, "firewall_inbound_default_deny")] == "pass"
