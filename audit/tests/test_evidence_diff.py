"""Evidence diffs per command (#19 item 2): only commands whose output or exit code changed
are shown, the rest is collapsed, and testinfra's platform preamble is never a change."""

from __future__ import annotations

from test_report_html import result, run

from driftvakt import report
from driftvakt.drift import Kind, compare
from driftvakt.evidence import changes

PREAMBLE = [
    "$ uname -s (rc=0)",
    "  Linux",
    "$ cat /etc/os-release (rc=0)",
    '  PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"',
    "$ uname -m (rc=0)",
    "  x86_64",
]
SSHD = ["$ sshd -T (rc=0)", "  permitrootlogin yes", "  passwordauthentication no"]
KEYS = ["$ cat -- /etc/ssh/sshd_config.d/50-x.conf (rc=0)", "  PermitRootLogin yes"]
GETENT = ["$ getent passwd (rc=0)", "  root:x:0:0:root:/root:/bin/bash"]


def two_runs(before: list[str], after: list[str]) -> tuple[dict, dict]:  # type: ignore[type-arg]
    def one(run_id: str, day: str, evidence: list[str]) -> dict:  # type: ignore[type-arg]
        failing = result("web-01", "ssh_root_login_disabled", "fail", "root may log in", evidence)
        return run(
            run_id, f"2026-11-{day}T08:00:00+00:00", f"2026-11-{day}T08:00:09+00:00", failing
        )

    return one("aaaaaaaa-1", "20", before), one("bbbbbbbb-2", "21", after)


def test_the_preamble_coming_or_going_is_no_change() -> None:
    was, now = two_runs([*PREAMBLE, *SSHD], SSHD)
    drift = compare(was, now)
    assert drift.changes == () and drift.unchanged == 1  # was: still failing, evidence changed


def test_only_the_command_that_changed_is_shown() -> None:
    after_sshd = ["$ sshd -T (rc=0)", "  permitrootlogin no", "  passwordauthentication no"]
    changed, same = changes([*PREAMBLE, *GETENT, *SSHD, *KEYS], [*GETENT, *after_sshd, *KEYS])
    assert [c.command for c in changed] == ["sshd -T"]
    assert changed[0].removed == ("  permitrootlogin yes",)
    assert changed[0].added == ("  permitrootlogin no",)
    assert same == ["getent passwd", "cat -- /etc/ssh/sshd_config.d/50-x.conf"]


def test_an_exit_code_a_new_and_a_gone_command_are_changes() -> None:
    failed_sshd = ["$ sshd -T (rc=255)", *SSHD[1:]]
    changed, same = changes([*SSHD, *KEYS], [*failed_sshd, *GETENT])
    by_name = {c.command: c for c in changed}
    assert (by_name["sshd -T"].rc_before, by_name["sshd -T"].rc_after) == ("0", "255")
    assert by_name["sshd -T"].removed == ("$ sshd -T (rc=0)",)
    assert by_name["getent passwd"].rc_before is None and by_name["getent passwd"].added == tuple(
        GETENT
    )
    assert by_name["cat -- /etc/ssh/sshd_config.d/50-x.conf"].removed == tuple(KEYS)
    assert same == []


def test_the_report_shows_the_changed_command_and_collapses_the_rest() -> None:
    after_sshd = ["$ sshd -T (rc=0)", "  permitrootlogin no", "  passwordauthentication no"]
    was, now = two_runs([*PREAMBLE, *GETENT, *SSHD, *KEYS], [*GETENT, *after_sshd, *KEYS])
    assert [c.kind for c in compare(was, now).changes] == [Kind.STILL_FAILING]
    html = report.render(now, "sv", was)
    section = html.split('<h2 id="drift">', 1)[1].split('<h2 id="waivers">', 1)[0]
    assert "$ <code>sshd -T</code>" in section
    assert '<span class="del">-   permitrootlogin yes</span>' in section
    assert '<span class="add">+   permitrootlogin no</span>' in section
    assert "passwordauthentication" not in section  # unchanged line of the changed command
    assert "2 kommando(n) med samma utdata" in section
    assert "uname" not in section and "os-release" not in section
