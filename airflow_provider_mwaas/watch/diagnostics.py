"""Human-readable progress and failure diagnostics, shared by the operator, sensor and trigger."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from airflow_provider_mwaas.service.run_states import TASK_INSTANCE_DONE_STATES, TASK_INSTANCE_FAILED_STATES


def run_state(run: Mapping[str, Any]) -> str:
    """Return ``RunDetail.RunState`` of a GetWorkflowRun response ("UNKNOWN" when absent)."""
    return str((run.get("RunDetail") or {}).get("RunState") or "UNKNOWN")


def run_error_message(run: Mapping[str, Any]) -> str | None:
    """Return ``RunDetail.ErrorMessage`` of a GetWorkflowRun response, if any."""
    return (run.get("RunDetail") or {}).get("ErrorMessage")


def progress_line(state: str, task_instances: Iterable[Mapping[str, Any]] | None) -> str:
    """Format one progress line, e.g. ``RUNNING: 3/7 task instances done``."""
    if task_instances is None:
        return state
    tis = list(task_instances)
    done = sum(1 for ti in tis if ti.get("Status") in TASK_INSTANCE_DONE_STATES)
    return f"{state}: {done}/{len(tis)} task instances done"


def failed_task_instances(task_instances: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Return the failed task instances with the fields diagnostics show."""
    return [
        {
            "TaskInstanceId": ti.get("TaskInstanceId"),
            "OperatorName": ti.get("OperatorName"),
            "Status": ti.get("Status"),
            "DurationInSeconds": ti.get("DurationInSeconds"),
        }
        for ti in task_instances
        if ti.get("Status") in TASK_INSTANCE_FAILED_STATES
    ]


def describe_failed_task_instances(failed: Iterable[Mapping[str, Any]]) -> str:
    """Format failed task instances as ``id (operator) STATUS after Ns`` entries, one per line."""
    lines = []
    for ti in failed:
        duration = ti.get("DurationInSeconds")
        took = f" after {duration}s" if duration is not None else ""
        lines.append(
            f"  - {ti.get('TaskInstanceId')} ({ti.get('OperatorName') or 'unknown operator'}) {ti.get('Status')}{took}"
        )
    return "\n".join(lines)


def describe_run_failure(
    workflow_arn: str,
    run_id: str,
    state: str,
    error_message: str | None,
    failed: Iterable[Mapping[str, Any]],
) -> str:
    """Build the message of a failed run: state, the service's error message and failed task instances."""
    failed = list(failed)
    text = f"Workflow run {run_id} of {workflow_arn} ended in state {state}"
    text += f": {error_message}" if error_message else " (no error message from the service)"
    if failed:
        text += f"\nFailed task instances ({len(failed)}):\n{describe_failed_task_instances(failed)}"
    return text
