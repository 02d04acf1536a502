"""Evaluate one check by calling its function, without pytest's run protocol.

pytest's per-test machinery (setup/call/teardown reports, fixture requests and finalizers,
hooks) costs several times what a check itself does; at thousands of hosts a night it was
most of the controller's CPU. The suites' checks all take only ``host``, ``hostvars`` and
``record_property``, so the engine can supply those itself: the check is still the plain
testinfra function pytest collected (assertions rewritten as usual), and pytest still runs it
unchanged against a host directly. A check needing any other fixture runs through pytest.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import pytest

from driftvakt.applicability import platform_mismatch
from driftvakt.replay import NeedCommand

HOST_PARAM = "_testinfra_host"  # the parameter testinfra's ``host`` fixture is built from
# Fixtures the engine supplies itself; ``_platform_applies`` is the suites' autouse rule
# (driftvakt.applicability), applied here the same way.
SUPPLIED = frozenset({"host", "hostvars", "record_property", "_platform_applies", HOST_PARAM})


def runs_directly(item: pytest.Function) -> bool:
    """True when every fixture the check uses is one the engine supplies (or a parameter).
    ``request`` serves only the supplied fixtures; a check asking for it runs via pytest."""
    params = set(item.callspec.params if hasattr(item, "callspec") else {})
    arguments = set(item._fixtureinfo.argnames)
    return set(item.fixturenames) <= SUPPLIED | {"request"} | params and arguments <= (
        SUPPLIED | params
    )


@dataclass
class Called:
    """What calling a check gave: nothing raised (passed), or the exception it raised."""

    error: BaseException | None
    duration: float
    properties: list[tuple[str, Any]] = field(default_factory=list)
    skip_reason: str | None = None  # the platform rule or pytest.skip


def call_check(
    item: pytest.Function,
    host: Any,
    variables: Callable[[], dict[str, Any]],
    windows_host: bool,
) -> Called:
    """Call the check for one host. ``NeedCommand`` (a read not fetched yet), Ctrl-C and
    SystemExit go to the caller; everything else the check raises is its outcome."""
    name = str(host.backend.get_hostname())
    if "_platform_applies" in item.fixturenames:
        reason = platform_mismatch(
            name, item.get_closest_marker("windows") is not None, windows_host
        )
        if reason:
            return Called(None, 0.0, skip_reason=reason)
    properties: list[tuple[str, Any]] = []
    supplied: dict[str, Callable[[], Any]] = {
        "host": lambda: host,
        "hostvars": variables,
        "record_property": lambda: lambda key, value: properties.append((key, value)),
    }
    params = item.callspec.params if hasattr(item, "callspec") else {}
    kwargs = {
        arg: supplied[arg]() if arg in supplied else params[arg]
        for arg in item._fixtureinfo.argnames
    }
    started = time.perf_counter()
    try:
        item.obj(**kwargs)
    except (NeedCommand, KeyboardInterrupt, SystemExit):
        raise
    except pytest.skip.Exception as exc:
        return Called(None, time.perf_counter() - started, properties, exc.msg or "skipped")
    except BaseException as exc:  # the check's verdict or its fault, judged by the caller
        return Called(exc, time.perf_counter() - started, properties)
    return Called(None, time.perf_counter() - started, properties)


def last_frame_file(tb: TracebackType | None) -> str:
    """The file of the innermost frame of a traceback (where the exception was raised)."""
    path = ""
    while tb is not None:
        path = tb.tb_frame.f_code.co_filename
        tb = tb.tb_next
    return path
