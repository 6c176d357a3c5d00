"""WorkflowRunEventsTrigger against the emulator: real run events, EventBridge and SQS (moto) over HTTP."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import structlog
from airflow.serialization.serialized_objects import BaseSerialization

from airflow_provider_mwaas.errors import InvalidParameterError
from airflow_provider_mwaas.hooks.mwaa_serverless import MwaaServerlessHook
from airflow_provider_mwaas.service.run_events import EVENT_SOURCE, RUN_DETAIL_TYPES
from airflow_provider_mwaas.triggers.workflow_run_events import WorkflowRunEventsTrigger

pytestmark = pytest.mark.timeout(120)

#: A guard against a broken trigger hanging the suite, not a performance figure.
GUARD_SECONDS = 60


@pytest.fixture
def hook(aws_conn_env: str) -> MwaaServerlessHook:
    return MwaaServerlessHook(aws_conn_id=aws_conn_env)


@pytest.fixture
def queue_url(hook: MwaaServerlessHook) -> str:
    """A fresh queue receiving every MWAA Serverless event (task events too: plenty the trigger must skip)."""
    suffix = uuid.uuid4().hex[:10]
    return hook.ensure_events_queue(queue_name=f"q-{suffix}", rule_name=f"r-{suffix}")


def trigger(conn: str, queue_url: str, workflow_arn: str, **kwargs: Any) -> WorkflowRunEventsTrigger:
    params: dict[str, Any] = {"wait_time_seconds": 1, "hold_seconds": 30}
    params.update(kwargs)
    return WorkflowRunEventsTrigger(queue_url=queue_url, workflow_arn=workflow_arn, aws_conn_id=conn, **params)


def run_to_end(hook: MwaaServerlessHook, arn: str) -> str:
    run_id = str(hook.start_workflow_run(arn)["RunId"])
    for _ in range(4):
        hook.get_workflow_run(arn, run_id)
    return run_id


async def take(events: AsyncIterator[Any], count: int) -> list[dict[str, Any]]:
    return [(await asyncio.wait_for(anext(events), GUARD_SECONDS)).payload for _ in range(count)]


def bodies(hook: MwaaServerlessHook, queue_url: str) -> list[dict[str, Any]]:
    sqs = hook.aws_client("sqs")
    found: list[dict[str, Any]] = []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        found.extend(json.loads(m["Body"]) for m in messages)
    return found


def put_event(hook: MwaaServerlessHook, detail_type: str, detail: dict[str, Any]) -> None:
    entry = {"Source": EVENT_SOURCE, "DetailType": detail_type, "Detail": json.dumps(detail)}
    assert hook.aws_client("events").put_events(Entries=[entry])["FailedEntryCount"] == 0


async def test_fires_once_per_successful_run_and_leaves_everything_else_in_the_queue(
    hook: MwaaServerlessHook, aws_conn_env: str, emulator: Any, workflow_arn: str, queue_url: str
) -> None:
    other = emulator.control.create_workflow("other")
    emulator.control.script_outcome(workflow_arn, status="FAILED")
    failed = run_to_end(hook, workflow_arn)
    run_to_end(hook, other)
    first, second = run_to_end(hook, workflow_arn), run_to_end(hook, workflow_arn)

    events = trigger(aws_conn_env, queue_url, workflow_arn).run()
    fired = await take(events, 2)
    # Stopped while the second event is with the triggerer: its message is not deleted yet (it is deleted when
    # the triggerer resumes the trigger), and is released with everything held for others.
    await events.aclose()

    assert [(e["run_id"], e["state"], e["workflow_arn"]) for e in fired] == [
        (first, "SUCCESS", workflow_arn),
        (second, "SUCCESS", workflow_arn),
    ]
    assert fired[0]["detail_type"] == RUN_DETAIL_TYPES["SUCCESS"] and fired[0]["event_id"]
    json.dumps(fired)  # the asset event's extra: plain JSON
    left = bodies(hook, queue_url)
    assert (RUN_DETAIL_TYPES["FAILED"], failed) in {(b["detail-type"], b["detail"]["runId"]) for b in left}
    assert (RUN_DETAIL_TYPES["SUCCESS"], other) in {(b["detail-type"], b["detail"]["workflowArn"]) for b in left}
    succeeded = [b["detail"]["runId"] for b in left if b["detail-type"] == RUN_DETAIL_TYPES["SUCCESS"]]
    assert first not in succeeded and succeeded.count(second) == 1


async def test_after_a_restart_the_event_not_yet_deleted_fires_again(
    hook: MwaaServerlessHook, aws_conn_env: str, workflow_arn: str, queue_url: str
) -> None:
    run_id = run_to_end(hook, workflow_arn)
    before_restart = trigger(aws_conn_env, queue_url, workflow_arn).run()
    [fired] = await take(before_restart, 1)
    await before_restart.aclose()  # the triggerer stops before resuming the trigger
    after_restart = trigger(aws_conn_env, queue_url, workflow_arn).run()
    [again] = await take(after_restart, 1)  # at-least-once
    follow_up = run_to_end(hook, workflow_arn)
    [next_one] = await take(after_restart, 1)
    await after_restart.aclose()
    assert fired["run_id"] == again["run_id"] == run_id and next_one["run_id"] == follow_up
    succeeded = [
        b["detail"]["runId"] for b in bodies(hook, queue_url) if b["detail-type"] == RUN_DETAIL_TYPES["SUCCESS"]
    ]
    assert succeeded == [follow_up]  # the re-fired one was deleted once the trigger went on


async def test_failed_states_fire_when_asked(
    hook: MwaaServerlessHook, aws_conn_env: str, emulator: Any, workflow_arn: str, queue_url: str
) -> None:
    run_to_end(hook, workflow_arn)
    emulator.control.script_outcome(workflow_arn, status="FAILED")
    failed = run_to_end(hook, workflow_arn)
    events = trigger(aws_conn_env, queue_url, workflow_arn, states=["FAILED", "TIMEOUT"]).run()
    [fired] = await take(events, 1)
    await events.aclose()
    assert (fired["run_id"], fired["state"]) == (failed, "FAILED")


async def test_a_duplicate_delivery_fires_once_and_is_deleted(
    hook: MwaaServerlessHook, aws_conn_env: str, workflow_arn: str, queue_url: str
) -> None:
    detail = {"workflowArn": workflow_arn, "runId": "run-dup", "status": "SUCCESS"}
    for _ in range(2):
        put_event(hook, RUN_DETAIL_TYPES["SUCCESS"], detail)
    put_event(hook, RUN_DETAIL_TYPES["SUCCESS"], {**detail, "runId": "run-next"})
    events = trigger(aws_conn_env, queue_url, workflow_arn).run()
    fired = await take(events, 2)
    await events.aclose()
    assert [e["run_id"] for e in fired] == ["run-dup", "run-next"]
    assert [b["detail"]["runId"] for b in bodies(hook, queue_url)] == ["run-next"]  # not yet deleted: see above


async def test_keeps_polling_an_empty_queue_and_fires_when_a_run_ends(
    hook: MwaaServerlessHook, aws_conn_env: str, workflow_arn: str, queue_url: str
) -> None:
    events = trigger(aws_conn_env, queue_url, workflow_arn).run()
    waiting = asyncio.ensure_future(take(events, 1))
    await asyncio.sleep(3)  # several empty long polls of 1 s
    assert not waiting.done()
    run_id = await asyncio.to_thread(run_to_end, hook, workflow_arn)
    [fired] = await waiting
    await events.aclose()
    assert fired["run_id"] == run_id


async def test_stale_messages_are_deleted_and_fresh_ones_kept(
    hook: MwaaServerlessHook, aws_conn_env: str, workflow_arn: str, queue_url: str
) -> None:
    put_event(hook, RUN_DETAIL_TYPES["FAILED"], {"workflowArn": workflow_arn, "runId": "old"})
    put_event(hook, RUN_DETAIL_TYPES["SUCCESS"], {"workflowArn": workflow_arn, "runId": "fires"})
    events = trigger(aws_conn_env, queue_url, workflow_arn, stale_after_seconds=0).run()
    await take(events, 1)
    await events.aclose()
    assert [b["detail"]["runId"] for b in bodies(hook, queue_url)] == ["fires"]  # only the one not yet deleted

    suffix = uuid.uuid4().hex[:10]
    queue_url = hook.ensure_events_queue(queue_name=f"q-{suffix}", rule_name=f"r-{suffix}")  # bodies() hid the rest
    put_event(hook, RUN_DETAIL_TYPES["FAILED"], {"workflowArn": workflow_arn, "runId": "kept"})
    put_event(hook, RUN_DETAIL_TYPES["SUCCESS"], {"workflowArn": workflow_arn, "runId": "fires-too"})
    events = trigger(aws_conn_env, queue_url, workflow_arn, stale_after_seconds=None).run()
    await take(events, 1)
    await events.aclose()
    assert sorted(b["detail"]["runId"] for b in bodies(hook, queue_url)) == ["fires-too", "kept"]


async def test_a_missing_queue_logs_once_backs_off_and_recovers(
    hook: MwaaServerlessHook, aws_conn_env: str, workflow_arn: str
) -> None:
    suffix = uuid.uuid4().hex[:10]
    queue_url = f"{hook.conn_config.endpoint_url}/123456789012/q-{suffix}"
    events = trigger(aws_conn_env, queue_url, workflow_arn, max_backoff_seconds=1).run()
    with structlog.testing.capture_logs() as logs:
        waiting = asyncio.ensure_future(take(events, 1))
        await asyncio.sleep(3.5)  # several failed tries, 1 s apart
        assert not waiting.done()
        assert hook.ensure_events_queue(queue_name=f"q-{suffix}", rule_name=f"r-{suffix}") == queue_url
        run_id = await asyncio.to_thread(run_to_end, hook, workflow_arn)
        [fired] = await waiting
    await events.aclose()
    assert fired["run_id"] == run_id
    errors = [e["event"] for e in logs if e["log_level"] == "error"]
    assert len(errors) == 1 and queue_url in errors[0], errors
    assert "NonExistentQueue" in errors[0] or "QueueDoesNotExist" in errors[0]
    assert any("readable again" in e["event"] for e in logs)


def test_serializes_to_plain_kwargs_and_round_trips(workflow_arn: str) -> None:
    url = "http://127.0.0.1:5000/123456789012/q"
    original = WorkflowRunEventsTrigger(queue_url=url, workflow_arn=workflow_arn, aws_conn_id="c")
    classpath, kwargs = original.serialize()
    assert classpath == "airflow_provider_mwaas.triggers.workflow_run_events.WorkflowRunEventsTrigger"
    BaseSerialization.serialize(kwargs)
    assert WorkflowRunEventsTrigger(**kwargs).serialize() == (classpath, kwargs)


def test_serialized_kwargs_are_exactly_these_in_this_order() -> None:
    # Trigger kwargs are stored in Airflow's database (asset watchers): a change of key, value or order is a
    # change of what is stored, not a refactoring.
    arn = "arn:aws:airflow-serverless:us-east-1:123456789012:workflow/orders-abc"
    url = "https://sqs.us-east-1.amazonaws.com/123456789012/q"
    trigger = WorkflowRunEventsTrigger(
        queue_url=url, workflow_arn=arn, region_name="eu-west-1", verify=False, botocore_config={"retries": {}}
    )
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_mwaas.triggers.workflow_run_events.WorkflowRunEventsTrigger"
    assert list(kwargs.items()) == [
        ("queue_url", url),
        ("workflow_arn", arn),
        ("states", ["SUCCESS"]),
        ("aws_conn_id", "aws_default"),
        ("region_name", "eu-west-1"),
        ("verify", False),
        ("botocore_config", {"retries": {}}),
        ("wait_time_seconds", 20),
        ("hold_seconds", 30),
        ("stale_after_seconds", 3600),
        ("max_backoff_seconds", 300.0),
    ]
    assert json.dumps(kwargs) == (
        f'{{"queue_url": "{url}", "workflow_arn": "{arn}", "states": ["SUCCESS"], "aws_conn_id": "aws_default", '
        '"region_name": "eu-west-1", "verify": false, "botocore_config": {"retries": {}}, "wait_time_seconds": 20, '
        '"hold_seconds": 30, "stale_after_seconds": 3600, "max_backoff_seconds": 300.0}'
    )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"queue_url": "my-queue"}, "queue_url"),
        ({"workflow_arn": "orders"}, "workflow_arn"),
        ({"states": ["RUNNING"]}, "states"),
        ({"states": "SUCCESS"}, "states"),
        ({"wait_time_seconds": 0}, "wait_time_seconds"),
        ({"hold_seconds": 0}, "hold_seconds"),
        ({"stale_after_seconds": -1}, "stale_after_seconds"),
    ],
)
def test_bad_input_is_refused_at_construction(kwargs: dict[str, Any], field: str) -> None:
    params: dict[str, Any] = {
        "queue_url": "https://sqs.us-east-1.amazonaws.com/123456789012/q",
        "workflow_arn": "arn:aws:airflow-serverless:us-east-1:123456789012:workflow/orders-abc",
    }
    with pytest.raises(InvalidParameterError) as info:
        WorkflowRunEventsTrigger(**{**params, **kwargs})
    assert info.value.field == field
