"""Fixtures and helpers shared by the trigger tests: a boto3 client on the emulator, starting runs,
building a trigger, and running one to its single event."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from airflow.triggers.base import TriggerEvent

from airflow_provider_mwaas.triggers.mwaa_serverless import WorkflowRunCompletedTrigger


@pytest.fixture
def client(emulator: Any) -> Any:
    return boto3.client("mwaa-serverless", region_name="us-east-1", endpoint_url=emulator.url)


@pytest.fixture
def start_run(client: Any, workflow_arn: str) -> Callable[..., str]:
    """Start a run of ``workflow_arn`` (or of the ARN given) and return its id."""

    def start(arn: str = workflow_arn) -> str:
        return str(client.start_workflow_run(WorkflowArn=arn)["RunId"])

    return start


def make_trigger(conn_id: str, workflow_arn: str, run_id: str, **kwargs: Any) -> WorkflowRunCompletedTrigger:
    """A trigger polling every second for at most 30 polls, unless ``kwargs`` say otherwise."""
    params: dict[str, Any] = {"waiter_delay": 1, "waiter_max_attempts": 30, "aws_conn_id": conn_id}
    params.update(kwargs)
    return WorkflowRunCompletedTrigger(workflow_arn=workflow_arn, run_id=run_id, **params)


async def only_event(trigger: WorkflowRunCompletedTrigger) -> dict[str, Any]:
    """Run the trigger to its end and return the payload of its single event."""
    events = [event async for event in trigger.run()]
    assert len(events) == 1
    assert isinstance(events[0], TriggerEvent)
    payload: dict[str, Any] = events[0].payload
    return payload
