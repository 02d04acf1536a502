"""awx/driftvakt.yml, the AWX objects to import (``awx import``), kept true to the playbooks:
each job template runs a playbook that exists and reads the variables its survey sets; the
nightly audit is sliced; the credential type injects the variable the store reads; and the
export playbook, run for real, exports a run group."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from driftvakt.export import signing
from driftvakt.store import Store
from driftvakt.store.location import ENV

PROJECT = Path(__file__).resolve().parents[2]
DEFINITIONS = yaml.safe_load((PROJECT / "awx" / "driftvakt.yml").read_text("utf-8"))
TEMPLATES = {t["name"]: t for t in DEFINITIONS["job_templates"]}


def template_fields(text: str) -> set[str]:
    return set(re.findall(r"\{\{\s*(\w+)\s*\}\}", text))


def test_the_three_job_templates_run_playbooks_that_exist() -> None:
    assert {t["playbook"] for t in TEMPLATES.values()} == {
        "playbooks/site.yml", "playbooks/audit.yml", "playbooks/export.yml"
    }  # fmt: skip
    for template in TEMPLATES.values():
        assert (PROJECT / template["playbook"]).is_file()
        assert template["project"]["name"] == "driftvakt"


@pytest.mark.parametrize(
    ("name", "reads_it"),
    [("driftvakt harden", "site.yml"), ("driftvakt export", "playbooks/export.yml")],
)
def test_each_survey_sets_a_variable_its_playbook_reads(name: str, reads_it: str) -> None:
    template = TEMPLATES[name]
    assert template["survey_enabled"] is True
    for question in template["related"]["survey_spec"]["spec"]:
        assert question["type"] in {"text", "integer", "multiplechoice"}
        assert re.search(rf"\b{question['variable']}\b", (PROJECT / reads_it).read_text())


def test_hardening_asks_for_the_change_reference_the_gate_wants() -> None:
    (question,) = TEMPLATES["driftvakt harden"]["related"]["survey_spec"]["spec"]
    assert question["variable"] == "change_ref" and question["required"] is True
    # the gate's own pattern: 3..64 characters
    assert (question["min"], question["max"]) == (3, 64)


def test_the_nightly_audit_is_sliced_with_ssh_and_the_run_store() -> None:
    audit = TEMPLATES["driftvakt nightly audit"]
    assert audit["job_slice_count"] > 1 and audit["become_enabled"] is True
    kinds = {c["kind"] for c in audit["related"]["credentials"]}
    assert kinds == {"ssh", "cloud"}


def test_the_credential_type_injects_the_store_the_engine_reads() -> None:
    (kind,) = DEFINITIONS["credential_types"]
    fields = {f["id"] for f in kind["inputs"]["fields"]}
    injected = kind["injectors"]["env"]
    assert injected[ENV] == "{{ url }}"
    assert set().union(*(template_fields(v) for v in injected.values())) <= fields
    assert set(kind["inputs"]["required"]) <= fields
    secret = [f for f in kind["inputs"]["fields"] if f["id"] == "password"]
    assert secret and secret[0]["secret"] is True
    action = (PROJECT / "plugins" / "action" / "driftvakt_audit.py").read_text("utf-8")
    assert f'"{ENV}"' in action
    names = {c["name"] for c in DEFINITIONS["credentials"]}
    for template in TEMPLATES.values():
        for credential in template["related"]["credentials"]:
            assert credential["kind"] == "ssh" or credential["name"] in names


def stored_group(path: Path) -> None:
    def run(run_id: str, host: str) -> dict[str, Any]:
        return {"id": run_id, "started": "2026-03-02T02:30:00+00:00",
                "finished": "2026-03-02T02:31:00+00:00", "user": "awx", "driftvakt_version": "t",
                "baseline_revision": "t", "inventory": "inv", "limit": host,
                "summary": {"pass": 1, "fail": 0, "error": 0, "waived": 0, "not_applicable": 0},
                "run_group": "awx-7", "hosts": [host],
                "results": [{"host": host, "control": "ssh_root_login_disabled",
                             "status": "pass", "evidence": [], "reason": "",
                             "duration": 0.1}]}  # fmt: skip

    with Store(path) as store:
        store.save(run("s1", "a"))
        store.save(run("s2", "b"))


def test_the_export_playbook_exports_every_run_of_a_group(tmp_path: Path) -> None:
    store = tmp_path / "runs.db"
    stored_group(store)
    key = tmp_path / "signing.key"
    signing.generate(key, None)
    binaries = Path(sys.executable).parent
    done = subprocess.run(
        [str(binaries / "ansible-playbook"), "-i", "localhost,", "playbooks/export.yml",
         "-e", "driftvakt_run_group=awx-7", "-e", f"driftvakt_signing_key={key}",
         "-e", f"driftvakt_export_dir={tmp_path / 'out'}",
         "-e", f"ansible_python_interpreter={sys.executable}"],  # this machine's, as an EE's
        cwd=PROJECT, capture_output=True, text=True, timeout=300, check=False,
        env=dict(os.environ, **{ENV: str(store)}, ANSIBLE_CONFIG=str(PROJECT / "ansible.cfg"),
                 PATH=f"{binaries}:{os.environ['PATH']}"),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert len(list((tmp_path / "out").glob("*.tar"))) == 2
