"""The rights report from stored runs: the inventory is read from the run, the diff names
accounts, groups, administrator rights, sudo rules and keys added or removed; both languages."""

from __future__ import annotations

import copy
import csv
import io
import json
from pathlib import Path
from typing import Any

from driftvakt import rights
from driftvakt.cli import main
from driftvakt.exitcodes import Exit

KEY = {"bits": 256, "fingerprint": "SHA256:abcDEF", "comment": "anna@ws", "type": "ED25519"}


def account(name: str, uid: int, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "uid": uid,
        "primary_group": name,
        "groups": [],
        "shell": "/bin/bash",
        "password": "hash",
        "administrator": [],
        "ssh_keys": [],
        "last_login": None,
        **extra,
    }


INVENTORY = {
    "accounts": [
        account("root", 0, password="locked"),  # noqa: S106 - a password class
        account("daemon", 1, shell="/usr/sbin/nologin", password="no_login"),  # noqa: S106,S604
        account("anna", 1000, groups=["sudo"], administrator=["member of sudo"], ssh_keys=[KEY]),
        account("bo", 1001, last_login="Mon Nov 23 10:00:00 +0100 2026"),
    ],
    "sudo_rules": [
        {
            "principals": ["%sudo"],
            "commands": ["ALL"],
            "nopasswd": False,
            "source": "/etc/sudoers: %sudo ALL=(ALL:ALL) ALL",
        }
    ],
    "duplicate_uids": [],
    "duplicate_names": [],
}


def run(run_id: str, started: str, inventories: dict[str, dict[str, Any]]) -> dict[str, Any]:
    results = [
        {
            "host": host,
            "control": rights.SOURCE_CONTROL,
            "status": "pass",
            "evidence": [],
            "reason": "",
            "duration": 0.1,
            "facts": {rights.FACT: inventory},
        }
        for host, inventory in inventories.items()
    ]
    return {
        "id": run_id,
        "started": started,
        "finished": started,
        "inventory": "inventories/lab",
        "limit": None,
        "hosts": sorted(inventories),
        "results": results,
    }


def changed_inventory() -> dict[str, Any]:
    after = copy.deepcopy(INVENTORY)
    anna, bo = after["accounts"][2], after["accounts"][3]
    anna["ssh_keys"] = [{**KEY, "fingerprint": "SHA256:new", "comment": "anna@laptop"}]
    bo["groups"] = ["adm"]
    bo["administrator"] = ["sudo ALL via bo"]
    after["accounts"].append(account("eva", 1002, groups=["sudo"]))
    after["accounts"] = [a for a in after["accounts"] if a["name"] != "daemon"]
    after["sudo_rules"].append(
        {
            "principals": ["bo"],
            "commands": ["ALL"],
            "nopasswd": True,
            "source": "/etc/sudoers.d/bo: bo ALL=(ALL) NOPASSWD: ALL",
        }
    )
    return after


BEFORE = run("aaaa1111", "2026-10-20T06:00:00+00:00", {"web-01": INVENTORY, "db-01": INVENTORY})
AFTER = run("bbbb2222", "2026-11-20T06:00:00+00:00", {"web-01": changed_inventory()})


def test_inventories_are_read_from_the_run_facts() -> None:
    assert set(rights.inventories(AFTER)) == {"web-01"}
    assert rights.inventories({"results": [{"host": "x", "control": "c", "status": "pass"}]}) == {}


def test_the_diff_names_every_kind_of_change() -> None:
    diff = rights.compare(BEFORE, AFTER)
    by_host = {h.host: h for h in diff.hosts}
    assert by_host["db-01"].host_gone and not by_host["web-01"].host_gone
    web = by_host["web-01"]
    assert web.accounts_added == ("eva",)
    assert web.accounts_removed == ("daemon",)
    assert web.sudo_added == ("/etc/sudoers.d/bo: bo ALL=(ALL) NOPASSWD: ALL",)
    assert web.sudo_removed == ()
    changes = {c.account: c for c in web.changed}
    assert changes["anna"].keys_added == ("ED25519 SHA256:new anna@laptop",)
    assert changes["anna"].keys_removed == ("ED25519 SHA256:abcDEF anna@ws",)
    assert changes["bo"].groups_added == ("adm",)
    assert changes["bo"].admin_added == ("sudo ALL via bo",)
    assert changes["eva"].groups_added == ("sudo",)  # a new account shows what it came with
    assert "root" not in changes


def test_an_unchanged_inventory_has_an_empty_diff_and_a_first_run_none() -> None:
    assert rights.compare(BEFORE, BEFORE).is_empty
    assert rights.compare(None, AFTER).before_id is None


def test_html_in_both_languages_with_the_changes() -> None:
    diff = rights.compare(BEFORE, AFTER)
    sv = rights.render_html(AFTER, diff, "sv")
    en = rights.render_html(AFTER, diff, "en")
    assert "Behörighetsrapport" in sv and "Rights report" in en
    assert "konto tillagt" in sv and "account added" in en
    assert "medlem i sudo" in sv and "member of sudo" in en
    assert "20 okt. 2026" in sv and "20 Oct 2026" in en  # compared with, locale dates
    assert "SHA256:new" in sv and "aldrig" in sv and "never" in en
    assert "23 nov. 2026 10:00:00 CET" in sv and "23 Nov 2026, 10:00:00 CET" in en  # lastlog
    assert "<script" not in sv and "http" not in sv


def test_hostile_names_are_escaped() -> None:
    evil = copy.deepcopy(INVENTORY)
    evil["accounts"][3]["name"] = "<img src=x onerror=alert(1)>"
    html = rights.render_html(
        run("c", "2026-11-20T06:00:00+00:00", {"h": evil}), rights.compare(None, AFTER), "en"
    )
    assert "<img" not in html and "&lt;img src=x" in html


def test_csv_has_one_row_per_account_with_fingerprints_only() -> None:
    rows = list(csv.DictReader(io.StringIO(rights.to_csv(BEFORE))))
    assert len(rows) == 8
    anna = next(r for r in rows if r["host"] == "web-01" and r["account"] == "anna")
    assert anna["ssh_key_fingerprints"] == "SHA256:abcDEF"
    assert anna["administrator"] == "member of sudo"


def test_rights_command_json_and_missing_inventory(tmp_path: Path, capsys: Any) -> None:
    (tmp_path / "a.json").write_text(json.dumps(BEFORE))
    (tmp_path / "b.json").write_text(json.dumps(AFTER))
    store = str(tmp_path / "none.db")
    args = ["rights", str(tmp_path / "b.json"), "--compare", str(tmp_path / "a.json")]
    assert main([*args, "--format", "json", "-o", "-", "--store", store]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["compared_with"] == "aaaa1111"
    assert data["changes"][1]["accounts_added"] == ["eva"]
    bare = {**AFTER, "results": []}
    (tmp_path / "c.json").write_text(json.dumps(bare))
    assert main(["rights", str(tmp_path / "c.json"), "--store", store]) == Exit.BAD_INPUT
    assert "no rights inventory" in capsys.readouterr().err


def test_recorded_facts_are_redacted_like_evidence() -> None:
    from driftvakt.checkresult import redact_fact as _redact_fact

    fact = {"accounts": [{"name": "x", "note": "hash $6$salt$abcdef here", "uid": 7}]}
    assert _redact_fact(fact, ("s3cret",)) == {
        "accounts": [{"name": "x", "note": "hash [hash redacted] here", "uid": 7}]
    }
    assert _redact_fact(["pw s3cret"], ("s3cret",)) == ["pw [secret redacted]"]
