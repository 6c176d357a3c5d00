"""The coalesced poll does not depend on ``ListWorkflowRuns`` listing newest first (an assumption the API
model does not document): with the emulator listing oldest first or shuffled, over several small pages,
every wait still ends with its own run's outcome (runs the listing did not reach are read with
GetWorkflowRun)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from airflow_provider_mwaas.triggers import run_listing
from tests.triggers.conftest import make_trigger, only_event

pytestmark = pytest.mark.timeout(120)


@pytest.mark.parametrize("order", ["oldest", "shuffled"])
async def test_every_wait_ends_with_its_own_outcome_whatever_the_listing_order(
    aws_conn_env: str, emulator: Any, workflow_arn: str, start_run: Any, monkeypatch: pytest.MonkeyPatch, order: str
) -> None:
    monkeypatch.setattr(run_listing, "PAGE_SIZE", 2)
    monkeypatch.setattr(run_listing, "EXTRA_PAGES", 0)
    emulator.control.set_assumptions(listing_order=order)
    unwatched = [start_run() for _ in range(5)]  # runs nobody here watches fill pages
    failing = start_run()
    emulator.control.script_outcome(workflow_arn, status="FAILED", error_message="bad row", run_id=failing)
    watched = [start_run() for _ in range(3)]

    events = await asyncio.gather(
        *(only_event(make_trigger(aws_conn_env, workflow_arn, run_id)) for run_id in [*watched, failing])
    )

    assert [(event["run_id"], event["status"]) for event in events] == [
        *((run_id, "success") for run_id in watched),
        (failing, "failure"),
    ]
    assert "bad row" in str(events[-1])
    assert len(unwatched) == 5
