"""Never a false pass on what is or will be in force (#12): a check judges the unit state that
decides the next boot, not only what runs now, and the kernel's live state, not only a manager's
view of it. Real lab hosts, real systemd, real nftables and firewalld."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from labkit import CI_LAB, audit, inject, lab_possible, statuses

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(lab_possible() is not None, reason=str(lab_possible())),
]
LAB = CI_LAB


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


def _reason(data: dict[str, Any], host: str, control: str) -> str:
    [reason] = [
        r.get("reason", "")
        for r in data["results"]
        if r["host"] == host and r["control"] == control
    ]
    return str(reason)


def _drift_then_repair(
    inventory: Path, tmp_path: Path, host: str, drift: str, repair: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Audit the host with the drift in place, repair it, audit again."""
    inject(LAB, host, drift)
    try:
        _, drifted = audit(inventory, tmp_path / "drifted.json", "--limit", host)
    finally:
        inject(LAB, host, repair)
    _, repaired = audit(inventory, tmp_path / "repaired.json", "--limit", host)
    return drifted, repaired


# The saved configuration that the next boot or reload applies, both backends.

NFT_SAVED = "/etc/nftables.conf"


@pytest.mark.fault(
    "host",
    "nftables: the saved ruleset (/etc/nftables.conf) set to policy accept, live ruleset intact",
    'firewall_inbound_default_deny `fail` ("the saved ruleset … loaded at the next boot"); was: '
    "pass, only the live ruleset judged",
)
def test_nftables_saved_ruleset_that_accepts_everything_fails(ci_lab: Path, tmp_path: Path) -> None:
    host = _host_on(ci_lab, "nftables")
    drifted, repaired = _drift_then_repair(
        ci_lab,
        tmp_path,
        host,
        f"cp -p {NFT_SAVED} /root/nftables.conf.kept; sed -i 's/policy drop;/policy accept;/' "
        f"{NFT_SAVED}",
        f"mv /root/nftables.conf.kept {NFT_SAVED}",
    )
    assert statuses(drifted)[(host, "firewall_inbound_default_deny")] == "fail"
    reason = _reason(drifted, host, "firewall_inbound_default_deny")
    assert f"the saved ruleset {NFT_SAVED} (loaded at the next boot or restart)" in reason
    assert statuses(repaired)[(host, "firewall_inbound_default_deny")] == "pass"


@pytest.mark.fault(
    "host",
    "nftables: an extra open port (tcp/2323) in the saved ruleset only",
    "firewall_approved_paths_only `fail` naming the saved ruleset and the port; was: pass",
)
def test_nftables_port_opened_in_the_saved_ruleset_only_fails(ci_lab: Path, tmp_path: Path) -> None:
    host = _host_on(ci_lab, "nftables")
    drifted, repaired = _drift_then_repair(
        ci_lab,
        tmp_path,
        host,
        f"cp -p {NFT_SAVED} /root/nftables.conf.kept; "
        f'sed -i \'s/iif "lo" accept/iif "lo" accept\\n\\t\\ttcp dport 2323 accept/\' {NFT_SAVED}; '
        f"grep -q 'dport 2323' {NFT_SAVED}",
        f"mv /root/nftables.conf.kept {NFT_SAVED}",
    )
    assert statuses(drifted)[(host, "firewall_approved_paths_only")] == "fail"
    reason = _reason(drifted, host, "firewall_approved_paths_only")
    assert f"the saved ruleset {NFT_SAVED}" in reason and "2323" in reason
    assert "accepts outside the approved paths: " not in reason.split("the saved ruleset")[0]
    assert statuses(repaired)[(host, "firewall_approved_paths_only")] == "pass"


@pytest.mark.fault(
    "host",
    "nftables: a saved ruleset that no longer loads (syntax error)",
    'firewall_inbound_default_deny `fail` ("does not load … leaves the host unfiltered")',
)
def test_nftables_saved_ruleset_that_does_not_load_fails(ci_lab: Path, tmp_path: Path) -> None:
    host = _host_on(ci_lab, "nftables")
    drifted, repaired = _drift_then_repair(
        ci_lab,
        tmp_path,
        host,
        f"cp -p {NFT_SAVED} /root/nftables.conf.kept; echo 'this is not nft' >> {NFT_SAVED}",
        f"mv /root/nftables.conf.kept {NFT_SAVED}",
    )
    assert statuses(drifted)[(host, "firewall_inbound_default_deny")] == "fail"
    assert "leaves the host unfiltered" in _reason(drifted, host, "firewall_inbound_default_deny")
    assert statuses(repaired)[(host, "firewall_inbound_default_deny")] == "pass"


@pytest.mark.fault(
    "host",
    "firewalld: a port opened in the permanent configuration only (`--permanent --add-port`)",
    "firewall_approved_paths_only `fail` naming the permanent configuration; was: pass, only "
    "runtime zones judged",
)
def test_firewalld_port_opened_permanently_only_fails(ci_lab: Path, tmp_path: Path) -> None:
    host = _host_on(ci_lab, "firewalld")
    drifted, repaired = _drift_then_repair(
        ci_lab,
        tmp_path,
        host,
        "firewall-cmd -q --permanent --add-port=2323/tcp",
        "firewall-cmd -q --permanent --remove-port=2323/tcp",
    )
    assert statuses(drifted)[(host, "firewall_approved_paths_only")] == "fail"
    reason = _reason(drifted, host, "firewall_approved_paths_only")
    assert "the permanent configuration (in force after the next reload or boot)" in reason
    assert "2323" in reason
    assert statuses(repaired)[(host, "firewall_approved_paths_only")] == "pass"


# The kernel's live state, not the manager's view, on the nftables backend.


@pytest.mark.fault(
    "host",
    "nftables: the kernel ruleset flushed while nftables.service stays active",
    "firewall_inbound_default_deny `fail` (no input chain with policy drop)",
)
def test_nftables_service_active_over_an_empty_kernel_ruleset_fails(
    ci_lab: Path, tmp_path: Path
) -> None:
    host = _host_on(ci_lab, "nftables")
    drifted, repaired = _drift_then_repair(
        ci_lab, tmp_path, host, "nft flush ruleset", "systemctl restart nftables"
    )
    assert statuses(drifted)[(host, "firewall_inbound_default_deny")] == "fail"
    assert "no input chain with policy drop" in _reason(
        drifted, host, "firewall_inbound_default_deny"
    )
    assert statuses(repaired)[(host, "firewall_inbound_default_deny")] == "pass"


# The unit state that decides the next boot, both backends.


@pytest.mark.fault(
    "host",
    "the firewall's unit enabled only until reboot (`enable --runtime`), either backend",
    "firewall_inbound_default_deny `fail` (enabled-runtime named)",
)
@pytest.mark.parametrize("backend", ["nftables", "firewalld"])
def test_a_firewall_enabled_only_until_reboot_fails(
    ci_lab: Path, tmp_path: Path, backend: str
) -> None:
    host = _host_on(ci_lab, backend)
    drifted, repaired = _drift_then_repair(
        ci_lab,
        tmp_path,
        host,
        f"systemctl disable --quiet {backend}; systemctl enable --quiet --runtime {backend}",
        f"systemctl disable --quiet --runtime {backend}; systemctl enable --quiet {backend}",
    )
    assert statuses(drifted)[(host, "firewall_inbound_default_deny")] == "fail"
    assert "enabled-runtime" in _reason(drifted, host, "firewall_inbound_default_deny")
    assert statuses(repaired)[(host, "firewall_inbound_default_deny")] == "pass"
