"""The event facts and the reader the waits and the asset watcher share (service/run_events.py)."""

from __future__ import annotations

import json

import pytest

from airflow_provider_mwaas.service.model import service_model
from airflow_provider_mwaas.service.run_events import (
    EVENT_SOURCE,
    RUN_DETAIL_TYPES,
    TASK_DETAIL_TYPES,
    read_run_event,
)

ARN = "arn:aws:airflow-serverless:us-east-1:123456789012:workflow/sales-abcdefghij"


def _event(detail: object, resources: object = (), detail_type: str = RUN_DETAIL_TYPES["SUCCESS"]) -> str:
    return json.dumps(
        {"source": EVENT_SOURCE, "detail-type": detail_type, "resources": list(resources), "detail": detail}
    )


def test_state_keys_are_states_of_the_service_model() -> None:
    shapes = service_model().shape_for("WorkflowRunStatus"), service_model().shape_for("TaskInstanceStatus")
    assert set(RUN_DETAIL_TYPES) <= set(shapes[0].enum)
    assert set(TASK_DETAIL_TYPES) <= set(shapes[1].enum)


def test_reads_run_state_arn_and_run_id_from_the_emulator_shape() -> None:
    event = read_run_event(_event({"workflowArn": ARN, "runId": "run-1", "status": "SUCCESS"}, [ARN]))
    assert event is not None
    assert (event.run_state, event.workflow_arn, event.run_id) == ("SUCCESS", ARN, "run-1")
    assert event.names_any({ARN}) and event.names_any({"run-1"}) and not event.names_any({"run-2"})


@pytest.mark.parametrize(
    "detail, resources",
    [
        ({"Workflow": {"Arn": ARN}, "Run": {"Id": "run-1"}}, []),  # nested, other key names
        ({}, [f"{ARN}/run/run-1"]),  # only a sub-resource ARN
        ({"message": "x"}, [ARN, "run-1"]),
    ],
)
def test_an_unknown_detail_shape_still_names_the_workflow_and_run(detail: object, resources: list[str]) -> None:
    event = read_run_event(_event(detail, resources))
    assert event is not None
    assert event.names_any({ARN}) and event.names_any({"run-1"})


def test_an_sns_wrapped_event_is_read() -> None:
    body = json.dumps({"Type": "Notification", "Message": _event({"runId": "run-9"}, [ARN])})
    event = read_run_event(body)
    assert event is not None and event.run_id == "run-9"


@pytest.mark.parametrize(
    "body", ["not json", "[1, 2]", json.dumps({"source": "aws.s3", "detail": {"runId": "r"}}), json.dumps({})]
)
def test_other_bodies_are_not_events(body: str) -> None:
    assert read_run_event(body) is None


def test_a_task_event_announces_no_run_state() -> None:
    event = read_run_event(_event({"runId": "r"}, [ARN], detail_type=TASK_DETAIL_TYPES["FAILED"]))
    assert event is not None and event.run_state is None and event.names_any({"r"})
