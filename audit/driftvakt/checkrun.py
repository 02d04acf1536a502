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
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import pytest
import testinfra.backend
import testinfra.host
from _pytest.runner import runtestprotocol

from driftvakt.applicability import is_windows
from driftvakt.checkresult import Outcome, make_result, one_line, recording
from driftvakt.directcall import HOST_PARAM, call_check, last_frame_file, runs_directly
from driftvakt.failreport import BriefFailures
from driftvakt.inventory import host_variables
from driftvakt.replay import BACKEND_NAME, NeedCommand
from driftvakt.results import Result

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
        inventory: str = "",
        direct: bool = True,
    ) -> None:
        self.secrets = secrets
        self.drive = drive
        self.inventory = inventory
        self.direct = direct  # False: every check through pytest's run protocol
        self._hostvars: tuple[str, dict[str, Any]] | None = None
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
        name = str(backend.get_hostname())
        try:
            for index, item in enumerate(items):
                if self.direct and runs_directly(item):
                    self._evaluate_directly(item, host, name)
                    continue
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

    def _evaluate_directly(self, item: pytest.Function, host: Any, name: str) -> None:
        control = self._control(item)
        assert control is not None  # only control-marked checks are collected
        recorder = recording(host)
        variables = self._variables(name)
        try:
            called = call_check(item, host, lambda: dict(variables()), self._windows(name))
        except NeedCommand:
            self._pending.add(check_key(item))
            return
        evidence = list(recorder.lines)
        if called.skip_reason is not None:
            outcome = Outcome(skipped=called.skip_reason)
        elif called.error is None:
            outcome = Outcome(passed=True)
        else:
            outcome = Outcome(
                error=called.error, raised_in=last_frame_file(called.error.__traceback__)
            )
        self._results.append(
            make_result(
                control,
                name,
                outcome,
                called.duration,
                evidence,
                called.properties,
                self.secrets,
            )
        )

    def _variables(self, name: str) -> Callable[[], dict[str, Any]]:
        """The host's templated variables, read once for all its checks (each check gets its
        own copy, as the ``hostvars`` fixture gives)."""

        def read() -> dict[str, Any]:
            if self._hostvars is None or self._hostvars[0] != name:
                self._hostvars = (name, host_variables(self.inventory, name))
            return self._hostvars[1]

        return read

    def _windows(self, name: str) -> bool:
        try:
            return is_windows(self._variables(name)())
        except Exception:  # a host outside the inventory: not Windows (as the suites' rule)
            return False

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, Any, Any]:
        host = getattr(item, "funcargs", {}).get("host")
        recorder = None if host is None else recording(host)
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
            excinfo = call.excinfo
            if report.passed:
                outcome = Outcome(passed=True)
            elif report.skipped:
                reason = str(excinfo.value) if excinfo else "skipped"
                outcome = Outcome(skipped=reason.removeprefix("Skipped: "))
            else:
                outcome = Outcome(
                    error=excinfo.value if excinfo else None,
                    raised_in=str(excinfo.traceback[-1].path) if excinfo else "",
                    during_call=report.when == "call",
                    text=report.longreprtext,
                )
            self._results.append(
                make_result(
                    control,
                    host,
                    outcome,
                    report.duration,
                    item.stash.get(_EVIDENCE, []),
                    report.user_properties,
                    self.secrets,
                )
            )
        return report


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


def run_checks(
    checks: Path,
    inventory: str,
    rootdir: Path,
    drive: Callable[[CheckRunner], None],
    secrets: tuple[str, ...] = (),
    direct: bool = True,
) -> CheckRunner:
    """Collect the checks in one pytest session and call ``drive`` inside it (see CheckRunner).
    ``direct``: checks the engine can supply call directly (directcall.py), else via pytest."""
    runner = CheckRunner(secrets, drive, inventory, direct)
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
        last = one_line(output.getvalue().strip().splitlines()[-1] if output.getvalue() else "")
        from driftvakt.errors import BadInputError

        raise BadInputError(f"the checks in {checks} could not be collected ({code!s}): {last}")
    return runner
