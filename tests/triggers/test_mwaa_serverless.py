"""WorkflowRunCompletedTrigger against the emulator over HTTP (aiobotocore, real signing, no mocks)."""

from __future__ import annotations

import asyncio
import json
import os
import time
from typing import Any

import pytest
import structlog
from airflow.serialization.serialized_objects import BaseSerialization

from airflow_provider_mwaas.triggers.mwaa_serverless import WorkflowRunCompletedTrigger
from tests.triggers.conftest import make_trigger, only_event

pytestmark = pytest.mark.timeout(120)

CLASSPATH = "airflow_provider_mwaas.triggers.mwaa_serverless.WorkflowRunCompletedTrigger"


# -- outcomes ----------------------------------------------------------------------------------------


async def test_successful_run_yields_one_success_event(aws_conn_env: str, workflow_arn: str, start_run: Any) -> None:
    run_id = start_run()
    event = await only_event(make_trigger(aws_conn_env, workflow_arn, run_id))
    assert event["status"] == "success"
    assert event["state"] == "SUCCESS"
    assert (event["workflow_arn"], event["run_id"]) == (workflow_arn, run_id)
    assert event["failed_task_instances"] == []
    assert event["error"] is None
    json.dumps(event)  # the triggerer stores it: plain JSON only


async def test_failed_run_event_carries_error_message_and_failed_task_instances(
    aws_conn_env: str, emulator: Any, workflow_arn: str, start_run: Any
) -> None:
    emulator.control.script_outcome(workflow_arn, status="FAILED", error_message="load blew up", failed_tasks=["load"])
    run_id = start_run()
    event = await only_event(make_trigger(aws_conn_env, workflow_arn, run_id))
    assert event["status"] == "failure"
    assert event["state"] == "FAILED"
    assert event["message"] == "load blew up"
    failed = event["failed_task_instances"]
    assert [ti["TaskInstanceId"] for ti in failed] == ["load"]
    assert set(failed[0]) == {"TaskInstanceId", "OperatorName", "Status", "DurationInSeconds"}
    assert failed[0]["Status"] == "FAILED"


async def test_timed_out_run_is_a_failure_event(
    aws_conn_env: str, emulator: Any, workflow_arn: str, start_run: Any
) -> None:
    emulator.control.script_outcome(workflow_arn, status="TIMEOUT", error_message="run took too long")
    run_id = start_run()
    event = await only_event(make_trigger(aws_conn_env, workflow_arn, run_id))
    assert (event["status"], event["state"], event["message"]) == ("failure", "TIMEOUT", "run took too long")


async def test_wait_ends_with_timeout_event_at_the_deadline(
    aws_conn_env: str, emulator: Any, workflow_arn: str, start_run: Any
) -> None:
    emulator.control.hold(workflow_arn=workflow_arn)
    run_id = start_run()
    began = time.monotonic()
    event = await only_event(make_trigger(aws_conn_env, workflow_arn, run_id, waiter_max_attempts=3))
    elapsed = time.monotonic() - began
    assert event["status"] == "timeout"
    assert event["state"] == "RUNNING"
    assert 2.5 <= elapsed < 6
    assert 2.5 <= event["waited_seconds"] < 6


async def test_unknown_run_yields_error_event_with_code_and_request_id(aws_conn_env: str, workflow_arn: str) -> None:
    event = await only_event(make_trigger(aws_conn_env, workflow_arn, "no-such-run"))
    assert event["status"] == "error"
    error = event["error"]
    assert error["code"] == "ResourceNotFoundException"
    assert error["operation"] == "GetWorkflowRun"
    assert error["request_id"]
    assert error["retryable"] is False
    assert "ResourceNotFoundException" in event["message"]


async def test_unreachable_endpoint_ends_with_error_event_not_a_hang(
    workflow_arn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = {
        "conn_type": "aws",
        "login": "testing",
        "password": "testing",
        "extra": {"region_name": "us-east-1", "endpoint_url": "http://127.0.0.1:9"},
    }
    monkeypatch.setenv("AIRFLOW_CONN_MWAAS_NOWHERE", json.dumps(conn))
    trigger = make_trigger(
        "mwaas_nowhere",
        workflow_arn,
        "run-1",
        botocore_config={"retries": {"mode": "standard", "max_attempts": 1}, "connect_timeout": 1},
    )
    monkeypatch.setattr("airflow_provider_mwaas.service.error_kinds.MAX_BACKOFF_FACTOR", 1)
    monkeypatch.setattr("airflow_provider_mwaas.service.error_kinds.MAX_CONSECUTIVE_TRANSIENT_FAILURES", 2)
    event = await only_event(trigger)
    assert event["status"] == "error"
    assert event["error"]["retryable"] is True
    assert event["error"]["code"] == "EndpointConnectionError"


# -- resilience --------------------------------------------------------------------------------------


async def test_throttling_absorbed_by_botocore_retries_still_succeeds(
    aws_conn_env: str, emulator: Any, workflow_arn: str, start_run: Any
) -> None:
    run_id = start_run()
    emulator.control.set_faults(throttle=0.6, operations=["GetWorkflowRun", "ListTaskInstances"], seed=1)
    event = await only_event(make_trigger(aws_conn_env, workflow_arn, run_id))
    assert event["status"] == "success"
    assert emulator.control.counters()["injected"].get("throttle", 0) > 0


@pytest.mark.parametrize(("coalesce", "operation"), [(True, "ListWorkflowRuns"), (False, "GetWorkflowRun")])
async def test_throttling_that_escapes_botocore_lengthens_the_wait_instead_of_ending_it(
    aws_conn_env: str, emulator: Any, workflow_arn: str, start_run: Any, coalesce: bool, operation: str
) -> None:
    run_id = start_run()
    emulator.control.set_faults(throttle=0.5, operations=[operation], seed=3)
    trigger = make_trigger(
        aws_conn_env,
        workflow_arn,
        run_id,
        coalesce=coalesce,
        botocore_config={"retries": {"mode": "standard", "max_attempts": 1}},
    )
    with structlog.testing.capture_logs() as logs:
        event = await only_event(trigger)
    assert event["status"] == "success"
    assert emulator.control.counters()["injected"].get("throttle", 0) > 0
    warnings = [entry["event"] for entry in logs if entry["log_level"] == "warning"]
    assert warnings, "the escaped ThrottlingException was logged"
    assert all(
        f"{operation} failed" in w and "ThrottlingException" in w and "still waiting; next poll in " in w
        for w in warnings
    )


async def test_state_changes_and_task_progress_are_logged_once_each(
    aws_conn_env: str, emulator: Any, workflow_arn: str, start_run: Any
) -> None:
    emulator.control.configure_transitions(mode="call", calls_per_state=2)
    run_id = start_run()
    with structlog.testing.capture_logs() as logs:
        await only_event(make_trigger(aws_conn_env, workflow_arn, run_id))
    prefix = f"Workflow run {run_id}: "
    waiting = [entry["event"] for entry in logs if entry["event"].startswith(f"Waiting for workflow run {run_id} ")]
    assert len(waiting) == 1, "the wait is announced once, with the run's first state"
    lines = [waiting[0].rpartition("): ")[2]]
    lines += [entry["event"][len(prefix) :] for entry in logs if entry["event"].startswith(prefix)]
    progress = [line for line in lines if not line.startswith("wait ended")]
    assert progress[0] in {"STARTING", "QUEUED"}
    assert any(line.startswith("RUNNING: ") and line.endswith("task instances done") for line in progress)
    assert progress[-1] == "SUCCESS: 3/3 task instances done"
    requests = emulator.control.counters()["requests"]
    polls = requests.get("ListWorkflowRuns", 0) + requests.get("GetWorkflowRun", 0)
    assert polls > len(progress), "polled more than logged"
    assert len(progress) == len(set(progress)), "a line is logged only when the state or progress changes"


# -- serialisation and triggerer restarts --------------------------------------------------------------


def test_serialize_round_trips_every_argument_including_the_hook_params() -> None:
    trigger = WorkflowRunCompletedTrigger(
        workflow_arn="arn:aws-cn:airflow-serverless:cn-north-1:123456789012:workflow/orders-abcdef1234",
        run_id="run-1",
        waiter_delay=7,
        waiter_max_attempts=9,
        deadline=1_900_000_000.5,
        stop_on_kill=False,
        success_states=["RUNNING", "SUCCESS"],
        failure_states=["FAILED"],
        coalesce=False,
        aws_conn_id="my_conn",
        region_name="cn-north-1",
        verify="/etc/ssl/ca.pem",
        botocore_config={"retries": {"mode": "adaptive", "max_attempts": 20}, "read_timeout": 30},
    )
    classpath, kwargs = trigger.serialize()
    assert classpath == CLASSPATH
    assert kwargs["region_name"] == "cn-north-1"
    assert kwargs["verify"] == "/etc/ssl/ca.pem"
    assert kwargs["botocore_config"] == {"retries": {"mode": "adaptive", "max_attempts": 20}, "read_timeout": 30}
    assert WorkflowRunCompletedTrigger(**kwargs).serialize() == (classpath, kwargs)
    # the triggerer stores kwargs through Airflow's serializer: the round trip survives it too
    stored = BaseSerialization.deserialize(json.loads(json.dumps(BaseSerialization.serialize(kwargs))))
    assert WorkflowRunCompletedTrigger(**stored).serialize() == (classpath, kwargs)


def test_serialized_kwargs_hold_no_credentials(aws_conn_env: str) -> None:
    _, kwargs = make_trigger(aws_conn_env, "arn:x", "run-1").serialize()
    text = json.dumps(kwargs)
    for secret in (os.environ["AWS_SECRET_ACCESS_KEY"], os.environ["AWS_SESSION_TOKEN"]):
        assert f'"{secret}"' not in text
    assert set(kwargs) == {
        "workflow_arn",
        "run_id",
        "waiter_delay",
        "waiter_max_attempts",
        "deadline",
        "execution_deadline",
        "stop_on_kill",
        "success_states",
        "failure_states",
        "coalesce",
        "events_queue_url",
        "events_safety_interval",
        "aws_conn_id",
        "region_name",
        "verify",
        "botocore_config",
    }


def test_deadline_defaults_to_now_plus_the_whole_wait_and_is_then_fixed() -> None:
    before = time.time()
    trigger = WorkflowRunCompletedTrigger(workflow_arn="arn:x", run_id="run-1", waiter_delay=10, waiter_max_attempts=6)
    assert before + 60 <= trigger.deadline <= time.time() + 60
    assert WorkflowRunCompletedTrigger(**trigger.serialize()[1]).deadline == trigger.deadline


async def test_trigger_recreated_after_a_restart_waits_on_the_same_run_until_the_same_deadline(
    aws_conn_env: str, emulator: Any, workflow_arn: str, start_run: Any
) -> None:
    emulator.control.hold(workflow_arn=workflow_arn)
    run_id = start_run()
    first = make_trigger(aws_conn_env, workflow_arn, run_id, waiter_max_attempts=4)
    deadline = first.deadline
    _, kwargs = first.serialize()

    task = asyncio.ensure_future(only_event(first))
    await asyncio.sleep(1.5)
    task.cancel()  # what a triggerer shutdown does
    with pytest.raises(asyncio.CancelledError):
        await task

    second = WorkflowRunCompletedTrigger(**kwargs)
    assert (second.run_id, second.deadline) == (run_id, deadline)
    event = await only_event(second)
    assert event["status"] == "timeout"
    assert abs(time.time() - deadline) < 1.5, "the recreated trigger gave up at the original deadline"
    assert 3.5 <= event["waited_seconds"] < 5.5


async def test_recreated_trigger_sees_the_run_finish(
    aws_conn_env: str, emulator: Any, workflow_arn: str, start_run: Any
) -> None:
    emulator.control.hold(workflow_arn=workflow_arn)
    run_id = start_run()
    first = make_trigger(aws_conn_env, workflow_arn, run_id)
    task = asyncio.ensure_future(only_event(first))
    await asyncio.sleep(1.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    emulator.control.release(run_id=run_id)
    event = await only_event(WorkflowRunCompletedTrigger(**first.serialize()[1]))
    assert (event["status"], event["run_id"]) == ("success", run_id)


# -- on_kill: through the triggerer's own cancellation code -----------------------------------------------


async def _run_in_triggerer_then_cancel(
    trigger: WorkflowRunCompletedTrigger, *, user_action: bool, task_instance: Any = None
) -> None:
    """Run ``trigger`` in Airflow's TriggerRunner, then cancel it as a user kill or as a shutdown would
    (``task_instance``: attached to the trigger once it runs, as the triggerer's own would be)."""
    from airflow.jobs.triggerer_job_runner import TriggerRunner

    runner = TriggerRunner()
    task = asyncio.ensure_future(runner.run_trigger(1, trigger))
    runner.triggers[1] = {"task": task, "is_watcher": False, "name": "mwaas-test", "events": 0}
    await asyncio.sleep(1.5)
    if task_instance is not None:
        trigger.task_instance = task_instance
    if user_action:
        runner.to_cancel.append(1)
        await runner.cancel_triggers()  # the path taken when a user marks/clears the deferred task
    else:
        task.cancel()  # the path taken on triggerer shutdown / restart
    with pytest.raises(asyncio.CancelledError):
        await task
    assert runner.events == type(runner.events)()


def _state(client: Any, workflow_arn: str, run_id: str) -> str:
    return str(client.get_workflow_run(WorkflowArn=workflow_arn, RunId=run_id)["RunDetail"]["RunState"])


requires_on_kill = pytest.mark.skipif(
    "on_kill" not in vars(__import__("airflow.triggers.base", fromlist=["BaseTrigger"]).BaseTrigger),
    reason="BaseTrigger.on_kill arrived in Airflow 3.3",
)


@requires_on_kill
async def test_user_kill_of_the_deferred_task_stops_the_run(
    aws_conn_env: str, emulator: Any, client: Any, workflow_arn: str, start_run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_DISABLE_GREENBACK_PORTAL", "true")
    emulator.control.hold(workflow_arn=workflow_arn)
    run_id = start_run()
    await _run_in_triggerer_then_cancel(make_trigger(aws_conn_env, workflow_arn, run_id), user_action=True)
    assert emulator.control.counters()["requests"].get("StopWorkflowRun") == 1
    assert _state(client, workflow_arn, run_id) in {"STOPPING", "STOPPED"}


@requires_on_kill
async def test_triggerer_restart_does_not_stop_the_run(
    aws_conn_env: str, emulator: Any, client: Any, workflow_arn: str, start_run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_DISABLE_GREENBACK_PORTAL", "true")
    emulator.control.hold(workflow_arn=workflow_arn)
    run_id = start_run()
    await _run_in_triggerer_then_cancel(make_trigger(aws_conn_env, workflow_arn, run_id), user_action=False)
    assert emulator.control.counters()["requests"].get("StopWorkflowRun", 0) == 0
    assert _state(client, workflow_arn, run_id) == "RUNNING"


@requires_on_kill
async def test_user_kill_leaves_the_run_alone_when_stop_on_kill_is_false(
    aws_conn_env: str, emulator: Any, client: Any, workflow_arn: str, start_run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_DISABLE_GREENBACK_PORTAL", "true")
    emulator.control.hold(workflow_arn=workflow_arn)
    run_id = start_run()
    trigger = make_trigger(aws_conn_env, workflow_arn, run_id, stop_on_kill=False)
    await _run_in_triggerer_then_cancel(trigger, user_action=True)
    assert emulator.control.counters()["requests"].get("StopWorkflowRun", 0) == 0
    assert _state(client, workflow_arn, run_id) == "RUNNING"


async def test_on_kill_after_the_run_ended_sends_no_stop(
    aws_conn_env: str, emulator: Any, workflow_arn: str, start_run: Any
) -> None:
    trigger = make_trigger(aws_conn_env, workflow_arn, start_run())
    assert (await only_event(trigger))["status"] == "success"
    await trigger.on_kill()
    assert emulator.control.counters()["requests"].get("StopWorkflowRun", 0) == 0


# -- arguments ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"waiter_delay": 0}, "waiter_delay"),
        ({"waiter_max_attempts": -1}, "waiter_max_attempts"),
        ({"run_id": ""}, "run_id"),
        ({"success_states": ["DONE"]}, "success_states"),
    ],
)
def test_bad_arguments_are_refused_naming_the_field(kwargs: dict[str, Any], field: str) -> None:
    from airflow_provider_mwaas.errors import InvalidParameterError

    params: dict[str, Any] = {"workflow_arn": "arn:x", "run_id": "run-1", **kwargs}
    with pytest.raises(InvalidParameterError) as info:
        WorkflowRunCompletedTrigger(**params)
    assert info.value.field == field


# -- the event loop stays free ----------------------------------------------------------------------------


async def test_sync_credential_refresh_of_assumed_roles_runs_off_the_event_loop(emulator: Any) -> None:
    """The amazon hook's assumed-role credentials refresh through sync STS calls; they must not block."""
    import datetime
    import threading

    from aiobotocore.credentials import AioRefreshableCredentials
    from aiobotocore.session import get_session

    from airflow_provider_mwaas.hooks.mwaa_serverless import MwaaServerlessHook

    refresh_threads: list[int] = []

    def sync_refresh() -> dict[str, str]:
        refresh_threads.append(threading.get_ident())
        expiry = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
        return {"access_key": "testing", "secret_key": "testing", "token": "testing", "expiry_time": expiry.isoformat()}

    expired = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=1)
    credentials = AioRefreshableCredentials.create_from_metadata(
        metadata={"access_key": "old", "secret_key": "old", "token": "old", "expiry_time": expired.isoformat()},
        refresh_using=sync_refresh,
        method="sts-assume-role",
    )
    session = get_session()
    session._credentials = credentials
    async with session.create_client("mwaa-serverless", region_name="us-east-1", endpoint_url=emulator.url) as client:
        MwaaServerlessHook._offload_sync_credential_refresh(client)
        await client.list_workflows()
    assert refresh_threads, "the expired credentials were refreshed"
    assert threading.get_ident() not in refresh_threads
