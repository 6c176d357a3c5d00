"""The TriggerEvent that ends a deferred wait on a workflow run, and the one function that reads it.

:class:`~airflow_provider_mwaas.triggers.mwaa_serverless.WorkflowRunCompletedTrigger` yields exactly one
event whose payload has these keys (built with :func:`workflow_run_event`):

``status``
    ``"success"`` | ``"failure"`` | ``"timeout"`` | ``"error"``
``workflow_arn``, ``run_id``
    the run waited on
``state``
    the final ``RunState`` (or the last one seen; ``"UNKNOWN"`` if none was)
``message``
    human readable; on failure the run's ``ErrorMessage`` (``None`` when the service gave none)
``failed_task_instances``
    on failure, ``[{TaskInstanceId, OperatorName, Status, DurationInSeconds}]``; otherwise ``[]``
``waited_seconds``
    seconds since the wait began (the deferral, kept across triggerer restarts)
``error``
    on error, ``{operation, code, message, request_id, retryable}``; otherwise ``None``. ``retryable``
    is False for refusals a task retry cannot fix (access denied, run not found, ...), which are then
    raised as ``NonRetryableApiError`` exactly as in non-deferrable mode
``timeout_kind``
    on timeout, which limit ran out: ``"wait"`` (``waiter_delay x waiter_max_attempts``) or
    ``"execution_timeout"`` (the task's); otherwise ``None``. Absent from events of older releases

Operators and sensors call :func:`handle_workflow_run_event` from ``execute_complete``. Kept free of
boto3/botocore imports (DAG-parse cost).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from airflow_provider_mwaas.errors import (
    InvalidParameterError,
    MwaaServerlessApiError,
    NonRetryableApiError,
    WorkflowRunFailedError,
    WorkflowRunWaitTimeoutError,
)
from airflow_provider_mwaas.service.run_states import FAILURE_STATES, SUCCESS_STATES, RunState
from airflow_provider_mwaas.version_compat import AirflowException, AirflowTaskTimeout
from airflow_provider_mwaas.watch.diagnostics import describe_failed_task_instances, describe_run_failure

EVENT_STATUSES: frozenset[str] = frozenset({"success", "failure", "timeout", "error"})
TIMEOUT_KINDS: frozenset[str] = frozenset({"wait", "execution_timeout"})
#: Keys every event carries; ``waited_seconds`` and ``error`` are read when present.
REQUIRED_EVENT_KEYS: tuple[str, ...] = (
    "status",
    "workflow_arn",
    "run_id",
    "state",
    "message",
    "failed_task_instances",
)
_log = logging.getLogger(__name__)


def check_target_states(
    success_states: Iterable[str] | None, failure_states: Iterable[str] | None
) -> tuple[frozenset[str], frozenset[str]]:
    """Return (success, failure) state sets, refusing unknown names, an empty success set and overlap."""
    known = {state.value for state in RunState}
    result = []
    for field, value, default in (
        ("success_states", success_states, SUCCESS_STATES),
        ("failure_states", failure_states, FAILURE_STATES),
    ):
        if value is None:
            result.append(default)
            continue
        if isinstance(value, str):
            raise InvalidParameterError(field, value, f"a list of run states from {sorted(known)}")
        states = frozenset(str(s) for s in value)
        unknown = sorted(states - known)
        if unknown:
            raise InvalidParameterError(field, sorted(states), f"run states from {sorted(known)}; unknown: {unknown}")
        result.append(states)
    success, failure = result
    if not success:
        raise InvalidParameterError("success_states", [], "at least one run state")
    overlap = success & failure
    if overlap:
        raise InvalidParameterError(
            "failure_states", sorted(failure), f"states not also in success_states; both hold {sorted(overlap)}"
        )
    return success, failure


def workflow_run_event(
    status: str,
    workflow_arn: str,
    run_id: str,
    state: str,
    message: str | None,
    *,
    failed_task_instances: list[dict[str, Any]] | None = None,
    waited_seconds: float = 0.0,
    error: dict[str, Any] | None = None,
    timeout_kind: str | None = None,
) -> dict[str, Any]:
    """Build an event payload in the schema above (the trigger's only way to make one)."""
    if status not in EVENT_STATUSES:
        raise ValueError(f"status must be one of {sorted(EVENT_STATUSES)}, got {status!r}")
    if status == "timeout":
        timeout_kind = timeout_kind or "wait"
        if timeout_kind not in TIMEOUT_KINDS:
            raise ValueError(f"timeout_kind must be one of {sorted(TIMEOUT_KINDS)}, got {timeout_kind!r}")
    elif timeout_kind is not None:
        raise ValueError(f"timeout_kind is for timeout events only, not {status!r}")
    return {
        "status": status,
        "workflow_arn": workflow_arn,
        "run_id": run_id,
        "state": state,
        "message": message,
        "failed_task_instances": list(failed_task_instances or []),
        "waited_seconds": round(waited_seconds, 1),
        "error": error,
        "timeout_kind": timeout_kind,
    }


def handle_workflow_run_event(
    event: Any,
    *,
    run_id: str,
    workflow_arn: str | None = None,
    log: logging.Logger | Any | None = None,
) -> str:
    """Validate a trigger event and return the run's final state, or raise what the event reports.

    :param event: the payload passed to ``execute_complete``.
    :param run_id: the run the task deferred on; an event for another run is refused.
    :param workflow_arn: the workflow the task deferred on; checked when given.
    :param log: where failed task instances are logged (e.g. ``self.log``).
    :return: the final ``RunState`` on success.
    :raises WorkflowRunFailedError: the run failed (message lists the failed task instances).
    :raises WorkflowRunWaitTimeoutError: the run was still in flight at the deadline.
    :raises AirflowTaskTimeout: the task's ``execution_timeout`` ran out first (as on the worker).
    :raises MwaaServerlessApiError: the service refused a call (``NonRetryableApiError`` when a retry
        cannot help, e.g. access denied or run not found).
    :raises AirflowException: the event is malformed or belongs to another run.
    """
    logger = log or _log
    _check_event(event, run_id, workflow_arn)
    status, state, message = event["status"], str(event["state"]), event["message"]
    arn = event["workflow_arn"]
    if status == "success":
        logger.info("Workflow run %s of %s ended in state %s", run_id, arn, state)
        return state
    if status == "failure":
        failed = event["failed_task_instances"]
        if failed:
            logger.error(
                "Workflow run %s: %d failed task instance(s):\n%s",
                run_id,
                len(failed),
                describe_failed_task_instances(failed),
            )
        raise WorkflowRunFailedError(describe_run_failure(arn, run_id, state, message, failed))
    if status == "timeout":
        waited = event.get("waited_seconds")
        waited_text = f"{waited:g}s" if isinstance(waited, (int, float)) else "the full wait"
        if event.get("timeout_kind") == "execution_timeout":
            raise AirflowTaskTimeout(
                f"Workflow run {run_id} of {arn} was still {state} when the task's execution_timeout ran out "
                f"(after waiting {waited_text}). {message or ''}".rstrip()
            )
        raise WorkflowRunWaitTimeoutError(
            f"Workflow run {run_id} of {arn} was still {state} after waiting {waited_text} "
            f"(waiter_delay x waiter_max_attempts); the run was left running. {message or ''}".rstrip()
        )
    error = event.get("error")
    if isinstance(error, Mapping) and error.get("code"):
        cls = MwaaServerlessApiError if error.get("retryable", True) else NonRetryableApiError
        raise cls(
            str(error.get("operation") or "GetWorkflowRun"),
            str(error["code"]),
            str(error.get("message") or message or ""),
            error.get("request_id"),
            f"While waiting for workflow run {run_id} of {arn} (last state {state})",
        )
    raise AirflowException(f"Waiting for workflow run {run_id} of {arn} failed (last state {state}): {message}")


def _check_event(event: Any, run_id: str, workflow_arn: str | None) -> None:
    if not isinstance(event, Mapping):
        raise AirflowException(
            f"Expected a workflow-run trigger event (a dict) for run {run_id}, got {type(event).__name__}: "
            f"{event!r:.200}"
        )
    missing = [key for key in REQUIRED_EVENT_KEYS if key not in event]
    if missing:
        raise AirflowException(f"Malformed workflow-run trigger event for run {run_id}: missing {missing}")
    if event["status"] not in EVENT_STATUSES:
        raise AirflowException(
            f"Malformed workflow-run trigger event for run {run_id}: status {event['status']!r} is not one "
            f"of {sorted(EVENT_STATUSES)}"
        )
    if event["run_id"] != run_id:
        raise AirflowException(f"Trigger event is for run {event['run_id']!r}, but this task waits on run {run_id!r}")
    if workflow_arn is not None and event["workflow_arn"] != workflow_arn:
        raise AirflowException(
            f"Trigger event is for workflow {event['workflow_arn']!r}, but this task waits on {workflow_arn!r}"
        )
    if not isinstance(event["failed_task_instances"], list):
        raise AirflowException(
            f"Malformed workflow-run trigger event for run {run_id}: failed_task_instances is not a list"
        )
