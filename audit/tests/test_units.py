"""Pure pieces of the audit: ssh options, failure explanations, redaction, exit codes, report."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from driftvakt.audit import exit_code
from driftvakt.inventory import Target
from driftvakt.redact import redact
from driftvakt.report import render
from driftvakt.results import Result, Run, Status
from driftvakt.sshconfig import common_args_options
from driftvakt.transport import Output
from driftvakt.transport.batch import MARK, BatchParseError, parse, script


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
    assert exit_code({Status.PASS, Status.NOT_APPLICABLE}) == 0
    assert exit_code({Status.PASS, Status.FAIL, Status.WAIVED}) == 1
    assert exit_code({Status.FAIL, Status.ERROR}) == 2


def test_report_is_self_contained_bilingual_and_shows_drift() -> None:
    before = _run(Status.PASS).to_json()
    after = _run(Status.FAIL).to_json()
    html_sv = render(after, "sv", before)
    assert "ny avvikelse" in html_sv  # drift.compare's new failure (test_report_html: the rest)
    assert "Efterlevnadsrapport" in html_sv
    assert "underkänd" in html_sv
    assert "http://" not in html_sv
    assert "https://" not in html_sv
    assert "Baseline compliance report" in render(after, "en")


def test_batch_script_round_trips_any_output_through_a_real_shell() -> None:
    import subprocess

    commands = ["printf 'a\\nb'", "echo err >&2; exit 3", "printf '@@driftvakt 0 0 x y'", "cat"]
    done = subprocess.run(
        ["sh", "-s"], input=script(commands), capture_output=True, text=True, check=True
    )
    out = parse(commands, done.stdout.encode())
    assert out[commands[0]] == Output(0, b"a\nb", b"")
    assert out[commands[1]] == Output(3, b"", b"err\n")
    assert out[commands[2]].stdout == b"@@driftvakt 0 0 x y"
    assert out[commands[3]] == Output(0, b"", b""), "stdin is closed for every command"


def test_a_batch_run_as_root_drops_only_testinfras_own_root_wrapper() -> None:
    from driftvakt.transport.batch import as_root

    assert as_root("sudo /bin/sh -c 'cat /etc/shadow'") == "cat /etc/shadow"
    twice = "sudo /bin/sh -c 'sudo /bin/sh -c '\"'\"'echo \"$HOME\"; id'\"'\"''"
    assert as_root(twice) == 'echo "$HOME"; id'
    assert as_root("sudo /bin/sh -c 'x' extra") == "sudo /bin/sh -c 'x' extra"
    # another target user, or a sudo the check itself wrote, is left to sudo
    assert as_root("sudo -u nobody /bin/sh -c id") == "sudo -u nobody /bin/sh -c id"
    assert as_root("sudo -l") == "sudo -l"
    assert as_root("id -u") == "id -u"


@pytest.mark.skipif(os.geteuid() != 0, reason="the batch must already run as root")
def test_a_batch_run_as_root_answers_under_testinfras_command_keys() -> None:
    import subprocess

    wrapped = ["sudo /bin/sh -c 'id -u; echo \"$0\"'", "id -u"]
    done = subprocess.run(
        ["sh", "-s"],
        input=script(wrapped, as_root_already=True),
        capture_output=True,
        text=True,
        check=True,
    )
    out = parse(wrapped, done.stdout.encode())
    assert out[wrapped[0]] == Output(0, b"0\n/bin/sh\n", b""), "ran as root, without sudo"
    assert out[wrapped[1]].stdout == b"0\n"


def test_a_batch_runs_its_reads_in_lanes_at_once_and_keeps_each_result_its_own(
    tmp_path: Path,
) -> None:
    import subprocess

    # Each read waits until all four have started: only lanes running at once finish in time
    # (one after another, the first would hit its 5 s timeout and report 124).
    meet = [
        f"touch {tmp_path}/{i}; until [ $(ls {tmp_path} | wc -l) -ge 4 ]; do sleep 0.05; done; "
        f"echo {i}"
        for i in range(4)
    ]
    plain = [f"printf %s {i}; exit {i}" for i in range(7)]
    commands = meet + plain
    done = subprocess.run(
        ["sh", "-s"],
        input=script(commands, 5, lanes=4),
        capture_output=True,
        text=True,
        check=True,
    )
    out = parse(commands, done.stdout.encode())
    assert [out[c] for c in meet] == [Output(0, f"{i}\n".encode(), b"") for i in range(4)]
    assert [out[c] for c in plain] == [Output(i, str(i).encode(), b"") for i in range(7)]


def test_a_batch_cut_short_is_an_error_not_a_partial_pass() -> None:
    import subprocess

    commands = ["true", "echo one", "echo two"]
    done = subprocess.run(
        ["sh", "-s"], input=script(commands), capture_output=True, text=True, check=True
    )
    cut = done.stdout.encode().split(b"\n")[:2]  # the host died after two results
    with pytest.raises(BatchParseError, match="stopped after 2 of 3"):
        parse(commands, b"\n".join(cut))


def test_one_result_per_host_and_control_whatever_the_order() -> None:
    from driftvakt.audit import merge_results

    linux_fail = Result("h", "fw", Status.FAIL, ["policy accept"], "policy accept")
    windows_na = Result("h", "fw", Status.NOT_APPLICABLE, [], "not applicable: Windows check")
    for order in ([linux_fail, windows_na], [windows_na, linux_fail]):
        merged = merge_results(list(order))
        assert [(r.control, r.status) for r in merged] == [("fw", Status.FAIL)]
    both_na = merge_results([windows_na, windows_na])
    assert [r.status for r in both_na] == [Status.NOT_APPLICABLE]
    worst = merge_results([Result("h", "c", Status.PASS), Result("h", "c", Status.ERROR, [], "x")])
    assert [r.status for r in worst] == [Status.ERROR]


@pytest.mark.fault(
    "host",
    "a batch answer naming a command never sent",
    "that host `error` (was: IndexError, or another command's output)",
)
@pytest.mark.parametrize("index", ["3", "-1", "99"])
def test_a_result_for_a_command_never_sent_is_an_error_not_another_commands_output(
    index: str,
) -> None:
    # A negative index used to map silently to the last command, a large one to raise IndexError.
    commands = ["echo zero", "echo one", "echo two"]
    line = f"{MARK} {index} 0 b25l "  # five fields: mark, index, rc, stdout, empty stderr
    with pytest.raises(BatchParseError, match=f"result for command {index} of 3"):
        parse(commands, f"{line}\n{MARK} end\n".encode())
