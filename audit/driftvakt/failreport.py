"""A failed check's pytest report with a one-line repr instead of a formatted traceback.

The audit keeps only a failure's exception and message (checkrun.py reads them from the call,
never from the report's repr), yet pytest formats a full traceback for every failed check of
every host: a fifth of the controller's CPU per host on a fleet (docs/performance.md). This
plugin makes the report of a failure itself, the same in every field but the repr; passes and
skips are still pytest's own.
"""

from __future__ import annotations

from typing import Any

import pytest


class BriefFailures:
    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[Any]
    ) -> pytest.TestReport | None:
        excinfo = call.excinfo
        if (
            excinfo is None
            or call.when == "collect"
            or excinfo.errisinstance((pytest.skip.Exception, BaseExceptionGroup))
        ):
            return None  # pytest's own report
        return pytest.TestReport(
            item.nodeid,
            item.location,
            dict.fromkeys(item.keywords, 1),
            "failed",
            f"{excinfo.typename}: {excinfo.value}",
            call.when,
            [(f"Captured {key} {when}", text) for when, key, text in item._report_sections],
            call.duration,
            call.start,
            call.stop,
            item.user_properties,
        )
