"""Pure pieces of the audit: ssh options, failure explanations, redaction, exit codes, report."""

from __future__ import annotations

from typing import Any

from driftvakt.audit import exit_code
from driftvakt.inventory import Target
from driftvakt.reach import explain_ssh_failure
from driftvakt.redact import redact
from driftvakt.report import drift, render
from driftvakt.results import Result, Run, Status
from driftvakt.sshconfig import common_args_options
from driftvakt.sshconfig import render as render_ssh


def _target(**kw: Any) -> Target:
    base: dict[str, Any] = dict(
        name="web1",
        address="10.0.0.5",
        port=22,
        user="ops",
        private_key=None,
        connection="ssh",
        become=True,
        ssh_common_args="",
        known_hosts=None,
        os_family=None,
        vars={},
    )
    base.update(kw)
    return Target(**base)


def test_common_args_keep_known_hosts_and_jump_but_never_weaken_host_keys() -> None:
    opts = common_args_options(
        "-o UserKnownHostsFile=/k -o StrictHostKeyChecking=no -J bastion "
        "-o 'ProxyCommand ssh -W %h:%p gw'"
    )
    assert opts == {
        "userknownhostsfile": "/k",
        "proxyjump": "bastion",
        "proxycommand": "ssh -W %h:%p gw",
    }


def test_ssh_config_is_strict() -> None:
    text = render_ssh([_target(ssh_common_args="-o StrictHostKeyChecking=no")], 7)
    assert "StrictHostKeyChecking yes" in text
    assert "StrictHostKeyChecking no" not in text
    assert "ConnectTimeout 7" in text


def test_changed_host_key_is_named_as_possible_mitm() -> None:
    err = (
        "@@@@@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n"
        "Host key verification failed."
    )
    line = explain_ssh_failure(_target(), err, "/lab/known_hosts")
    assert "man-in-the-middle" in line
    assert "/lab/known_hosts" in line
    assert "\n" not in line


def test_auth_and_refused_and_unknown_key_messages() -> None:
    assert "authentication failed for ops@10.0.0.5:22" in explain_ssh_failure(
        _target(), "ops@10.0.0.5: Permission denied (publickey).", None
    )
    assert "connection refused" in explain_ssh_failure(
        _target(), "ssh: connect to host 10.0.0.5 port 22: Connection refused", None
    )
    assert "not in" in explain_ssh_failure(
        _target(),
        "No ED25519 host key is known for 10.0.0.5 and you have requested strict "
        "checking.\nHost key verification failed.",
        None,
    )


def test_redaction_hides_hashes_keys_and_named_secrets() -> None:
    text = (
        "root:$6$salt$abcdefgh:19000:0\n-----BEGIN OPENSSH PRIVATE KEY-----\nAAA\n"
        "-----END OPENSSH PRIVATE KEY-----\npassword=Canary-Secret-42"
    )
    out = redact(text, ("Canary-Secret-42",))
    assert "$6$" not in out
    assert "AAA" not in out
    assert "Canary-Secret-42" not in out


def _run(*statuses: Status) -> Run:
    run = Run("id", "t0", "t1", "me", "0", "rev", "inv", None, ["h"])
    run.results = [Result("h", f"c{i}", s) for i, s in enumerate(statuses)]
    return run


def test_exit_codes_error_beats_fail_beats_pass() -> None:
    assert exit_code(_run(Status.PASS, Status.NOT_APPLICABLE)) == 0
    assert exit_code(_run(Status.PASS, Status.FAIL)) == 1
    assert exit_code(_run(Status.FAIL, Status.ERROR)) == 2


def test_report_is_self_contained_bilingual_and_shows_drift() -> None:
    before = _run(Status.PASS).to_json()
    after = _run(Status.FAIL).to_json()
    changes = drift(before, after, "sv")
    assert [(c.before, c.after) for c in changes] == [("pass", "fail")]
    html_sv = render(after, "sv", before)
    assert "Efterlevnadsrapport" in html_sv
    assert "underkänd" in html_sv
    assert "http://" not in html_sv
    assert "https://" not in html_sv
    assert "Baseline compliance report" in render(after, "en")
