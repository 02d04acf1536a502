"""On real lab hosts: the rights inventory travels with the audit run, and the rights report's
diff between two stored runs shows exactly an account, a sudo rule and an SSH key added on one
host between them (SKA-SEC-16, RST-6.2.5, LB-ACCESS-REPORT).

Runs on the session's hardened lab (``ci_lab``) with a run store of its own and removes what it
added. ``DRIFTVAKT_TEST_LAB=<name>`` runs it on a lab that is already up instead.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from labkit import audit, driftvakt, inject, lab_possible, shared_lab

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(lab_possible() is not None, reason=str(lab_possible())),
]
HOST, OTHER = "lab-02", "lab-01"
ACCOUNT = "rightsprobe"
RULE = f"{ACCOUNT} ALL=(root) /usr/bin/journalctl"


@pytest.fixture(scope="module")
def lab(request: pytest.FixtureRequest) -> tuple[str, Path]:
    return shared_lab(request)


def test_rights_diff_shows_exactly_the_added_account_rule_and_key(
    lab: tuple[str, Path], tmp_path: Path
) -> None:
    name, inventory = lab
    store = tmp_path / "runs.db"
    key = tmp_path / "probe"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "probe@test", "-f", str(key)],
        check=True,
    )
    public = key.with_suffix(".pub").read_text().strip()
    fingerprint = subprocess.run(
        ["ssh-keygen", "-lf", str(key.with_suffix(".pub"))], capture_output=True, text=True
    ).stdout.split()[1]
    _, first = audit(inventory, tmp_path / "a.json", "--store", str(store))
    try:
        inject(
            name,
            HOST,
            f"useradd -m -s /bin/bash {ACCOUNT}\n"
            f"echo '{RULE}' > /etc/sudoers.d/{ACCOUNT} && chmod 0440 /etc/sudoers.d/{ACCOUNT}\n"
            f"install -d -m 700 -o {ACCOUNT} -g {ACCOUNT} /home/{ACCOUNT}/.ssh\n"
            f"echo '{public}' > /home/{ACCOUNT}/.ssh/authorized_keys\n"
            f"chown {ACCOUNT}: /home/{ACCOUNT}/.ssh/authorized_keys",
        )
        _, second = audit(inventory, tmp_path / "b.json", "--store", str(store))
    finally:
        inject(name, HOST, f"rm -f /etc/sudoers.d/{ACCOUNT}; userdel -r {ACCOUNT} || true")

    out = tmp_path / "rights.json"
    done = driftvakt(
        "rights", second["id"], "--compare", first["id"], "--store", str(store),
        "--format", "json", "-o", str(out), check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    changes = json.loads(out.read_text())["changes"]
    assert changes == [
        {
            "host": HOST,
            "new_host": False,
            "host_gone": False,
            "accounts_added": [ACCOUNT],
            "accounts_removed": [],
            "sudo_rules_added": [f"/etc/sudoers.d/{ACCOUNT}: {RULE}"],
            "sudo_rules_removed": [],
            "accounts_changed": [
                {
                    "account": ACCOUNT,
                    "groups_added": [],
                    "groups_removed": [],
                    "admin_added": [],
                    "admin_removed": [],
                    "keys_added": [f"ED25519 {fingerprint} probe@test"],
                    "keys_removed": [],
                }
            ],
        }
    ]
    html = tmp_path / "rights.html"
    done = driftvakt(
        "rights", second["id"], "--compare", first["id"], "--store", str(store),
        "--lang", "sv", "-o", str(html), check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    text = html.read_text("utf-8")
    assert "konto tillagt" in text and fingerprint in text and OTHER in text
    key_material = public.split()[1]
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("runs.db*")).decode("utf-8", "replace")
    for where in (text, out.read_text(), stored):
        assert key_material not in where  # the fingerprint only, never the key
