"""Never a false pass on what will be in force after the next boot (#12): a check judges the
unit state that decides the next boot, not only what runs now. Real lab host, real systemd."""

from __future__ import annotations

from pathlib import Path

import pytest
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
