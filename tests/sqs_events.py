"""Test helper: MWAA Serverless run events in a real SQS queue (moto, through the emulator's endpoint).

The emulator publishes run events to EventBridge itself (a rule from ``ensure_events_queue`` delivers
them); these helpers put EventBridge-shaped messages into a queue directly, for tests that need exact
control over a message's shape or timing: sent by hand (:func:`send_run_event`) or by a
:class:`RunEventPublisher` thread that watches the emulator's runs.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import datetime, timezone
from typing import Any

import boto3

from airflow_provider_mwaas.service.run_events import EVENT_SOURCE, RUN_DETAIL_TYPES


def sqs_client(endpoint_url: str) -> Any:
    """A boto3 ``sqs`` client on the emulator's endpoint (moto's SQS)."""
    return boto3.client("sqs", region_name="us-east-1", endpoint_url=endpoint_url)


def create_queue(endpoint_url: str, name: str) -> str:
    """Create (or find) queue ``name``; return its URL."""
    return str(sqs_client(endpoint_url).create_queue(QueueName=name)["QueueUrl"])


def run_event(workflow_arn: str, run_id: str, state: str) -> dict[str, Any]:
    """An EventBridge event for run ``run_id`` entering ``state`` (the shape the emulator will publish)."""
    region, account = workflow_arn.split(":")[3], workflow_arn.split(":")[4]
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": RUN_DETAIL_TYPES.get(state, f"MWAA Serverless Workflow Run {state.title()}"),
        "source": EVENT_SOURCE,
        "account": account,
        "time": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [workflow_arn],
        "detail": {"workflowArn": workflow_arn, "runId": run_id, "status": state},
    }


def send_run_event(sqs: Any, queue_url: str, workflow_arn: str, run_id: str, state: str) -> None:
    """Put one run event into the queue, as EventBridge would."""
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(run_event(workflow_arn, run_id, state)))


def queue_depth(sqs: Any, queue_url: str) -> int:
    """Messages in the queue, visible or in flight."""
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


class RunEventPublisher:
    """A thread sending one event per run state change of the workflows ``arns`` (emulator's run records).

    :param control: the emulator's control client.
    :param endpoint_url: the emulator's endpoint (for SQS).
    :param queue_url: the queue to publish to.
    :param arns: the workflows whose runs are published.
    :param states: the states published (default: the terminal ones).
    """

    def __init__(
        self,
        control: Any,
        endpoint_url: str,
        queue_url: str,
        arns: list[str],
        states: tuple[str, ...] = ("SUCCESS", "FAILED", "STOPPED", "TIMEOUT"),
    ) -> None:
        self.control, self.queue_url, self.arns, self.states = control, queue_url, arns, states
        self.sqs = sqs_client(endpoint_url)
        self.sent: dict[str, float] = {}  # run id -> when its last event was sent (epoch seconds)
        self.errors = 0  # sends that failed (a deleted queue)
        self._seen: dict[str, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="run-event-publisher", daemon=True)

    def __enter__(self) -> RunEventPublisher:
        for arn in self.arns:  # states already reached are not announced
            for run in self.control.runs(arn):
                self._seen[run["RunId"]] = run["Status"]
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            for arn in self.arns:
                ended = []
                for run in self.control.runs(arn):
                    run_id, state = run["RunId"], run["Status"]
                    if self._seen.get(run_id) != state:
                        self._seen[run_id] = state
                        if state in self.states:
                            ended.append((run_id, state))
                for start in range(0, len(ended), 10):  # as EventBridge does: many runs, no queue per run
                    self._send(arn, ended[start : start + 10])

    def _send(self, arn: str, changes: list[tuple[str, str]]) -> None:
        entries = [
            {"Id": str(i), "MessageBody": json.dumps(run_event(arn, run_id, state))}
            for i, (run_id, state) in enumerate(changes)
        ]
        try:
            self.sqs.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
        except Exception:
            self.errors += len(changes)
            return
        now = time.time()
        for run_id, _ in changes:
            self.sent[run_id] = now
