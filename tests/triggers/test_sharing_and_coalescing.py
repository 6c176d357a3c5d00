"""Shared clients and coalesced polling keep every guarantee of the single-run trigger (emulator, HTTP)."""

from __future__ import annotations

import asyncio
import datetime
import json
import re
import threading
import time
from typing import Any

import pytest
import structlog

from airflow_provider_mwaas.triggers import coalescing, run_listing, shared_clients
from airflow_provider_mwaas.triggers.mwaa_serverless import WorkflowRunCompletedTrigger
from airflow_provider_mwaas.triggers.shared_clients import client_pool
from tests.triggers.conftest import make_trigger, only_event

pytestmark = pytest.mark.timeout(120)


def add_connection(monkeypatch: pytest.MonkeyPatch, conn_id: str, url: str, key: str = "testing") -> str:
    conn = {
        "conn_type": "aws",
        "login": key,
        "password": "testing",
        "extra": {"region_name": "us-east-1", "endpoint_url": url},
    }
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
    return conn_id


async def until(condition: Any, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.05)


def without_timing(event: dict[str, Any]) -> dict[str, Any]:
    """The event without what depends on timing: the wait's length and the task instances' durations."""
    kept = {key: value for key, value in event.items() if key != "waited_seconds"}
    if isinstance(kept.get("message"), str):
        kept["message"] = re.sub(r" after \d+s", " after <n>s", kept["message"])
    if kept.get("failed_task_instances"):
        kept["failed_task_instances"] = [
            {k: v for k, v in ti.items() if k != "DurationInSeconds"} for ti in kept["failed_task_instances"]
        ]
    return kept


# -- events are the single-run path's ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "outcome",
    [
        None,
        {"status": "FAILED", "error_message": "load blew up", "failed_tasks": ["load"]},
        {"status": "TIMEOUT", "error_message": "run took too long"},
    ],
    ids=["success", "failed", "timeout-state"],
)
async def test_coalesced_events_are_identical_to_the_single_run_path(
    aws_conn_env: str, emulator: Any, workflow_arn: str, start_run: Any, outcome: dict[str, Any] | None
) -> None:
    events = {}
    for coalesce in (False, True):
        if outcome:
            emulator.control.script_outcome(workflow_arn, **outcome)
        run_id = start_run()
        event = await only_event(make_trigger(aws_conn_env, workflow_arn, run_id, coalesce=coalesce))
        assert event["run_id"] == run_id
        events[coalesce] = json.loads(json.dumps(without_timing(event)).replace(run_id, "<run>"))
    assert events[True] == events[False]
    assert events[True]["status"] == ("success" if outcome is None else "failure")


async def test_deadline_means_the_same_when_coalesced(
    aws_conn_env: str, emulator: Any, workflow_arn: str, start_run: Any
) -> None:
    emulator.control.hold(workflow_arn=workflow_arn)
    trigger = make_trigger(aws_conn_env, workflow_arn, start_run(), waiter_max_attempts=3)
    event = await only_event(trigger)
    assert (event["status"], event["state"]) == ("timeout", "RUNNING")
    assert abs(time.time() - trigger.deadline) < 1.5
    assert 2.5 <= event["waited_seconds"] < 4.5


async def test_a_deadline_between_polls_ends_each_wait_at_its_deadline_with_no_timer_per_wait(
    aws_conn_env: str, emulator: Any, workflow_arn: str, start_run: Any
) -> None:
    emulator.control.hold(workflow_arn=workflow_arn)
    loop = asyncio.get_running_loop()

    def timers() -> int:
        return sum(1 for handle in loop._scheduled if not handle.cancelled())  # type: ignore[attr-defined]

    timers_before = timers()
    soon = time.time() + 3
    runs = [start_run() for _ in range(20)]
    triggers = [
        make_trigger(aws_conn_env, workflow_arn, r, waiter_delay=60, deadline=soon + i / 10) for i, r in enumerate(runs)
    ]
    tasks = [asyncio.ensure_future(only_event(trigger)) for trigger in triggers]
    await until(lambda: len(coalescing.pollers()) == 1)
    (poller,) = coalescing.pollers().values()
    await until(lambda: poller.polls == 1 and not poller._fresh)
    assert timers() - timers_before <= 5, "the poller's sleep and the HTTP client's, not one timer per wait (20)"
    events = await asyncio.wait_for(asyncio.gather(*tasks), 30)  # hang guard: the next poll is 60 s away
    assert [(e["status"], e["timeout_kind"]) for e in events] == [("timeout", "wait")] * 20
    assert {e["state"] for e in events} <= {"STARTING", "QUEUED"}, "the state the one poll saw"
    assert poller.polls == 1, "the poller woke each wait at its deadline: no poll needed"
    assert coalescing.pollers() == {} and client_pool().entries == {}


def test_every_trigger_logs_through_one_logger_for_its_class(aws_conn_env: str) -> None:
    first, second = (make_trigger(aws_conn_env, "arn:x", run_id) for run_id in ("a" * 32, "b" * 32))
    assert first.log is second.log is WorkflowRunCompletedTrigger.logger()

    class UsersTrigger(WorkflowRunCompletedTrigger):
        pass

    subclassed = UsersTrigger(workflow_arn="arn:x", run_id="c" * 32, aws_conn_id=aws_conn_env)
    assert subclassed.log is UsersTrigger.logger() is not first.log, "a subclass logs under its own name"


# -- requests -------------------------------------------------------------------------------------------------


async def test_waits_on_one_workflow_share_one_listing_per_poll_and_one_client(
    aws_conn_env: str, emulator: Any, workflow_arn: str, start_run: Any
) -> None:
    run_ids = [start_run() for _ in range(30)]
    triggers = [make_trigger(aws_conn_env, workflow_arn, run_id) for run_id in run_ids]
    tasks = [asyncio.ensure_future(only_event(trigger)) for trigger in triggers]
    await until(lambda: len(coalescing.pollers()) == 1)
    (poller,) = coalescing.pollers().values()
    (entry,) = client_pool().entries.values()
    events = await asyncio.gather(*tasks)
    assert [event["status"] for event in events] == ["success"] * 30
    requests = emulator.control.counters()["requests"]
    assert requests["ListWorkflowRuns"] == poller.polls, "one ListWorkflowRuns per poll, for all 30 runs"
    assert requests.get("GetWorkflowRun", 0) == 0
    assert entry.builds == 1
    assert client_pool().entries == {} and coalescing.pollers() == {}, "the last user closed the client"


async def test_a_run_missing_from_the_listing_still_completes_through_get_workflow_run(
    aws_conn_env: str, emulator: Any, workflow_arn: str, start_run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run_listing, "PAGE_SIZE", 1)
    monkeypatch.setattr(run_listing, "EXTRA_PAGES", 0)
    watched = start_run()
    emulator.control.hold(workflow_arn=workflow_arn)
    start_run()  # a newer run nobody here watches fills the only page read
    event = await only_event(make_trigger(aws_conn_env, workflow_arn, watched))
    assert (event["status"], event["run_id"]) == ("success", watched)
    requests = emulator.control.counters()["requests"]
    assert requests["GetWorkflowRun"] >= 3, "the fallback saw the run through its states"
    assert requests["ListWorkflowRuns"] >= 1


async def test_runs_added_and_finished_while_polling_each_get_their_own_event(
    aws_conn_env: str, emulator: Any, workflow_arn: str, start_run: Any
) -> None:
    emulator.control.hold(workflow_arn=workflow_arn)
    held = start_run()
    first = asyncio.ensure_future(only_event(make_trigger(aws_conn_env, workflow_arn, held)))
    await until(lambda: len(coalescing.pollers()) == 1)
    (poller,) = coalescing.pollers().values()
    await until(lambda: poller.polls >= 2)
    emulator.control.release(workflow_arn=workflow_arn)
    late = start_run()  # joins the running poller
    assert (await only_event(make_trigger(aws_conn_env, workflow_arn, late)))["status"] == "success"
    emulator.control.release(run_id=held)
    assert (await first)["status"] == "success"


# -- churn ----------------------------------------------------------------------------------------------------


async def test_a_trigger_cancelled_mid_poll_leaves_the_others_running(
    aws_conn_env: str, emulator: Any, workflow_arn: str, start_run: Any
) -> None:
    emulator.control.hold(workflow_arn=workflow_arn)
    run_ids = [start_run() for _ in range(3)]
    emulator.control.set_faults(latency=1.0, latency_seconds=0.8, operations=["ListWorkflowRuns"])
    tasks = [asyncio.ensure_future(only_event(make_trigger(aws_conn_env, workflow_arn, r))) for r in run_ids]
    await until(lambda: len(coalescing.pollers()) == 1)
    (poller,) = coalescing.pollers().values()
    await until(lambda: poller.polls >= 2)  # a listing is in flight (0.8 s of latency)
    tasks[0].cancel()
    with pytest.raises(asyncio.CancelledError):
        await tasks[0]
    assert set(poller.watchers) == set(run_ids[1:])
    emulator.control.clear_faults()
    for run_id in run_ids[1:]:
        emulator.control.release(run_id=run_id)
    events = await asyncio.gather(*tasks[1:])
    assert [(e["status"], e["run_id"]) for e in events] == [("success", r) for r in run_ids[1:]]
    runs = {run["RunId"]: run["Status"] for run in emulator.control.runs(workflow_arn)}
    assert runs[run_ids[0]] == "RUNNING", "cancelling a wait (triggerer shutdown) never stops the run"


async def test_triggers_recreated_after_a_restart_resume_on_a_fresh_poller(
    aws_conn_env: str, emulator: Any, workflow_arn: str, start_run: Any
) -> None:
    emulator.control.hold(workflow_arn=workflow_arn)
    run_ids = [start_run() for _ in range(3)]
    triggers = [make_trigger(aws_conn_env, workflow_arn, r) for r in run_ids]
    tasks = [asyncio.ensure_future(only_event(trigger)) for trigger in triggers]
    await until(lambda: sum(p.polls for p in coalescing.pollers().values()) >= 2)
    for task in tasks:
        task.cancel()  # the triggerer shuts down
    await asyncio.gather(*tasks, return_exceptions=True)
    assert coalescing.pollers() == {} and client_pool().entries == {}, "nothing outlives its triggers"

    recreated = [WorkflowRunCompletedTrigger(**trigger.serialize()[1]) for trigger in triggers]
    assert [t.deadline for t in recreated] == [t.deadline for t in triggers]
    emulator.control.release(workflow_arn=workflow_arn)
    events = await asyncio.gather(*(only_event(t) for t in recreated))
    assert [(e["status"], e["run_id"]) for e in events] == [("success", r) for r in run_ids]


# -- throttling -------------------------------------------------------------------------------------------------


async def test_throttled_coalesced_poll_lengthens_every_wait_and_none_ends(
    aws_conn_env: str, emulator: Any, workflow_arn: str, start_run: Any
) -> None:
    run_ids = [start_run() for _ in range(3)]
    emulator.control.set_faults(throttle=0.5, operations=["ListWorkflowRuns"], seed=3)
    no_retries = {"retries": {"mode": "standard", "max_attempts": 1}}
    triggers = [make_trigger(aws_conn_env, workflow_arn, r, botocore_config=no_retries) for r in run_ids]
    with structlog.testing.capture_logs() as logs:
        events = await asyncio.gather(*(only_event(t) for t in triggers))
    assert [e["status"] for e in events] == ["success"] * 3
    assert emulator.control.counters()["injected"]["throttle"] > 0
    warnings = [entry["event"] for entry in logs if entry["log_level"] == "warning"]
    assert warnings and all("ListWorkflowRuns failed" in w and "ThrottlingException" in w for w in warnings)
    assert emulator.control.counters()["requests"].get("GetWorkflowRun", 0) == 0, "no fan-out under throttling"


# -- client sharing -------------------------------------------------------------------------------------------


async def test_different_connections_never_share_a_client(
    emulator: Any, workflow_arn: str, start_run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator.control.hold(workflow_arn=workflow_arn)
    first = add_connection(monkeypatch, "mwaas_team_a", emulator.url)
    second = add_connection(monkeypatch, "mwaas_team_b", emulator.url)  # same endpoint and keys
    specs = [(first, {}), (first, {}), (second, {}), (first, {"botocore_config": {"read_timeout": 30}})]
    tasks = [
        asyncio.ensure_future(only_event(make_trigger(conn, workflow_arn, start_run(), **kw))) for conn, kw in specs
    ]
    await until(lambda: len(client_pool().entries) == 3 and all(e._client for e in client_pool().entries.values()))
    entries = client_pool().entries
    assert {(key[0], key[3]) for key in entries} == {(first, None), (first, '{"read_timeout": 30}'), (second, None)}
    assert entries[shared_clients.client_key({"aws_conn_id": first})].users == 2
    clients = [entry._client for entry in entries.values()]
    assert len({id(c) for c in clients}) == 3
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert client_pool().entries == {}


async def test_expired_credentials_rebuild_the_shared_client_from_the_connection(
    emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow_provider_mwaas.hooks.mwaa_serverless import MwaaServerlessHook

    conn_id = add_connection(monkeypatch, "mwaas_rotating", emulator.url, key="AKIDOLD")
    params = {"aws_conn_id": conn_id, "region_name": None, "verify": None, "botocore_config": None}
    async with client_pool().lease(params, lambda: MwaaServerlessHook.from_params(**params)) as shared:
        old = await shared.client()
        assert old._request_signer._credentials.access_key == "AKIDOLD"
        add_connection(monkeypatch, conn_id, emulator.url, key="AKIDNEW")  # the connection was rotated
        async with shared.use() as in_flight:
            shared.invalidate(in_flight)  # what an ExpiredTokenException answer does
            shared.invalidate(in_flight)  # a second user seeing the same error changes nothing more
            new = await shared.client()
            assert new is not old
            assert new._request_signer._credentials.access_key == "AKIDNEW"
            assert shared._retired, "the old client stays open while a call still uses it"
        assert not shared._retired, "...and is closed once that call ends"
        await new.list_workflows()
        assert shared.builds == 2


async def test_refreshable_credentials_are_refreshed_once_off_the_loop_for_all_sharers(
    emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aiobotocore.credentials import AioRefreshableCredentials

    from airflow_provider_mwaas.hooks.mwaa_serverless import MwaaServerlessHook

    refresh_threads: list[int] = []

    def sync_refresh() -> dict[str, str]:  # the amazon hook's assumed-role refresh is a sync STS call
        refresh_threads.append(threading.get_ident())
        time.sleep(0.2)
        expiry = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
        return {"access_key": "testing", "secret_key": "testing", "token": "testing", "expiry_time": expiry.isoformat()}

    conn_id = add_connection(monkeypatch, "mwaas_role", emulator.url)
    params = {"aws_conn_id": conn_id, "region_name": None, "verify": None, "botocore_config": None}
    async with client_pool().lease(params, lambda: MwaaServerlessHook.from_params(**params)) as shared:
        client = await shared.client()
        expired = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=1)
        client._request_signer._credentials = AioRefreshableCredentials.create_from_metadata(
            metadata={"access_key": "old", "secret_key": "old", "token": "old", "expiry_time": expired.isoformat()},
            refresh_using=sync_refresh,
            method="sts-assume-role",
        )
        MwaaServerlessHook._offload_sync_credential_refresh(client)

        async def call() -> None:
            async with shared.use() as c:
                await c.list_workflows()

        await asyncio.gather(*(call() for _ in range(20)))
    assert len(refresh_threads) == 1, "twenty concurrent users, one refresh"
    assert threading.get_ident() not in refresh_threads


# -- per loop -------------------------------------------------------------------------------------------------


def test_shared_state_belongs_to_one_event_loop() -> None:
    async def state() -> tuple[Any, Any]:
        return client_pool(), coalescing.pollers()

    first, second = asyncio.run(state()), asyncio.run(state())
    assert first[0] is not second[0] and first[1] is not second[1]
