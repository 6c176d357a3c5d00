"""Event-woken waits: real SQS (moto, through the emulator's endpoint), real aiobotocore, real triggers.

One test takes the whole path (``ensure_events_queue``, the emulator's own event through EventBridge
and the rule); the others put EventBridge-shaped messages into the queue by hand (tests/sqs_events.py),
to drive each rule of the consumer with exact shapes, unknown ones included. With ``waiter_delay=60`` and a safety
interval of an hour, a wait that ends within the test's time limit ended because of an event; the
emulator's request counters show how many listings it cost.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from typing import Any

import pytest
from airflow.serialization.serialized_objects import BaseSerialization

from airflow_provider_mwaas.errors import InvalidParameterError
from airflow_provider_mwaas.triggers import coalescing, event_wake
from airflow_provider_mwaas.triggers.mwaa_serverless import WorkflowRunCompletedTrigger
from tests.sqs_events import create_queue, queue_depth, send_run_event, sqs_client
from tests.triggers.conftest import make_trigger, only_event
from tests.triggers.test_sharing_and_coalescing import add_connection, until

pytestmark = pytest.mark.timeout(120)

SLOW = {"waiter_delay": 60, "events_safety_interval": 3600}  # only an event can end these waits in time


@pytest.fixture(autouse=True)
def short_long_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    """2 s long polls instead of SQS's 20: a deleted queue is noticed when the receive in flight ends, and
    the tests that delete one would otherwise wait out 20 s each (the consumer reads the constant per call)."""
    monkeypatch.setattr(event_wake, "WAIT_SECONDS", 2)


@pytest.fixture
def queue(emulator: Any) -> str:
    return create_queue(emulator.url, f"events-{uuid.uuid4().hex[:12]}")


@pytest.fixture
def sqs(emulator: Any) -> Any:
    return sqs_client(emulator.url)


@pytest.fixture
def held_run(emulator: Any, workflow_arn: str, client: Any) -> Any:
    """Start a run and read it until it is RUNNING, held there until the test releases it."""
    emulator.control.hold(workflow_arn=workflow_arn)

    def start() -> str:
        run_id = str(client.start_workflow_run(WorkflowArn=workflow_arn)["RunId"])
        while client.get_workflow_run(WorkflowArn=workflow_arn, RunId=run_id)["RunDetail"]["RunState"] != "RUNNING":
            pass
        return run_id

    return start


def requests(emulator: Any) -> dict[str, int]:
    return dict(emulator.control.counters()["requests"])


def spent(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {op: after[op] - before.get(op, 0) for op in after if after[op] - before.get(op, 0)}


def the_poller() -> coalescing.WorkflowPoller:
    (poller,) = coalescing.pollers().values()
    return poller


def settled(conn_id: str) -> bool:
    """Every wait had its first result and the queue is being read."""
    return bool(coalescing.pollers()) and not the_poller()._fresh and consumer_of(conn_id).healthy


def consumer_of(conn_id: str) -> event_wake.QueueConsumer:
    return next(c for key, c in event_wake.consumers().items() if key[1][0] == conn_id)


# -- an event wakes the wait -----------------------------------------------------------------------------


async def test_an_event_ends_the_wait_with_one_listing_instead_of_the_next_poll(
    aws_conn_env: str, emulator: Any, workflow_arn: str, held_run: Any, queue: str, sqs: Any
) -> None:
    run_id = held_run()
    trigger = make_trigger(aws_conn_env, workflow_arn, run_id, events_queue_url=queue, **SLOW)
    waiting = asyncio.ensure_future(only_event(trigger))
    await until(lambda: settled(aws_conn_env))
    assert the_poller().interval == 3600  # the queue is readable: polling only as a safety net
    before = requests(emulator)
    emulator.control.release(run_id=run_id)
    send_run_event(sqs, queue, workflow_arn, run_id, "SUCCESS")
    event = await waiting
    assert (event["status"], event["state"]) == ("success", "SUCCESS")
    cost = spent(before, requests(emulator))
    assert cost.get("ListWorkflowRuns") == 1 and "GetWorkflowRun" not in cost, cost
    await until(lambda: queue_depth(sqs, queue) == 0)  # the message used here was deleted
    assert event_wake.consumers() == {} and coalescing.pollers() == {}, "the last wait stopped the consumer"


async def test_a_burst_of_events_costs_fewer_listings_than_events(
    aws_conn_env: str, emulator: Any, workflow_arn: str, held_run: Any, queue: str, sqs: Any
) -> None:
    run_ids = [held_run() for _ in range(5)]
    waiting = [
        asyncio.ensure_future(only_event(make_trigger(aws_conn_env, workflow_arn, r, events_queue_url=queue, **SLOW)))
        for r in run_ids
    ]
    await until(lambda: settled(aws_conn_env))
    poller = the_poller()
    emulator.control.release(workflow_arn=workflow_arn)
    entries = [
        {"Id": str(i), "MessageBody": json.dumps(_event(workflow_arn, r, "SUCCESS"))} for i, r in enumerate(run_ids)
    ]
    sqs.send_message_batch(QueueUrl=queue, Entries=entries)
    events = await asyncio.gather(*waiting)
    assert [e["status"] for e in events] == ["success"] * 5
    assert 1 <= poller.looks < len(run_ids), "events arriving together share a listing"


async def test_a_look_at_a_run_deep_in_the_listing_asks_for_it_instead_of_paging_to_it(
    aws_conn_env: str, emulator: Any, workflow_arn: str, held_run: Any, start_run: Any, queue: str, sqs: Any
) -> None:
    run_id = held_run()
    for _ in range(250):  # newer runs nobody here watches: the watched run sits on the third page
        start_run()
    waiting = asyncio.ensure_future(only_event(wake_trigger(aws_conn_env, workflow_arn, run_id, queue)))
    await until(lambda: settled(aws_conn_env))
    before = requests(emulator)
    emulator.control.release(run_id=run_id)
    send_run_event(sqs, queue, workflow_arn, run_id, "SUCCESS")
    assert (await waiting)["status"] == "success"
    cost = spent(before, requests(emulator))
    assert cost.get("GetWorkflowRun") == 1 and "ListWorkflowRuns" not in cost, "one call, not three pages"


async def test_a_failed_look_is_not_the_waits_result_and_polling_takes_over(
    aws_conn_env: str, emulator: Any, workflow_arn: str, held_run: Any, start_run: Any, queue: str, sqs: Any
) -> None:
    run_id = held_run()
    for _ in range(250):
        start_run()
    params = {"events_queue_url": queue, "waiter_delay": 2, "events_safety_interval": 3600}
    waiting = asyncio.ensure_future(only_event(make_trigger(aws_conn_env, workflow_arn, run_id, **params)))
    await until(lambda: settled(aws_conn_env))
    poller = the_poller()
    emulator.control.script_refusal("AccessDeniedException", operations=["GetWorkflowRun"], count=1)
    emulator.control.release(run_id=run_id)
    send_run_event(sqs, queue, workflow_arn, run_id, "SUCCESS")
    await until(lambda: poller.looks == 1 and poller.interval == 2)  # the look failed: poll at waiter_delay
    event = await waiting
    assert (event["status"], event["state"]) == ("success", "SUCCESS"), "the look's refusal never reached the wait"


async def test_an_event_for_a_run_whose_wait_already_ended_here_is_deleted_without_a_look(
    aws_conn_env: str, emulator: Any, workflow_arn: str, held_run: Any, queue: str, sqs: Any
) -> None:
    first, second, running = held_run(), held_run(), held_run()
    runs = (first, second, running)
    waits = {r: asyncio.ensure_future(only_event(wake_trigger(aws_conn_env, workflow_arn, r, queue))) for r in runs}
    await until(lambda: settled(aws_conn_env))
    poller, consumer = the_poller(), consumer_of(aws_conn_env)
    emulator.control.release(run_id=first)
    emulator.control.release(run_id=second)
    send_run_event(sqs, queue, workflow_arn, first, "SUCCESS")
    # the look for the first run's event lists the page that shows both ended: both waits end
    await asyncio.gather(waits[first], waits[second])
    assert poller.looks == 1
    send_run_event(sqs, queue, workflow_arn, second, "SUCCESS")  # late: its wait is over
    await until(lambda: consumer.counts["used"] == 2)
    await until(lambda: queue_depth(sqs, queue) == 0)  # deleted, not released to come back again and again
    assert consumer.counts["released"] == 0 and poller.looks == 1
    waits[running].cancel()
    await asyncio.gather(waits[running], return_exceptions=True)


async def test_the_emulators_own_events_end_the_wait_through_ensure_events_queue(
    aws_conn_env: str, emulator: Any, workflow_arn: str, held_run: Any, client: Any
) -> None:
    from airflow_provider_mwaas.hooks.mwaa_serverless import MwaaServerlessHook

    name = f"wake-{uuid.uuid4().hex[:10]}"
    queue = MwaaServerlessHook(aws_conn_id=aws_conn_env).ensure_events_queue(workflow_arn, name, name)
    run_id, waiting = await wait_on_a_held_run(aws_conn_env, workflow_arn, held_run, queue)
    before = requests(emulator)
    emulator.control.release(run_id=run_id)
    # in call mode a run advances at reads: this one ends it, and the emulator's event goes EventBridge ->
    # rule -> queue; the wait learns it from the event (waiter_delay 60 s, safety interval an hour)
    while client.get_workflow_run(WorkflowArn=workflow_arn, RunId=run_id)["RunDetail"]["RunState"] != "SUCCESS":
        pass
    event = await waiting
    assert (event["status"], event["state"]) == ("success", "SUCCESS")
    assert spent(before, requests(emulator)).get("ListWorkflowRuns") == 1


async def test_events_that_announce_no_end_are_deleted_without_a_listing(
    aws_conn_env: str, emulator: Any, workflow_arn: str, held_run: Any, queue: str, sqs: Any
) -> None:
    from airflow_provider_mwaas.service.run_events import TASK_DETAIL_TYPES

    run_id, waiting = await wait_on_a_held_run(aws_conn_env, workflow_arn, held_run, queue)
    before = requests(emulator)
    running = _event(workflow_arn, run_id, "RUNNING")
    task = {**running, "detail-type": TASK_DETAIL_TYPES["SUCCESS"], "detail": {**running["detail"], "taskId": "t1"}}
    for body in (running, task):
        sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(body))
    await until(lambda: consumer_of(aws_conn_env).counts["ignored"] == 2)
    await until(lambda: queue_depth(sqs, queue) == 0)
    assert the_poller().looks == 0 and "ListWorkflowRuns" not in spent(before, requests(emulator))
    assert not waiting.done()
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)


async def test_an_event_of_unknown_shape_naming_the_workflow_still_ends_the_wait(
    aws_conn_env: str, emulator: Any, workflow_arn: str, held_run: Any, queue: str, sqs: Any
) -> None:
    run_id, waiting = await wait_on_a_held_run(aws_conn_env, workflow_arn, held_run, queue)
    poller = the_poller()
    emulator.control.release(run_id=run_id)
    # a shape the provider does not know: no run id anywhere, a new detail-type; the workflow in resources
    body = {**_event(workflow_arn, run_id, "SUCCESS"), "detail-type": "MWAA Serverless Something New", "detail": {}}
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(body))
    event = await waiting
    assert event["state"] == "SUCCESS"
    assert poller.looks == 1, "it looked at every watched run of the workflow the event named"


def wake_trigger(conn_id: str, workflow_arn: str, run_id: str, queue: str) -> WorkflowRunCompletedTrigger:
    """A trigger that only an event can end in time (``SLOW``), woken by ``queue``."""
    return make_trigger(conn_id, workflow_arn, run_id, events_queue_url=queue, **SLOW)


async def wait_on_a_held_run(
    conn_id: str, workflow_arn: str, held_run: Any, queue: str
) -> tuple[str, asyncio.Future[dict[str, Any]]]:
    """A run held RUNNING and a wait on it (:func:`wake_trigger`) that has settled: (run id, the wait)."""
    run_id = held_run()
    waiting = asyncio.ensure_future(only_event(wake_trigger(conn_id, workflow_arn, run_id, queue)))
    await until(lambda: settled(conn_id))
    return run_id, waiting


def _event(arn: str, run_id: str, state: str) -> dict[str, Any]:
    from tests.sqs_events import run_event

    return run_event(arn, run_id, state)


# -- a shared queue: release what is not ours, delete what is used or stale ------------------------------------


async def test_an_event_for_a_run_watched_elsewhere_is_released_and_another_consumer_uses_it(
    aws_conn_env: str,
    emulator: Any,
    workflow_arn: str,
    held_run: Any,
    queue: str,
    sqs: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # two connections = two consumers of one queue in this loop, as two triggerers would be
    other = add_connection(monkeypatch, "other_triggerer", emulator.url)
    mine, theirs = held_run(), held_run()
    first = asyncio.ensure_future(
        only_event(make_trigger(aws_conn_env, workflow_arn, mine, events_queue_url=queue, **SLOW))
    )
    await until(lambda: aws_conn_env in [k[1][0] for k in event_wake.consumers()] and consumer_of(aws_conn_env).healthy)
    send_run_event(sqs, queue, workflow_arn, theirs, "SUCCESS")
    await until(lambda: consumer_of(aws_conn_env).counts["released"] >= 2)  # received again: not deleted
    assert consumer_of(aws_conn_env).counts["used"] == 0
    assert the_poller().looks == 0, "an event naming a run not watched here costs no listing"
    first.cancel()  # this triggerer leaves; the message is still in the queue for the other one
    await asyncio.gather(first, return_exceptions=True)
    assert event_wake.consumers() == {}
    second = asyncio.ensure_future(
        only_event(make_trigger(other, workflow_arn, theirs, events_queue_url=queue, **SLOW))
    )
    await until(lambda: event_wake.consumers() and consumer_of(other).counts["used"] == 1, timeout=60)
    await until(lambda: queue_depth(sqs, queue) == 0)  # used there: deleted
    second.cancel()
    await asyncio.gather(second, return_exceptions=True)


async def test_messages_older_than_the_safety_interval_are_deleted(
    aws_conn_env: str, workflow_arn: str, held_run: Any, queue: str, sqs: Any
) -> None:
    trigger = make_trigger(
        aws_conn_env, workflow_arn, held_run(), events_queue_url=queue, waiter_delay=60, events_safety_interval=2
    )
    waiting = asyncio.ensure_future(only_event(trigger))
    await until(lambda: event_wake.consumers() and consumer_of(aws_conn_env).healthy)
    send_run_event(sqs, queue, workflow_arn, "run-nobody-watches", "SUCCESS")
    sqs.send_message(QueueUrl=queue, MessageBody="not an event")
    await until(lambda: consumer_of(aws_conn_env).counts["stale"] == 2)
    await until(lambda: queue_depth(sqs, queue) == 0)
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)


# -- the queue fails: every wait still ends, by polling ---------------------------------------------------------


async def test_a_queue_deleted_mid_wait_falls_back_to_polling_and_every_wait_ends(
    aws_conn_env: str,
    emulator: Any,
    workflow_arn: str,
    held_run: Any,
    queue: str,
    sqs: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    run_ids = [held_run() for _ in range(3)]
    params = {"events_queue_url": queue, "waiter_delay": 1, "events_safety_interval": 3600}
    waiting = [
        asyncio.ensure_future(only_event(make_trigger(aws_conn_env, workflow_arn, r, **params))) for r in run_ids
    ]
    await until(lambda: settled(aws_conn_env))
    assert the_poller().interval == 3600
    with caplog.at_level(logging.INFO, logger=event_wake.__name__):
        sqs.delete_queue(QueueUrl=queue)
        emulator.control.release(workflow_arn=workflow_arn)  # no event will come: polling must end the waits
        events = await asyncio.gather(*waiting)
    assert [e["status"] for e in events] == ["success"] * 3
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and queue in r.getMessage()]
    assert len(warnings) == 1, "one line for the queue, not one per wait"
    assert "poll every waiter_delay" in warnings[0].getMessage()


async def test_an_unreadable_queue_logs_one_line_and_the_waits_poll_at_waiter_delay(
    aws_conn_env: str, emulator: Any, workflow_arn: str, start_run: Any, caplog: pytest.LogCaptureFixture
) -> None:
    missing = f"{emulator.url}/123456789012/no-such-queue-{uuid.uuid4().hex[:8]}"
    params = {"events_queue_url": missing, "waiter_delay": 1, "events_safety_interval": 3600}
    with caplog.at_level(logging.INFO, logger=event_wake.__name__):
        events = await asyncio.gather(
            *(only_event(make_trigger(aws_conn_env, workflow_arn, start_run(), **params)) for _ in range(4))
        )
    assert [e["status"] for e in events] == ["success"] * 4
    lines = [r.getMessage() for r in caplog.records if missing in r.getMessage()]
    assert len(lines) == 1 and "cannot be read" in lines[0], lines
    assert "NonExistentQueue" in lines[0] or "QueueDoesNotExist" in lines[0], lines[0]


async def test_events_resume_when_the_queue_comes_back(
    aws_conn_env: str, emulator: Any, workflow_arn: str, held_run: Any, queue: str, sqs: Any
) -> None:
    run_id = held_run()
    waiting = asyncio.ensure_future(
        only_event(make_trigger(aws_conn_env, workflow_arn, run_id, events_queue_url=queue, **SLOW))
    )
    await until(lambda: event_wake.consumers() and consumer_of(aws_conn_env).healthy)
    consumer = consumer_of(aws_conn_env)
    sqs.delete_queue(QueueUrl=queue)
    await until(lambda: not consumer.healthy, timeout=40)  # noticed at the end of the long poll in flight
    assert the_poller().interval == 60
    assert sqs.create_queue(QueueName=queue.rsplit("/", 1)[1])["QueueUrl"] == queue
    await until(lambda: consumer.healthy, timeout=40)
    emulator.control.release(run_id=run_id)
    send_run_event(sqs, queue, workflow_arn, run_id, "SUCCESS")
    assert (await waiting)["status"] == "success"


# -- parameters ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["sqs-queue", "ftp://sqs.us-east-1.amazonaws.com/123456789012/q", "https://sqs.example.com/12345/q", 42, ""],
)
def test_a_malformed_queue_url_is_refused_naming_the_field_and_what_is_allowed(value: Any) -> None:
    with pytest.raises(InvalidParameterError) as info:
        make_trigger("c", "arn:x", "run-1", events_queue_url=value)
    assert info.value.field == "events_queue_url" and info.value.value == value
    assert "http(s)://HOST[:PORT]/ACCOUNT_ID/QUEUE_NAME" in str(info.value)


def test_events_need_the_coalesced_poller_and_a_positive_safety_interval() -> None:
    url = "https://sqs.us-east-1.amazonaws.com/123456789012/mwaa-events"
    with pytest.raises(InvalidParameterError, match=r"coalesce.*True when events_queue_url is set"):
        make_trigger("c", "arn:x", "run-1", events_queue_url=url, coalesce=False)
    with pytest.raises(InvalidParameterError, match="events_safety_interval"):
        make_trigger("c", "arn:x", "run-1", events_queue_url=url, events_safety_interval=0)


def test_the_events_parameters_survive_serialization() -> None:
    url = "https://sqs.eu-west-1.amazonaws.com/123456789012/mwaa-events.fifo"
    trigger = make_trigger("c", "arn:x", "run-1", events_queue_url=url, events_safety_interval=120)
    classpath, kwargs = trigger.serialize()
    assert (kwargs["events_queue_url"], kwargs["events_safety_interval"]) == (url, 120)
    stored = BaseSerialization.deserialize(json.loads(json.dumps(BaseSerialization.serialize(kwargs))))
    assert WorkflowRunCompletedTrigger(**stored).serialize() == (classpath, kwargs)
    assert make_trigger("c", "arn:x", "run-1").serialize()[1]["events_queue_url"] is None
