"""Faults on real lab hosts: each gives `error` with a one-line actionable reason, never `pass`,
and the rest of the fleet is audited as usual."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from labkit import (
    BIN,
    CI_LAB,
    PROJECT,
    audit,
    console,
    driftvakt,
    lab_possible,
    netns_pids,
    playbook,
)

from driftvakt.catalog import controls

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(lab_possible() is not None, reason=str(lab_possible())),
]
LAB = CI_LAB
CANARY = "Canary-Secret-7f3a9c"


def _variant(inventory: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "inventory"
    shutil.copytree(inventory, copy)
    waivers = inventory.with_name(inventory.name + ".waivers.yml")
    if waivers.exists():
        shutil.copy(waivers, copy.with_name("inventory.waivers.yml"))
    return copy


def _group_vars(inv: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((inv / "group_vars" / "all.yml").read_text())
    return data


def _names(known_hosts_line: str, host: str) -> bool:
    return host in known_hosts_line.split()[0].split(",")


def _with_known_hosts(
    inventory: Path, tmp_path: Path, forge: Callable[[list[str]], list[str]]
) -> Path:
    """A copy of the inventory whose known_hosts is the lab's with ``forge`` applied."""
    inv = _variant(inventory, tmp_path)
    group = _group_vars(inv)
    known = Path(group["ansible_ssh_common_args"].split("UserKnownHostsFile=")[1].split()[0])
    forged = tmp_path / "known_hosts"
    forged.write_text("\n".join(forge(known.read_text().splitlines())) + "\n")
    group["ansible_ssh_common_args"] = (
        f"-o UserKnownHostsFile={forged} -o StrictHostKeyChecking=yes"
    )
    (inv / "group_vars" / "all.yml").write_text(yaml.safe_dump(group))
    return inv


def _by_host(data: dict[str, Any]) -> dict[str, set[str]]:
    hosts: dict[str, set[str]] = {}
    for r in data["results"]:
        hosts.setdefault(r["host"], set()).add(r["status"])
    return hosts


def _reasons(data: dict[str, Any], host: str) -> set[str]:
    return {r["reason"] for r in data["results"] if r["host"] == host}


def _assert_only_host_errors(data: dict[str, Any], host: str, words: str, kind: str) -> None:
    statuses = _by_host(data)
    assert {r.get("error_kind") for r in data["results"] if r["host"] == host} == {kind}
    assert statuses[host] == {"error"}, f"{host} must be error for every control"
    assert {r["control"] for r in data["results"] if r["host"] == host} == set(controls())
    assert all(words in reason for reason in _reasons(data, host)), _reasons(data, host)
    assert all("\n" not in reason for reason in _reasons(data, host))
    for other, seen in statuses.items():
        if other != host:
            assert "error" not in seen, f"{other} must be audited as usual"


@pytest.mark.fault(
    "host",
    "a host that is down (no route, nothing answers)",
    "that host `error` (unreachable), every other host audited; exit 2",
)
def test_host_down(ci_lab: Path, tmp_path: Path) -> None:
    inv = _variant(ci_lab, tmp_path)
    hosts = yaml.safe_load((inv / "hosts.yml").read_text())
    lab_hosts = hosts["all"]["children"]["lab"]["hosts"]
    subnet = lab_hosts["lab-01"]["ansible_host"].rsplit(".", 1)[0]
    lab_hosts["lab-ghost"] = {"ansible_host": f"{subnet}.250"}
    (inv / "hosts.yml").write_text(yaml.safe_dump(hosts))
    code, data = audit(inv, tmp_path / "r.json", "--timeout", "10")
    _assert_only_host_errors(data, "lab-ghost", "lab-ghost", "unreachable")
    assert code == 2


@pytest.mark.fault(
    "host",
    "wrong SSH key for one host",
    'that host `error` (auth: "authentication failed for ops@…"); exit 2',
)
def test_wrong_key(ci_lab: Path, tmp_path: Path) -> None:
    inv = _variant(ci_lab, tmp_path)
    key = tmp_path / "wrong_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    (inv / "host_vars" / "lab-02.yml").write_text(
        (inv / "host_vars" / "lab-02.yml").read_text() + f"ansible_ssh_private_key_file: {key}\n"
    )
    code, data = audit(inv, tmp_path / "r.json")
    _assert_only_host_errors(data, "lab-02", "authentication failed for ops@", "auth")
    assert code == 2


@pytest.mark.fault(
    "host",
    "a changed host key",
    'that host `error` (host_key: "possible man-in-the-middle"), nothing audited on it',
)
def test_changed_host_key_is_refused_as_possible_mitm(ci_lab: Path, tmp_path: Path) -> None:
    other = tmp_path / "other_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    fake = " ".join(other.with_suffix(".pub").read_text().split()[:2])
    inv = _with_known_hosts(
        ci_lab,
        tmp_path,
        lambda lines: [
            f"{line.split()[0]} {fake}" if _names(line, "lab-01") else line for line in lines
        ],
    )
    code, data = audit(inv, tmp_path / "r.json")
    _assert_only_host_errors(data, "lab-01", "man-in-the-middle", "host_key")
    assert code == 2


@pytest.mark.fault(
    "host",
    "an `@revoked` line in known_hosts",
    'that host `error` (host_key: "is marked @revoked"); was: the whole run ended',
)
def test_revoked_host_key_is_refused_for_that_host_only(ci_lab: Path, tmp_path: Path) -> None:
    # An OpenSSH `@revoked` line used to end the whole audit with a traceback (paramiko cannot
    # read the marker); now the revoked host is error and every other host is audited.
    inv = _with_known_hosts(
        ci_lab,
        tmp_path,
        lambda lines: lines + [f"@revoked {line}" for line in lines if _names(line, "lab-02")],
    )
    code, data = audit(inv, tmp_path / "r.json")
    _assert_only_host_errors(data, "lab-02", "is marked @revoked", "host_key")
    assert code == 2


@pytest.mark.fault(
    "host",
    "sshd killed on a host mid-audit",
    'its waiting checks `error` ("connection lost"), never pass',
)
def test_sshd_killed_mid_audit(ci_lab: Path, tmp_path: Path) -> None:
    # A command the checks run kills every sshd on the host while the batch is running.
    fake = "/usr/local/sbin/chronyc"
    console(
        LAB,
        "lab-03",
        f"printf '#!/bin/sh\\npkill -9 sshd\\nsleep 5\\n' > {fake} && chmod 755 {fake}",
    )
    try:
        (tmp_path / "c").mkdir()
        code, data = audit(ci_lab, tmp_path / "c" / "r.json", "--timeout", "8")
    finally:
        console(LAB, "lab-03", f"rm -f {fake}; systemctl restart ssh")
    statuses = _by_host(data)
    # Windows-only controls are settled (not applicable) before any read; every Linux check
    # was still waiting for its reads when the connection died: error, never pass.
    assert "error" in statuses["lab-03"]
    assert statuses["lab-03"] <= {"error", "not_applicable"}
    assert {r["control"] for r in data["results"] if r["host"] == "lab-03"} == set(controls())
    assert any(
        "connection lost" in r or "stopped answering" in r for r in _reasons(data, "lab-03")
    ), _reasons(data, "lab-03")
    assert "error" not in statuses["lab-01"]
    assert code == 2


@pytest.mark.fault(
    "host",
    "a host frozen (SIGSTOP) during the audit",
    "that host `error` within the timeout, the fleet finishes",
)
def test_hanging_host_times_out_and_the_fleet_finishes(ci_lab: Path, tmp_path: Path) -> None:
    frozen = netns_pids(LAB, "lab-02")
    for pid in frozen:
        os.kill(pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        code, data = audit(ci_lab, tmp_path / "r.json", "--timeout", "10")
        took = time.monotonic() - started
    finally:
        for pid in frozen:
            os.kill(pid, signal.SIGCONT)
    _assert_only_host_errors(data, "lab-02", "lab-02", "unreachable")
    assert took < 60
    assert code == 2


@pytest.mark.fault(
    "host", "systemd-logind stalled on a host", "that host `error` naming the stalled session setup"
)
def test_stalled_login_session_is_named_not_called_a_lost_connection(
    ci_lab: Path, tmp_path: Path
) -> None:
    # sshd sets up the login session (PAM, systemd-logind) when the first channel opens,
    # after authentication: with logind stopped the host accepts the key and then says nothing.
    logind = [
        pid
        for pid in netns_pids(LAB, "lab-02")
        if Path(f"/proc/{pid}/comm").read_text().strip() == "systemd-logind"
    ]
    assert len(logind) == 1, "the lab host runs systemd-logind"
    os.kill(logind[0], signal.SIGSTOP)
    try:
        code, data = audit(ci_lab, tmp_path / "r.json", "--limit", "lab-02", "--timeout", "4")
    finally:
        os.kill(logind[0], signal.SIGCONT)
    # Only what the inventory alone decides may be not_applicable; every read is an error.
    assert _by_host(data) == {"lab-02": {"error", "not_applicable"}}
    errors = {r["reason"] for r in data["results"] if r["status"] == "error"}
    assert errors == {
        "lab-02: logged in, but the host opened no session within 4s "
        "(its PAM/systemd-logind session setup is stalled)"
    }
    assert code == 2


@pytest.mark.fault(
    "host",
    "a command the check needs is missing",
    '`error` ("command failed on the host"), never pass',
)
def test_missing_command_is_an_error(ci_lab: Path, tmp_path: Path) -> None:
    console(LAB, "lab-01", "mv /usr/bin/chronyc /usr/bin/chronyc.away")
    try:
        _, data = audit(ci_lab, tmp_path / "r.json", "--limit", "lab-01")
    finally:
        console(LAB, "lab-01", "mv /usr/bin/chronyc.away /usr/bin/chronyc")
    missing = [r for r in data["results"] if "command not found" in r["reason"]]
    assert missing, "a check needing chronyc must say the command is missing"
    assert {r["status"] for r in missing} == {"error"}


@pytest.mark.fault("host", "sudo wants a password", "that host `error` (auth), one line")
def test_sudo_wanting_a_password_is_an_error_not_a_silent_pass(
    ci_lab: Path, tmp_path: Path
) -> None:
    # The whole batch runs under one `sudo -n`: without passwordless sudo nothing can be read.
    rule = "/etc/sudoers.d/driftvakt-lab-ops"
    console(LAB, "lab-01", f"mv {rule} /root/ops-sudo.away")
    try:
        _, data = audit(ci_lab, tmp_path / "r.json")
    finally:
        console(LAB, "lab-01", f"mv /root/ops-sudo.away {rule}")
    seen = {r["control"]: r for r in data["results"] if r["host"] == "lab-01"}
    healthy = {r["control"]: r["status"] for r in data["results"] if r["host"] == "lab-02"}
    # Only what the inventory alone decides (a Windows check, backup not required) may be
    # not_applicable; everything that needs a read from the host is an error saying why.
    needs_reads = {c for c, status in healthy.items() if status != "not_applicable"}
    assert needs_reads and {c for c, r in seen.items() if r["status"] == "error"} >= needs_reads
    assert {r["status"] for r in seen.values()} <= {"error", "not_applicable"}
    for control in needs_reads:
        assert "passwordless sudo" in seen[control]["reason"], seen[control]["reason"]
        assert "\n" not in seen[control]["reason"]


@pytest.mark.fault(
    "input", "a malformed inventory", "one line naming file:line, exit 3, no host contacted"
)
def test_malformed_inventory_is_one_line_and_exit_3(tmp_path: Path) -> None:
    bad = tmp_path / "hosts.yml"
    bad.write_text("all:\n  hosts:\n    a: [broken\n")
    done = driftvakt("audit", "-i", str(bad), "-o", str(tmp_path / "r.json"), check=False)
    assert done.returncode == 3
    assert done.stderr.strip().count("\n") == 0
    assert f"{bad}:" in done.stderr
    assert not (tmp_path / "r.json").exists()


def _start_audit(inv: Path, out: Path, store: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            str(BIN / "driftvakt"),
            "audit",
            "-i",
            str(inv),
            "-o",
            str(out),
            "--store",
            str(store),
            "-q",
            *extra,
        ],
        cwd=PROJECT,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@pytest.mark.fault(
    "store", "two audits on one store at once", "the second waits, then runs; both runs intact"
)
def test_two_audits_at_once_wait_and_corrupt_nothing(ci_lab: Path, tmp_path: Path) -> None:
    store = tmp_path / "runs.db"
    first = _start_audit(ci_lab, tmp_path / "a.json", store)
    second = _start_audit(ci_lab, tmp_path / "b.json", store)
    outs = [p.communicate(timeout=300) for p in (first, second)]
    assert {first.returncode, second.returncode} <= {0, 1}
    assert any("waiting for the audit running as pid" in err for _, err in outs)
    verify = driftvakt("store", "verify", "--store", str(store))
    assert "intact: 2 runs" in verify.stdout


@pytest.mark.fault(
    "store",
    "the auditor killed (SIGKILL) mid-run",
    "earlier runs verify, the begun run reads `abandoned`",
)
def test_auditor_killed_mid_run_leaves_earlier_runs_intact(ci_lab: Path, tmp_path: Path) -> None:
    store = tmp_path / "runs.db"
    code, _ = audit(ci_lab, tmp_path / "first.json", "--store", str(store))
    assert code in (0, 1)
    frozen = netns_pids(LAB, "lab-02")
    for pid in frozen:
        os.kill(pid, signal.SIGSTOP)
    try:
        victim = _start_audit(ci_lab, tmp_path / "killed.json", store, "--timeout", "60")
        time.sleep(4)
        victim.kill()
        victim.wait(timeout=30)
    finally:
        for pid in frozen:
            os.kill(pid, signal.SIGCONT)
    verify = driftvakt("store", "verify", "--store", str(store), check=False)
    assert verify.returncode == 0, verify.stdout
    assert "intact: 1 runs" in verify.stdout
    assert "abandoned: run" in verify.stdout
    assert "is gone" in verify.stdout  # SIGKILL marks nothing: the dead pid tells
    assert not (tmp_path / "killed.json").exists()


@pytest.mark.fault(
    "secrets", "passwords in the inventory (canary)", "found in no output, log, report or store"
)
def test_canary_secret_reaches_no_output_log_report_or_store(ci_lab: Path, tmp_path: Path) -> None:
    inv = _variant(ci_lab, tmp_path)
    group = _group_vars(inv)
    group.update(
        ansible_become_password=CANARY,
        ansible_password=CANARY,
        ansible_ssh_private_key_passphrase=CANARY,
    )
    (inv / "group_vars" / "all.yml").write_text(yaml.safe_dump(group))
    store = tmp_path / "runs.db"
    out = tmp_path / "r.json"
    done = driftvakt("audit", "-i", str(inv), "-o", str(out), "--store", str(store), check=False)
    report = tmp_path / "r.html"
    driftvakt("report", str(out), "-o", str(report))
    assert done.returncode in (0, 1), done.stderr
    for text in (done.stdout, done.stderr):
        assert CANARY not in text
    for path in (out, report, store, *store.parent.glob("runs.*")):
        assert CANARY.encode() not in path.read_bytes(), path


CANARY_KEY = "-----BEGIN PRIVATE KEY-----\nQ2FuYXJ5LUtleS1mMzlhMmQ=\n-----END PRIVATE KEY-----\n"


@pytest.mark.fault(
    "secrets",
    "a private key in crypto_certificates (key_content), hardening run with -vvv",
    "the key is in no line of the play's output nor the change record (was: printed by -v)",
)
def test_a_private_key_never_reaches_the_plays_output(
    ci_lab: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inv = _variant(ci_lab, tmp_path)
    host_vars = inv / "host_vars" / "lab-01.yml"
    variables = yaml.safe_load(host_vars.read_text())
    variables["crypto_certificates"] = [
        *variables.get("crypto_certificates", []),
        {
            "path": "/etc/ssl/driftvakt-canary.pem",
            "content": "not a certificate: the role only copies it\n",
            "key_path": "/etc/ssl/private/driftvakt-canary.key",
            "key_content": CANARY_KEY,
        },
    ]
    host_vars.write_text(yaml.safe_dump(variables))
    monkeypatch.setenv("DRIFTVAKT_STORE", str(tmp_path / "changes.db"))  # the change record
    try:
        run = playbook(inv, "--tags", "crypto_certificates_valid", "--limit", "lab-01", "-vvv")
    finally:
        console(
            LAB,
            "lab-01",
            "rm -f /etc/ssl/driftvakt-canary.pem /etc/ssl/private/driftvakt-canary.key",
        )
    assert run.rc == 0, run.output[-2000:]
    assert "driftvakt-canary.key" in run.output  # the task ran, by its label
    assert "Q2FuYXJ5LUtleS1mMzlhMmQ" not in run.output
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.suffix not in (".yml",):
            assert b"Q2FuYXJ5LUtleS1mMzlhMmQ" not in path.read_bytes(), path
