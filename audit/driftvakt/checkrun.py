"""Run the plain testinfra checks in ``tests/`` in-process and turn pytest's reports into results.

Each check is a pytest test marked ``control(<id>)`` that takes testinfra's ``host``. One pytest
session collects the checks once, for a single placeholder host; the audit then runs those same
items host by host, with the host's replay ``Host`` swapped into testinfra's host parameter, as
soon as the host's reads arrive. So the cost of collection is paid once, and only one host's
items and fixtures are alive at a time: memory stays flat as the fleet grows.

A failed assertion is ``fail`` (its message is the evidence); a skip is ``not_applicable``; any
other exception (lost connection, missing command, a bug) is ``error``: never pass.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import pytest
import testinfra.backend
import testinfra.host
from _pytest.runner import runtestprotocol

from driftvakt.failreport import BriefFailures
from driftvakt.redact import redact
from driftvakt.replay import BACKEND_NAME, NeedCommand
from driftvakt.results import ErrorKind, Result, Status

EVIDENCE_LINES = 6
EVIDENCE_WIDTH = 240  # a one-line JSON document is evidence enough at this width


def _clip(line: str) -> str:
    return line if len(line) <= EVIDENCE_WIDTH else line[: EVIDENCE_WIDTH - 1] + "…"


class _Recorder:
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


HOST_PARAM = "_testinfra_host"  # the parameter testinfra's ``host`` fixture is built from
PLACEHOLDER = "placeholder"  # the host the checks are collected for, never run (no "-")


class CheckRunner:
    """pytest plugin: collects the checks once, then lets ``drive`` run them host by host.

    ``drive`` is called from inside the session (pytest's run loop) with ``evaluate``; it
    returns when every host is done. Results are handed back per host, never kept here.
    """

    def __init__(
        self,
        secrets: tuple[str, ...],
        drive: Callable[[CheckRunner], None],
    ) -> None:
        self.secrets = secrets
        self.drive = drive
        self.items: list[pytest.Function] = []
        self.test_controls: dict[str, str] = {}  # check key -> control id
        self.collected: list[str] = []
        self.failure: BaseException | None = None
        self.ran = False
        self._results: list[Result] = []
        self._pending: set[str] = set()
        self._placeholder: object = None

    @staticmethod
    def _control(item: pytest.Item) -> str | None:
        marker = item.get_closest_marker("control")
        return str(marker.args[0]) if marker and marker.args else None

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        self.items = [
            i
            for i in items
            if isinstance(i, pytest.Function) and self._control(i) and _host_param(i) is not None
        ]
        self.test_controls = {check_key(i): c for i in self.items if (c := self._control(i))}
        if self.items:
            self._placeholder = self.items[0].callspec.params[HOST_PARAM]
        self.collected = sorted(set(self.test_controls.values()))

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        if session.testsfailed:  # a check module that does not import: nothing is run
            return True
        self.ran = True
        try:
            self.drive(self)
        except BaseException as exc:  # raised again by run_checks, outside pytest's handling
            self.failure = exc
        return True

    def evaluate(self, spec: str, only: set[str] | None = None) -> tuple[list[Result], set[str]]:
        """Run the checks (all, or the keys in ``only``) on one host; its results, and the keys
        of the checks still waiting for reads not fetched yet."""
        backend = testinfra.backend.get_backend(spec)
        host = testinfra.host.Host(backend)
        backend.set_host(host)
        items = [i for i in self.items if only is None or check_key(i) in only]
        self._results, self._pending = [], set()
        results, pending = self._results, self._pending
        try:
            for index, item in enumerate(items):
                # A new Host object: pytest tears down and rebuilds every fixture built on it.
                item.callspec.params[HOST_PARAM] = host
                item.user_properties = []  # facts of this host only, not of the previous one
                following = items[index + 1] if index + 1 < len(items) else None
                runtestprotocol(item, log=False, nextitem=following)
        finally:
            for item in items:  # let the host and its fixtures go
                item.callspec.params[HOST_PARAM] = self._placeholder
            self._results, self._pending = [], set()
        return results, pending

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, Any, Any]:
        host = getattr(item, "funcargs", {}).get("host")
        recorder = None
        if host is not None:
            recorder = host.backend.run
            if not isinstance(recorder, _Recorder):
                recorder = _Recorder(host.backend.run)
                host.backend.run = recorder
            recorder.lines = []
        try:
            return (yield)
        finally:
            if recorder is not None:
                item.stash[_EVIDENCE] = list(recorder.lines)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[Any]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        control, host = self._control(item), _host_name(item)
        if control is None or host is None:
            return report
        if call.excinfo is not None and call.excinfo.errisinstance(NeedCommand):
            self._pending.add(check_key(item))
            return report
        if report.when == "call" or (report.when == "setup" and not report.passed):
            self._results.append(self._result(item, call, report, control, host))
        return report

    def _result(
        self,
        item: pytest.Item,
        call: pytest.CallInfo[Any],
        report: pytest.TestReport,
        control: str,
        host: str,
    ) -> Result:
        evidence = [redact(line, self.secrets) for line in item.stash.get(_EVIDENCE, [])]
        facts = {str(k): _redact_fact(v, self.secrets) for k, v in report.user_properties}
        if report.passed:
            return Result(
                host, control, Status.PASS, evidence, duration=report.duration, facts=facts
            )
        excinfo = call.excinfo
        if report.skipped:
            reason = str(excinfo.value) if excinfo else "skipped"
            return Result(
                host,
                control,
                Status.NOT_APPLICABLE,
                evidence,
                redact(reason.removeprefix("Skipped: "), self.secrets),
                report.duration,
            )
        message = _one_line(str(excinfo.value) if excinfo else report.longreprtext)
        if excinfo and excinfo.errisinstance(AssertionError) and report.when == "call":
            if _raised_by_testinfra(excinfo):
                # check_output()/run_expect() on an unexpected exit code: the host could not
                # answer the question (e.g. a command missing), which is not a verdict.
                return Result(
                    host,
                    control,
                    Status.ERROR,
                    evidence,
                    redact(
                        f"command failed on the host: {_command_failure(excinfo)}", self.secrets
                    ),
                    report.duration,
                    error_kind=ErrorKind.CHECK,
                )
            detail = [redact(line, self.secrets) for line in _message(str(excinfo.value))]
            return Result(
                host,
                control,
                Status.FAIL,
                detail + evidence,
                redact(message, self.secrets),
                report.duration,
                facts,
            )
        kind = excinfo.typename if excinfo else "error"
        return Result(
            host,
            control,
            Status.ERROR,
            evidence,
            redact(f"check could not run ({kind}): {message}", self.secrets),
            report.duration,
            error_kind=ErrorKind.CHECK,
        )


def _redact_fact(value: Any, secrets: tuple[str, ...]) -> Any:
    """A recorded fact with every string in it redacted like evidence."""
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {str(k): _redact_fact(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_fact(v, secrets) for v in value]
    return value


def _raised_by_testinfra(excinfo: pytest.ExceptionInfo[BaseException]) -> bool:
    return "/testinfra/" in str(excinfo.traceback[-1].path)


def _command_failure(excinfo: pytest.ExceptionInfo[BaseException]) -> str:
    text = str(excinfo.value)
    rc = re.search(r"exit_status=(\d+)", text)
    cmd = re.search(r"command=b'(.*?)', _stdout", text)
    err = re.search(r"_stderr=b'(.*?)'\)", text)
    parts = [f"'{cmd.group(1)}'" if cmd else "a command", f"exited {rc.group(1)}" if rc else ""]
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


_EVIDENCE = pytest.StashKey[list[str]]()


def check_key(item: pytest.Item) -> str:
    """The check without its host: module::function, and any parameter besides the host."""
    base, _, params = item.nodeid.partition("[")
    rest = [p for p in params.rstrip("]").split("-") if p and PLACEHOLDER not in p]
    return f"{base}[{'-'.join(rest)}]" if rest else base


def _host_name(item: pytest.Item) -> str | None:
    host = getattr(item, "funcargs", None) or {}
    if "host" in host:
        return str(host["host"].backend.get_hostname())
    name = getattr(getattr(_host_param(item), "backend", None), "get_hostname", lambda: None)()
    return None if name in (None, PLACEHOLDER) else str(name)


def _host_param(item: pytest.Item) -> Any:
    callspec = getattr(item, "callspec", None)
    return None if callspec is None else callspec.params.get(HOST_PARAM)


def _one_line(text: str, limit: int = 300) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return line[:limit]


def run_checks(
    checks: Path,
    inventory: str,
    rootdir: Path,
    drive: Callable[[CheckRunner], None],
    secrets: tuple[str, ...] = (),
) -> CheckRunner:
    """Collect the checks in one pytest session and call ``drive`` inside it (see CheckRunner)."""
    runner = CheckRunner(secrets, drive)
    args = [
        str(checks),
        f"--hosts={BACKEND_NAME}://{PLACEHOLDER}",
        f"--ansible-inventory={inventory}",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:logging",  # the checks log nothing; the transports' logs are not a check's output
        "-q",
        "--no-header",
        "--tb=native",  # a failure's message is all the audit keeps: no source-annotated repr
        f"--rootdir={rootdir}",
        "-o",
        "addopts=",
        "-o",
        "testpaths=",
    ]
    with contextlib.redirect_stdout(io.StringIO()) as output:
        code = pytest.main(args, plugins=[runner, BriefFailures()])
    if runner.failure is not None:
        raise runner.failure
    if code == pytest.ExitCode.INTERRUPTED:  # Ctrl-C while pytest held it: still an interrupt
        raise KeyboardInterrupt
    if not runner.ran or code not in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        if runner.ran:
            return runner
        last = _one_line(output.getvalue().strip().splitlines()[-1] if output.getvalue() else "")
        from driftvakt.errors import BadInputError

        raise BadInputError(f"the checks in {checks} could not be collected ({code!s}): {last}")
    return runner
