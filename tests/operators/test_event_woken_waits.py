"""``events_queue_url`` on StartWorkflowRunOperator: a deferred wait woken by an event, a worker wait that
polls, and the parameters checked before StartWorkflowRun. Real Airflow (``dag.test``, triggers inline),
the emulator over HTTP, moto's SQS through the same endpoint (events published by tests/sqs_events.py)."""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from typing import Any

import pendulum
import pytest

from airflow_provider_mwaas.errors import InvalidParameterError
from airflow_provider_mwaas.operators.mwaa_serverless import StartWorkflowRunOperator
from tests.airflow_runs import run_dag
from tests.sqs_events import RunEventPublisher, create_queue

pytestmark = [pytest.mark.usefixtures("airflow_db"), pytest.mark.timeout(120)]
_dag_ids = itertools.count()
GOOD_ARN = "arn:aws:airflow-serverless:us-east-1:123456789012:workflow/orders-abcdefghij"


def _dag(workflow_arn: str, **task_kwargs: Any) -> Any:
    from airflow.sdk import DAG

    dag = DAG(
        dag_id=f"test_event_woken_waits_{next(_dag_ids)}",
        schedule=None,
        start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
        default_args={"retries": 0},
    )
    with dag:
        StartWorkflowRunOperator(
            task_id="start", aws_conn_id="mwaa_serverless_default", workflow_arn=workflow_arn, **task_kwargs
        )
    return dag


def test_a_deferred_wait_ends_on_the_runs_event_not_on_a_poll(
    emulator: Any, workflow_arn: str, aws_conn_env: str, capfd: pytest.CaptureFixture[str]
) -> None:
    emulator.control.configure_transitions(mode="time", seconds_per_state=0.5)
    emulator.control.hold(workflow_arn=workflow_arn)
    queue = create_queue(emulator.url, f"events-{uuid.uuid4().hex[:12]}")
    task = {"deferrable": True, "waiter_delay": 60, "events_queue_url": queue, "events_safety_interval": 3600}

    def release_after_the_first_poll() -> None:
        while not emulator.control.counters()["requests"].get("ListWorkflowRuns"):
            time.sleep(0.05)
        emulator.control.release(workflow_arn=workflow_arn)

    releaser = threading.Thread(target=release_after_the_first_poll, daemon=True)
    with RunEventPublisher(emulator.control, emulator.url, queue, [workflow_arn]) as publisher:
        releaser.start()
        outcome = run_dag(_dag(workflow_arn, **task))
    releaser.join(timeout=5)
    assert outcome.task_states["start"] == "success"
    [run] = emulator.control.runs(workflow_arn)
    assert run["Status"] == "SUCCESS" and run["RunId"] in publisher.sent
    # the first poll (at the deferral) saw the run in flight; with waiter_delay 60 only the event's look ended it
    assert emulator.control.counters()["requests"].get("ListWorkflowRuns", 0) == 2
    out = capfd.readouterr()
    assert f"woken by events from {queue}, safety poll every 3600s" in out.out + out.err


def test_a_worker_wait_ignores_the_queue_and_polls(
    emulator: Any, workflow_arn: str, aws_conn_env: str, capfd: pytest.CaptureFixture[str]
) -> None:
    queue = f"{emulator.url}/123456789012/never-read"
    outcome = run_dag(_dag(workflow_arn, deferrable=False, waiter_delay=0, events_queue_url=queue))
    assert outcome.task_states["start"] == "success"
    out = capfd.readouterr()
    assert "events_queue_url applies to deferred waits only" in out.out + out.err


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"events_queue_url": "my-queue"}, "events_queue_url"),
        ({"events_queue_url": "https://sqs.us-east-1.amazonaws.com/queues/q"}, "events_queue_url"),
        ({"events_queue_url": ["https://sqs.us-east-1.amazonaws.com/123456789012/q"]}, "events_queue_url"),
        ({"events_safety_interval": 0}, "events_safety_interval"),
        ({"events_safety_interval": "often"}, "events_safety_interval"),
    ],
)
def test_bad_events_parameters_are_refused_before_any_request(
    emulator: Any, aws_conn_env: str, kwargs: dict[str, Any], field: str
) -> None:
    operator = StartWorkflowRunOperator(task_id="start", workflow_arn=GOOD_ARN, aws_conn_id=aws_conn_env, **kwargs)
    with pytest.raises(InvalidParameterError) as raised:
        operator.execute({})  # type: ignore[arg-type]
    assert raised.value.field == field
    assert str(raised.value).startswith(f"Invalid {field}") and "Allowed:" in str(raised.value)
    assert sum(emulator.control.counters()["requests"].values()) == 0


def test_the_queue_url_is_templated() -> None:
    assert "events_queue_url" in StartWorkflowRunOperator.template_fields
