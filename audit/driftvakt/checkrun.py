"""Run the plain testinfra checks in ``tests/`` in-process and turn pytest's reports into results.

Each check is a pytest test marked ``control(<id>)`` and parametrised by testinfra over hosts.
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

from driftvakt.redact import redact
from driftvakt.replay import NeedCommand
from driftvakt.results import Result, Status

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


class ResultCollector:
    """pytest plugin: one Result per (host, control) check."""

    def __init__(
        self, secrets: tuple[str, ...] = (), select: set[tuple[str, str]] | None = None
    ) -> None:
        self.results: list[Result] = []
        self.secrets = secrets
        self.collected: list[str] = []
        self.select = select  # (host, test id) pairs to run; None: all
        self.pending: set[tuple[str, str]] = set()  # waiting for reads not yet fetched
        self.test_controls: dict[str, str] = {}  # test id -> control id

    @staticmethod
    def _control(item: pytest.Item) -> str | None:
        marker = item.get_closest_marker("control")
        return str(marker.args[0]) if marker and marker.args else None

    @staticmethod
    def _host(item: pytest.Item) -> str | None:
        host = getattr(item, "funcargs", {}).get("host")
        if host is None:
            callspec = getattr(item, "callspec", None)
            spec = callspec.params.get("_testinfra_host") if callspec else None
            return getattr(getattr(spec, "backend", None), "get_hostname", lambda: None)()
        return str(host.backend.get_hostname())

    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        self.collected = sorted({c for c in map(self._control, items) if c})
        self.test_controls = {_test_id(i): c for i in items if (c := self._control(i))}
        if self.select is None:
            return
        keep = [i for i in items if (self._host(i) or "", _test_id(i)) in self.select]
        dropped = [i for i in items if i not in keep]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = keep

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
        control, host = self._control(item), self._host(item)
        if control is None or host is None:
            return report
        if call.excinfo is not None and call.excinfo.errisinstance(NeedCommand):
            self.pending.add((host, _test_id(item)))
            return report
        if report.when == "call" or (report.when == "setup" and not report.passed):
            self.results.append(self._result(item, call, report, control, host))
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
        if report.passed:
            return Result(host, control, Status.PASS, evidence, duration=report.duration)
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
                )
            detail = [redact(line, self.secrets) for line in _message(str(excinfo.value))]
            return Result(
                host,
                control,
                Status.FAIL,
                detail + evidence,
                redact(message, self.secrets),
                report.duration,
            )
        kind = excinfo.typename if excinfo else "error"
        return Result(
            host,
            control,
            Status.ERROR,
            evidence,
            redact(f"check could not run ({kind}): {message}", self.secrets),
            report.duration,
        )


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


def _test_id(item: pytest.Item) -> str:
    """The test without its host parameter: module::function."""
    return item.nodeid.split("[", 1)[0]


def _one_line(text: str, limit: int = 300) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return line[:limit]


def run_checks(
    checks: Path,
    host_specs: list[str],
    inventory: str,
    rootdir: Path,
    secrets: tuple[str, ...] = (),
    select: set[tuple[str, str]] | None = None,
) -> ResultCollector:
    collector = ResultCollector(secrets, select)
    args = [
        str(checks),
        f"--hosts={','.join(host_specs)}",
        f"--ansible-inventory={inventory}",
        "-p",
        "no:cacheprovider",
        "-q",
        "--no-header",
        f"--rootdir={rootdir}",
        "-o",
        "addopts=",
        "-o",
        "testpaths=",
    ]
    with contextlib.redirect_stdout(io.StringIO()) as output:
        code = pytest.main(args, plugins=[collector])
    ran = collector.results or collector.pending
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED) and not ran:
        last = _one_line(output.getvalue().strip().splitlines()[-1] if output.getvalue() else "")
        from driftvakt.errors import BadInputError

        raise BadInputError(f"the checks in {checks} could not be collected ({code!s}): {last}")
    return collector
