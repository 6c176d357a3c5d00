"""The event contract between WorkflowRunCompletedTrigger and execute_complete."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowException

from airflow_provider_mwaas.errors import (
    InvalidParameterError,
    MwaaServerlessApiError,
    NonRetryableApiError,
    WorkflowRunFailedError,
    WorkflowRunWaitTimeoutError,
)
from airflow_provider_mwaas.triggers.trigger_events import (
    REQUIRED_EVENT_KEYS,
    check_target_states,
    handle_workflow_run_event,
    workflow_run_event,
)

ARN = "arn:aws:airflow-serverless:us-east-1:123456789012:workflow/orders-abcdef1234"
RUN_ID = "run-1"
FAILED_TI = {"TaskInstanceId": "load", "OperatorName": "PythonOperator", "Status": "FAILED", "DurationInSeconds": 12}


def event(status: str, **overrides: Any) -> dict[str, Any]:
    base = workflow_run_event(status, ARN, RUN_ID, overrides.pop("state", "SUCCESS"), overrides.pop("message", None))
    base.update(overrides)
    return base


def test_success_event_returns_the_final_state() -> None:
    assert handle_workflow_run_event(event("success"), run_id=RUN_ID, workflow_arn=ARN) == "SUCCESS"


def test_failure_event_raises_with_error_message_and_failed_task_instances(caplog: pytest.LogCaptureFixture) -> None:
    failure = event("failure", state="FAILED", message="Task load failed", failed_task_instances=[FAILED_TI])
    with caplog.at_level(logging.ERROR), pytest.raises(WorkflowRunFailedError) as info:
        handle_workflow_run_event(failure, run_id=RUN_ID)
    text = str(info.value)
    assert "ended in state FAILED: Task load failed" in text
    assert "load (PythonOperator) FAILED after 12s" in text
    assert "load (PythonOperator)" in caplog.text


def test_failure_event_without_error_message_says_so() -> None:
    with pytest.raises(WorkflowRunFailedError, match="no error message from the service"):
        handle_workflow_run_event(event("failure", state="STOPPED"), run_id=RUN_ID)


def test_timeout_event_raises_with_time_waited_and_last_state() -> None:
    timeout = event("timeout", state="RUNNING", waited_seconds=3600.0, message="Deadline reached.")
    with pytest.raises(WorkflowRunWaitTimeoutError, match=r"still RUNNING after waiting 3600s") as info:
        handle_workflow_run_event(timeout, run_id=RUN_ID)
    assert "left running" in str(info.value)


@pytest.mark.parametrize(("retryable", "expected"), [(False, NonRetryableApiError), (True, MwaaServerlessApiError)])
def test_error_event_raises_the_api_error_class_of_sync_mode(retryable: bool, expected: type[Exception]) -> None:
    error = {
        "operation": "GetWorkflowRun",
        "code": "ResourceNotFoundException",
        "message": "Run run-1 not found",
        "request_id": "req-123",
        "retryable": retryable,
    }
    with pytest.raises(expected) as info:
        handle_workflow_run_event(event("error", state="UNKNOWN", error=error), run_id=RUN_ID)
    assert isinstance(info.value, AirflowException)
    assert info.value.code == "ResourceNotFoundException"  # type: ignore[attr-defined]
    assert "req-123" in str(info.value)
    assert (type(info.value) is NonRetryableApiError) is not retryable


def test_error_event_without_error_details_raises_airflow_exception() -> None:
    with pytest.raises(AirflowException, match="boom"):
        handle_workflow_run_event(event("error", state="RUNNING", message="boom"), run_id=RUN_ID)


@pytest.mark.parametrize(
    "bad",
    [
        None,
        "success",
        ["success"],
        {"status": "success"},
        {**workflow_run_event("success", ARN, RUN_ID, "SUCCESS", None), "status": "done"},
        {**workflow_run_event("success", ARN, RUN_ID, "SUCCESS", None), "failed_task_instances": "none"},
    ],
    ids=["none", "string", "list", "missing-keys", "unknown-status", "failed-not-a-list"],
)
def test_malformed_event_is_refused(bad: Any) -> None:
    with pytest.raises(AirflowException, match=r"(?i)malformed|expected a workflow-run trigger event"):
        handle_workflow_run_event(bad, run_id=RUN_ID)


def test_event_for_another_run_is_refused() -> None:
    other = workflow_run_event("success", ARN, "run-2", "SUCCESS", None)
    with pytest.raises(AirflowException, match="is for run 'run-2'"):
        handle_workflow_run_event(other, run_id=RUN_ID)


def test_event_for_another_workflow_is_refused() -> None:
    other = workflow_run_event("success", ARN.replace("orders", "billing"), RUN_ID, "SUCCESS", None)
    with pytest.raises(AirflowException, match="is for workflow"):
        handle_workflow_run_event(other, run_id=RUN_ID, workflow_arn=ARN)


def test_built_events_carry_every_required_key_and_no_more_than_the_schema() -> None:
    built = workflow_run_event("timeout", ARN, RUN_ID, "RUNNING", "m", waited_seconds=1.234)
    assert set(REQUIRED_EVENT_KEYS) <= set(built)
    assert set(built) == {*REQUIRED_EVENT_KEYS, "waited_seconds", "error", "timeout_kind"}
    assert built["waited_seconds"] == 1.2


def test_building_an_event_with_an_unknown_status_is_a_bug() -> None:
    with pytest.raises(ValueError, match="status"):
        workflow_run_event("done", ARN, RUN_ID, "SUCCESS", None)


def test_target_states_default_to_the_shared_sets() -> None:
    assert check_target_states(None, None) == ({"SUCCESS"}, {"FAILED", "TIMEOUT", "STOPPED"})


@pytest.mark.parametrize(
    ("success", "failure", "field"),
    [
        (["SUCCESS", "BOGUS"], None, "success_states"),
        (None, ["FAILED", "failed"], "failure_states"),
        (["SUCCESS", "FAILED"], None, "failure_states"),
        ([], None, "success_states"),
        ("SUCCESS", None, "success_states"),
    ],
    ids=["unknown-success", "unknown-failure", "overlap", "empty", "bare-string"],
)
def test_target_states_refuse_unknown_overlapping_or_empty(success: Any, failure: Any, field: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        check_target_states(success, failure)
    assert info.value.field == field
