"""The emulator publishes run and task state changes to EventBridge (moto), delivered by a user's rule to SQS."""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import pytest

from airflow_provider_mwaas.emulator import EmulatorControl
from airflow_provider_mwaas.service.run_events import EVENT_PATTERN, EVENT_SOURCE, read_run_event

from .conftest import REGION, make_client

RUN = "MWAA Serverless Workflow Run "
TASK = "MWAA Serverless Task "


def subscribe(endpoint_url: str | None, pattern: dict[str, Any] | None = None) -> tuple[Any, str]:
    """A fresh SQS queue receiving, through a fresh EventBridge rule, the events ``pattern`` matches."""
    name = f"events-{uuid.uuid4().hex[:12]}"
    sqs = boto3.client("sqs", region_name=REGION, endpoint_url=endpoint_url)
    events = boto3.client("events", region_name=REGION, endpoint_url=endpoint_url)
    queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name=name, EventPattern=json.dumps(pattern or dict(EVENT_PATTERN)))
    events.put_targets(Rule=name, Targets=[{"Id": "queue", "Arn": queue_arn}])
    return sqs, queue_url


def drain(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    """Every message body in the queue, in the order sent (moto keeps a standard queue's order)."""
    bodies: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def run_to_end(client: Any, arn: str) -> str:
    run_id = client.start_workflow_run(WorkflowArn=arn)["RunId"]
    for _ in range(5):
        state = client.get_workflow_run(WorkflowArn=arn, RunId=run_id)["RunDetail"]["RunState"]
    assert state in ("SUCCESS", "FAILED")
    return str(run_id)


def test_a_successful_run_publishes_its_run_and_task_events_in_order(
    server: Any, remote: EmulatorControl, remote_client: Any
) -> None:
    sqs, queue_url = subscribe(server.url)
    arn = remote.create_workflow("evented")
    run_id = run_to_end(remote_client, arn)

    bodies = drain(sqs, queue_url)
    assert {b["source"] for b in bodies} == {EVENT_SOURCE}
    assert {b["detail"]["runId"] for b in bodies} == {run_id} and {tuple(b["resources"]) for b in bodies} == {(arn,)}
    runs = [b["detail-type"] for b in bodies if b["detail-type"].startswith(RUN)]
    assert runs == [RUN + "Started", RUN + "Queued", RUN + "Running", RUN + "Succeeded"]
    tasks = [(b["detail"]["taskId"], b["detail"]["status"]) for b in bodies if b["detail-type"].startswith(TASK)]
    assert tasks == [
        ("extract", "SCHEDULED"),
        ("transform", "SCHEDULED"),
        ("load", "SCHEDULED"),
        ("extract", "RUNNING"),
        ("extract", "SUCCESS"),
        ("transform", "SUCCESS"),
        ("load", "SUCCESS"),
    ]
    assert bodies[-1]["detail-type"] == RUN + "Succeeded"  # tasks settle before the run ends
    last = bodies[-1]["detail"]
    assert last == {
        "workflowArn": arn,
        "workflowVersion": last["workflowVersion"],
        "runId": run_id,
        "status": "SUCCESS",
        "previousStatus": "RUNNING",
    }
    event = read_run_event(json.dumps(bodies[-1]))
    assert event is not None and (event.run_state, event.workflow_arn, event.run_id) == ("SUCCESS", arn, run_id)
    assert remote.counters()["events"] == {"published": len(bodies), "failed": 0}


def test_a_failed_run_announces_failed_and_upstream_failed_tasks(
    server: Any, remote: EmulatorControl, remote_client: Any
) -> None:
    sqs, queue_url = subscribe(server.url)
    arn = remote.create_workflow("evented-fails")
    remote.script_outcome(arn, status="FAILED", failed_tasks=["transform"])
    run_id = run_to_end(remote_client, arn)

    bodies = drain(sqs, queue_url)
    assert [b["detail-type"] for b in bodies if b["detail-type"].startswith(RUN)][-1] == RUN + "Failed"
    assert RUN + "Succeeded" not in {b["detail-type"] for b in bodies}
    final = {b["detail"]["taskId"]: b["detail-type"] for b in bodies if "taskId" in b["detail"]}
    assert final == {"extract": TASK + "Succeeded", "transform": TASK + "Failed", "load": TASK + "Upstream Failed"}
    assert {b["detail"]["runId"] for b in bodies} == {run_id}


def test_a_rule_filtering_on_the_workflow_and_detail_type_gets_only_those(
    server: Any, remote: EmulatorControl, remote_client: Any
) -> None:
    arn = remote.create_workflow("watched")
    other = remote.create_workflow("unwatched")
    pattern = {"source": [EVENT_SOURCE], "resources": [arn], "detail-type": [RUN + "Succeeded"]}
    sqs, queue_url = subscribe(server.url, pattern)
    run_id = run_to_end(remote_client, arn)
    run_to_end(remote_client, other)

    bodies = drain(sqs, queue_url)
    assert [(b["detail-type"], b["detail"]["runId"]) for b in bodies] == [(RUN + "Succeeded", run_id)]


def test_a_stopped_run_announces_stopped(server: Any, remote: EmulatorControl, remote_client: Any) -> None:
    sqs, queue_url = subscribe(server.url)
    arn = remote.create_workflow("evented-stop")
    run_id = remote_client.start_workflow_run(WorkflowArn=arn)["RunId"]
    remote_client.stop_workflow_run(WorkflowArn=arn, RunId=run_id)
    for _ in range(3):
        remote_client.get_workflow_run(WorkflowArn=arn, RunId=run_id)

    runs = [b["detail-type"] for b in drain(sqs, queue_url) if b["detail-type"].startswith(RUN)]
    assert runs == [RUN + "Started", RUN + "Stopped"]  # STOPPING has no event of its own


def test_a_broken_target_is_counted_and_neither_breaks_the_api_nor_other_rules(
    server: Any, remote: EmulatorControl, remote_client: Any
) -> None:
    broken_sqs, broken_url = subscribe(server.url)
    broken_sqs.delete_queue(QueueUrl=broken_url)  # its rule still targets it
    sqs, queue_url = subscribe(server.url)
    arn = remote.create_workflow("evented-broken")
    run_id = run_to_end(remote_client, arn)

    assert remote_client.get_workflow_run(WorkflowArn=arn, RunId=run_id)["RunDetail"]["RunState"] == "SUCCESS"
    bodies = drain(sqs, queue_url)
    assert bodies[-1]["detail-type"] == RUN + "Succeeded"
    counters = remote.counters()["events"]
    assert counters["published"] == len(bodies) and counters["failed"] >= len(bodies)


def test_in_process_mock_publishes_too(emulator: EmulatorControl, client: Any) -> None:
    sqs, queue_url = subscribe(None)
    arn = emulator.create_workflow("in-process")
    run_id = run_to_end(client, arn)
    runs = [b["detail"]["status"] for b in drain(sqs, queue_url) if "taskId" not in b["detail"]]
    assert runs == ["STARTING", "QUEUED", "RUNNING", "SUCCESS"]
    assert run_id


@pytest.mark.parametrize("status", ["TIMEOUT"])
def test_a_timed_out_run_announces_timeout(server: Any, remote: EmulatorControl, status: str) -> None:
    sqs, queue_url = subscribe(server.url)
    arn = remote.create_workflow("evented-timeout")
    remote.script_outcome(arn, status=status)
    client = make_client(server.url)
    run_id = client.start_workflow_run(WorkflowArn=arn)["RunId"]
    for _ in range(4):
        client.get_workflow_run(WorkflowArn=arn, RunId=run_id)
    bodies = drain(sqs, queue_url)
    assert bodies[-1]["detail-type"] == RUN + "Timeout"
    assert TASK + "Timeout" in {b["detail-type"] for b in bodies}


def test_in_time_mode_events_flow_without_anyone_reading_the_run(
    server: Any, remote: EmulatorControl, remote_client: Any
) -> None:
    sqs, queue_url = subscribe(server.url, {"source": [EVENT_SOURCE], "detail-type": [RUN + "Succeeded"]})
    arn = remote.create_workflow("unpolled")
    remote.configure_transitions("time", seconds_per_state=0.2)
    run_id = remote_client.start_workflow_run(WorkflowArn=arn)["RunId"]  # never read again

    messages: list[dict[str, Any]] = []
    for _ in range(10):  # long polls of up to 2 s each: a guard, the run is due after 0.6 s
        messages = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=2).get("Messages", [])
        if messages:
            break
    assert [json.loads(m["Body"])["detail"]["runId"] for m in messages] == [run_id]
