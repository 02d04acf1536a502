"""A check's result on one host, the same whichever way the check ran (called directly or
through pytest's run protocol): the reads it made, kept as evidence, and how it ended, turned
into a ``Result``: a failed assertion is ``fail``, a skip ``not_applicable``, a command testinfra
saw fail on the host or any other exception ``error``; never a pass it did not see.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from driftvakt.redact import redact
from driftvakt.results import ErrorKind, Result, Status

EVIDENCE_LINES = 6
EVIDENCE_WIDTH = 240  # a one-line JSON document is evidence enough at this width


def _clip(line: str) -> str:
    return line if len(line) <= EVIDENCE_WIDTH else line[: EVIDENCE_WIDTH - 1] + "…"


class Recorder:
    """Wraps a testinfra backend's ``run`` to keep what each check read, as evidence."""

    def __init__(self, run: Callable[..., Any]) -> None:
        self.inner = run
        self.lines: list[str] = []

    def __call__(self, command: str, *args: Any, **kwargs: Any) -> Any:
        out = self.inner(command, *args, **kwargs)
        shown = (command % tuple(args)) if args else command
        stdout = out.stdout if isinstance(out.stdout, str) else ""
        head = stdout.strip().splitlines()[:EVIDENCE_LINES]
        self.lines.append(f"$ {shown.strip()} (rc={out.rc})")
        self.lines.extend(_clip(f"  {line}") for line in head)
        return out


def recording(host: Any) -> Recorder:
    """The host's ``run`` wrapped to keep what the next check reads (fresh for each check)."""
    recorder = host.backend.run
    if not isinstance(recorder, Recorder):
        recorder = Recorder(host.backend.run)
        host.backend.run = recorder
    recorder.lines = []
    return recorder


@dataclass(frozen=True)
class Outcome:
    """How a check ended, the same for a direct call and for pytest's report: passed,
    skipped (its reason), or anything else: raised ``error`` (in file ``raised_in``)."""

    passed: bool = False
    skipped: str | None = None
    error: BaseException | None = None
    raised_in: str = ""
    during_call: bool = True  # False: a fixture's setup failed, so no verdict either way
    text: str = ""  # pytest's own words when it has no exception to show


def make_result(
    control: str,
    host: str,
    outcome: Outcome,
    duration: float,
    read: list[str],
    properties: list[tuple[str, object]],
    secrets: tuple[str, ...],
) -> Result:
    """One check's result on one host, whichever way it ran (directly or through pytest)."""
    evidence = [redact(line, secrets) for line in read]
    if outcome.skipped is not None:
        return Result(
            host,
            control,
            Status.NOT_APPLICABLE,
            evidence,
            redact(outcome.skipped, secrets),
            duration,
        )
    facts = {str(k): redact_fact(v, secrets) for k, v in properties}
    if outcome.passed:
        return Result(host, control, Status.PASS, evidence, duration=duration, facts=facts)
    error = outcome.error
    message = one_line(str(error) if error is not None else outcome.text)
    if (
        outcome.during_call
        and "/testinfra/" in outcome.raised_in
        and (isinstance(error, AssertionError) or "CommandResult(" in str(error))
    ):
        # check_output()/run_expect() (AssertionError) or a file's content (RuntimeError) on
        # an unexpected exit code: the host could not answer the question (e.g. a command
        # missing, a file unreadable), which is not a verdict.
        return Result(
            host,
            control,
            Status.ERROR,
            evidence,
            redact(f"command failed on the host: {_command_failure(str(error))}", secrets),
            duration,
            error_kind=ErrorKind.CHECK,
        )
    if isinstance(error, AssertionError) and outcome.during_call:
        detail = [redact(line, secrets) for line in _message(str(error))]
        return Result(
            host,
            control,
            Status.FAIL,
            detail + evidence,
            redact(message, secrets),
            duration,
            facts,
        )
    kind = type(error).__name__ if error is not None else "error"
    return Result(
        host,
        control,
        Status.ERROR,
        evidence,
        redact(f"check could not run ({kind}): {message}", secrets),
        duration,
        error_kind=ErrorKind.CHECK,
    )


def redact_fact(value: Any, secrets: tuple[str, ...]) -> Any:
    """A recorded fact with every string in it redacted like evidence."""
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {str(k): redact_fact(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_fact(v, secrets) for v in value]
    return value


def _command_failure(text: str) -> str:
    """testinfra's CommandResult repr as one line: the command, its exit code, its stderr."""
    rc = re.search(r"exit_status=(\d+)", text)
    cmd = re.search(r"command=b(['\"])(.*?)\1, _stdout", text)
    err = re.search(r"_stderr=b'(.*?)'\)", text)
    shown = cmd.group(2).replace("\\'", "'") if cmd else ""
    parts = [f"`{shown}`" if cmd else "a command", f"exited {rc.group(1)}" if rc else ""]
    if rc and rc.group(1) == "127":
        parts.append("(command not found: install it or mark the control not applicable)")
    if err and err.group(1):
        parts.append(f"stderr: {err.group(1).encode().decode('unicode_escape').strip()[:200]}")
    return " ".join(p for p in parts if p)


def _message(text: str) -> list[str]:
    """The check's own assertion message, without pytest's introspection lines."""
    lines = []
    for line in text.splitlines():
        if line.startswith("assert "):
            break
        lines.append(line)
    return lines or text.splitlines()[:1]


# A reason is the finding itself: long enough for every part of it (the firewall's live and
# saved findings together run past 300 characters), marked when it still had to be cut.
REASON_LIMIT = 2000


def one_line(text: str, limit: int = REASON_LIMIT) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return line if len(line) <= limit else line[: limit - 1] + "…"
