"""The gate's verdict on a run: one problem per failing result, an unreachable host as one
problem, and distinct exit codes (the lab test, test_lab_gate.py, runs it for real)."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from driftvakt.exitcodes import Exit
from driftvakt.gate import Problem, exit_code, problems


def _r(host: str, control: str, status: str, reason: str = "", kind: str = "") -> dict[str, Any]:
    result = {"host": host, "control": control, "status": status, "reason": reason}
    return {**result, "error_kind": kind} if kind else result


def test_passing_waived_and_not_applicable_results_let_the_host_through() -> None:
    run = {
        "results": [
            _r("vm-01", "a", "pass"),
            _r("vm-01", "b", "waived", "waived until 2027-06-30 (RA-1, approved by X): y"),
            _r("vm-01", "c", "not_applicable"),
        ]
    }
    assert problems(run, ["vm-01"]) == []
    assert exit_code([]) == Exit.OK


def test_each_failure_and_error_is_one_named_line() -> None:
    run = {
        "results": [
            _r("vm-01", "a", "fail", "lösenordsinloggning är påslagen"),
            _r("vm-01", "b", "error", "sshd -T failed"),
            _r("vm-01", "c", "pass"),
        ]
    }
    found = problems(run, ["vm-01"])
    assert [p.line() for p in found] == [
        "FAIL  vm-01 a: lösenordsinloggning är påslagen",
        "ERROR vm-01 b: sshd -T failed",
    ]
    assert exit_code(found) == Exit.ERRORS
    assert exit_code(found[:1]) == Exit.FAILURES


def test_an_unreachable_host_is_one_problem_with_its_own_exit_code() -> None:
    down = "vm-02: unreachable at 10.0.0.2:22 (timed out)"
    run = {"results": [_r("vm-02", c, "error", down, "unreachable") for c in ("a", "b", "c")]}
    found = problems(run, ["vm-02"])
    assert found == [Problem("unreachable", "vm-02", "-", down)]
    assert found[0].line() == "UNREACHABLE vm-02: unreachable at 10.0.0.2:22 (timed out)"
    assert exit_code([*found, Problem("fail", "vm-01", "a", "x")]) == Exit.UNREACHABLE


def test_the_gate_reads_the_error_kind_never_the_wording() -> None:
    # A check whose own reason happens to say "unreachable at" is an error, not a host down;
    # a host down in other words (a WinRM connect timeout) is unreachable all the same.
    worded = _r("vm-01", "a", "error", "vm-01: unreachable at 10.0.0.9:123 (chrony)", "check")
    timed = _r(
        "vm-02", "a", "error", "vm-02: no answer within 20s from 10.0.0.3:5986", "unreachable"
    )
    found = problems({"results": [worded, timed]}, ["vm-01", "vm-02"])
    assert [(p.kind, p.host) for p in found] == [("error", "vm-01"), ("unreachable", "vm-02")]


def test_a_host_without_results_is_an_error_never_a_pass() -> None:
    found = problems({"results": [_r("vm-01", "a", "pass")]}, ["vm-01", "vm-03"])
    assert [(p.kind, p.host) for p in found] == [("error", "vm-03")]
    assert exit_code(found) == Exit.ERRORS


def test_an_expired_waiver_keeps_the_failure() -> None:
    reason = "root login allowed [waiver waivers.yml:3 expired on 2026-01-31]"
    found = problems({"results": [_r("vm-01", "a", "fail", reason)]}, ["vm-01"])
    assert exit_code(found) == Exit.FAILURES
    assert "expired on 2026-01-31" in found[0].line()


@pytest.mark.fault(
    "host",
    "a port that accepts TCP but never speaks SSH",
    "gate exit 5, one line (was: exit 2 and a traceback per host)",
)
def test_a_host_that_accepts_tcp_but_never_speaks_ssh_is_unreachable(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    # It used to exit 2 (error) where docs/gate.md promises 5, with ~20 lines of paramiko
    # traceback per host on the terminal. Local only: a silent listener on 127.0.0.1.

    from driftvakt.cli import main

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    port = silent.getsockname()[1]
    known = tmp_path / "known_hosts"
    known.write_text("")
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        f"all:\n  hosts:\n    web1:\n      ansible_host: 127.0.0.1\n      ansible_port: {port}\n"
        f"      ansible_ssh_common_args: -o UserKnownHostsFile={known}\n"
    )
    try:
        code = main(
            [
                "gate",
                "web1",
                "-i",
                str(inventory),
                "-o",
                str(tmp_path / "g.json"),
                "--store",
                str(tmp_path / "s.db"),
                "--timeout",
                "2",
            ]
        )
    finally:
        silent.close()
    out, err = capfd.readouterr()
    assert code == 5, out + err
    assert "Traceback" not in out + err
    assert "UNREACHABLE web1: unreachable at 127.0.0.1" in out + err
    assert "sends no SSH banner" in out + err
