"""Shared pytest glue for the end-to-end tests (see docs/e2e.md)."""

from __future__ import annotations

import pytest


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Expose each phase's report as ``item.rep_<phase>`` so fixtures can print diagnostics on failure."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
