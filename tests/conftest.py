"""Shared fixtures. `ANFU_REQUIRE_ALL=1` (set by CI) turns every skip into a failure."""

from __future__ import annotations

import os

import pytest

REQUIRE_ALL = os.environ.get("ANFU_REQUIRE_ALL") == "1"




@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):  # noqa: ANN001, ANN201
    outcome = yield
    report = outcome.get_result()
    if REQUIRE_ALL and report.skipped:
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.longrepr = f"skipped under ANFU_REQUIRE_ALL=1 (CI requires every test): {reason}"


@pytest.fixture(scope="session")
def analyzer():
    import anfu

    return anfu.load()
