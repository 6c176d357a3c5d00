"""Request counts at scale are behaviour: runs finishing together, failed runs, late joiners (emulator counters)."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import pytest

from airflow_provider_mwaas.triggers import coalescing, run_listing
from tests.triggers.conftest import make_trigger, only_event
from tests.triggers.test_sharing_and_coalescing import until

pytestmark = pytest.mark.timeout(120)

N = 40
PAGE = 10  # pages of 10 make 40 runs behave like 4,000 at the service's 100 per page


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run_listing, "PAGE_SIZE", PAGE)


async def _watch_all(conn: str, arn: str, run_ids: list[str], **kwargs: Any) -> tuple[list[Any], Any]:
    tasks = [asyncio.ensure_future(only_event(make_trigger(conn, arn, r, **kwargs))) for r in run_ids]
    await until(lambda: len(coalescing.pollers()) == 1)
    (poller,) = coalescing.pollers().values()
    await until(lambda: poller.polls >= 1 and not poller._fresh)
    return tasks, poller


async def test_runs_finishing_together_are_reported_from_the_listing_with_no_burst(
    aws_conn_env: str, emulator: Any, workflow_arn: str, start_run: Any, small_pages: None
) -> None:
    emulator.control.hold(workflow_arn=workflow_arn)
    run_ids = [start_run() for _ in range(N)]
    tasks, poller = await _watch_all(aws_conn_env, workflow_arn, run_ids)
    before = emulator.control.counters()["requests"]
    polls_before = poller.polls
    emulator.control.release(workflow_arn=workflow_arn)  # all N end at the next listing
    events = await asyncio.gather(*tasks)
    assert [e["status"] for e in events] == ["success"] * N
    after = emulator.control.counters()["requests"]
    spent = {op: after.get(op, 0) - before.get(op, 0) for op in after}
    polls = poller.polls - polls_before
    assert spent.get("GetWorkflowRun", 0) == 0, "a run that ended is reported from the listing itself"
    assert spent.get("ListTaskInstances", 0) <= coalescing.PROGRESS_READS_PER_INTERVAL * polls, spent
    assert spent["ListWorkflowRuns"] <= math.ceil(N / PAGE) * polls, (spent, polls)


async def test_failed_runs_alone_cost_diagnostics(
    aws_conn_env: str, emulator: Any, workflow_arn: str, start_run: Any, small_pages: None, monkeypatch: Any
) -> None:
    monkeypatch.setattr(coalescing, "PROGRESS_READS_PER_INTERVAL", 0)  # count diagnostics alone
    emulator.control.hold(workflow_arn=workflow_arn)
    run_ids = [start_run() for _ in range(N)]
    failing = set(run_ids[::10])
    for run_id in failing:
        emulator.control.script_outcome(workflow_arn, status="FAILED", error_message="boom", run_id=run_id)
    tasks, _ = await _watch_all(aws_conn_env, workflow_arn, run_ids)
    before = emulator.control.counters()["requests"]
    emulator.control.release(workflow_arn=workflow_arn)
    events = await asyncio.gather(*tasks)
    statuses = {e["run_id"]: e["status"] for e in events}
    assert statuses == {r: "failure" if r in failing else "success" for r in run_ids}
    failed_events = [e for e in events if e["status"] == "failure"]
    assert all("boom" in e["message"] and e["failed_task_instances"] for e in failed_events), failed_events[0]
    after = emulator.control.counters()["requests"]
    assert after.get("GetWorkflowRun", 0) - before.get("GetWorkflowRun", 0) == len(failing)
    assert after.get("ListTaskInstances", 0) - before.get("ListTaskInstances", 0) == len(failing)


async def test_failed_runs_diagnostics_spend_the_progress_budget_first(
    aws_conn_env: str, emulator: Any, workflow_arn: str, start_run: Any, small_pages: None, monkeypatch: Any
) -> None:
    emulator.control.hold(workflow_arn=workflow_arn)
    run_ids = [start_run() for _ in range(N)]
    failing = run_ids[-coalescing.PROGRESS_READS_PER_INTERVAL :]  # the newest: listed, so delivered, first
    for run_id in failing:
        emulator.control.script_outcome(workflow_arn, status="FAILED", error_message="boom", run_id=run_id)
    tasks, poller = await _watch_all(aws_conn_env, workflow_arn, run_ids)
    await until(lambda: all(r["Status"] == "RUNNING" for r in emulator.control.runs(workflow_arn)))
    polls = poller.polls
    await until(lambda: poller.polls > polls + 1)  # every trigger has seen RUNNING: no state change left
    before: dict[str, int] = {}
    sleep_until_next_poll = coalescing.WorkflowPoller._until

    async def release_between_polls(self: Any, began: float, factor: int) -> None:
        # released during a poll, the runs would end over two polls (the pages read before and after it)
        if not before:
            before.update(emulator.control.counters()["requests"])
            emulator.control.release(workflow_arn=workflow_arn)  # all N end at the next listing
        await sleep_until_next_poll(self, began, factor)

    monkeypatch.setattr(coalescing.WorkflowPoller, "_until", release_between_polls)
    events = await asyncio.gather(*tasks)
    assert sorted(e["run_id"] for e in events if e["status"] == "failure") == sorted(failing)
    after = emulator.control.counters()["requests"]
    # the failures' task instances used up the interval's budget: no progress read for the 35 successes
    assert after["ListTaskInstances"] - before.get("ListTaskInstances", 0) == len(failing)
    assert after["GetWorkflowRun"] - before.get("GetWorkflowRun", 0) == len(failing)


async def test_progress_lines_keep_within_the_pollers_budget(
    aws_conn_env: str, emulator: Any, workflow_arn: str, start_run: Any, small_pages: None
) -> None:
    emulator.control.configure_transitions(mode="call", calls_per_state=2)
    run_ids = [start_run() for _ in range(N)]
    tasks, poller = await _watch_all(aws_conn_env, workflow_arn, run_ids)
    events = await asyncio.gather(*tasks)
    assert [e["status"] for e in events] == ["success"] * N
    requests = emulator.control.counters()["requests"]
    assert 0 < requests.get("ListTaskInstances", 0) <= coalescing.PROGRESS_READS_PER_INTERVAL * poller.polls
    assert requests.get("GetWorkflowRun", 0) == 0


async def test_a_trigger_joining_between_polls_is_caught_up_before_the_next_poll(
    aws_conn_env: str, emulator: Any, workflow_arn: str, start_run: Any
) -> None:
    emulator.control.hold(workflow_arn=workflow_arn)
    first = asyncio.ensure_future(only_event(make_trigger(aws_conn_env, workflow_arn, start_run(), waiter_delay=60)))
    await until(lambda: len(coalescing.pollers()) == 1)
    (poller,) = coalescing.pollers().values()
    await until(lambda: poller.polls == 1 and not poller._fresh)
    late_run = start_run()
    late = asyncio.ensure_future(only_event(make_trigger(aws_conn_env, workflow_arn, late_run, waiter_delay=60)))
    await until(lambda: late_run in poller.watchers)
    await until(lambda: late_run not in poller._fresh)  # hang guard far below the 60 s interval
    assert poller.polls == 2, "one catch-up listing, not a second regular poll"
    requests = emulator.control.counters()["requests"]
    assert requests["ListWorkflowRuns"] == 2 and requests.get("GetWorkflowRun", 0) == 0
    for task in (first, late):
        task.cancel()
    await asyncio.gather(first, late, return_exceptions=True)


async def test_triggers_started_together_share_the_first_poll_even_when_their_start_takes_a_while(
    aws_conn_env: str, emulator: Any, workflow_arn: str, start_run: Any, small_pages: None
) -> None:
    emulator.control.hold(workflow_arn=workflow_arn)
    run_ids = [start_run() for _ in range(N // 2)]  # started over ~1 s: within JOIN_MAX
    tasks = []
    for run_id in run_ids:  # a triggerer creating triggers one by one, slower than the join window alone
        tasks.append(asyncio.ensure_future(only_event(make_trigger(aws_conn_env, workflow_arn, run_id))))
        await asyncio.sleep(coalescing.JOIN_WINDOW / 4)
    await until(lambda: len(coalescing.pollers()) == 1)
    (poller,) = coalescing.pollers().values()
    await until(lambda: not poller._fresh)
    assert poller.polls == 1, "arrivals kept coming, so the first poll waited for them"
    assert emulator.control.counters()["requests"]["ListWorkflowRuns"] == math.ceil(len(run_ids) / PAGE)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
