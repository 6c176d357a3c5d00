"""Task instances: derived from their run's state and scripted outcome; ``ListTaskInstances``, ``GetTaskInstance``."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

from moto.utilities.paginator import paginate

from ..definitions import TaskSpec, downstream_of
from ..exceptions import ResourceNotFoundException
from .shapes import PAGINATION_MODEL, compact

if TYPE_CHECKING:
    from .runs import WorkflowRun


class TaskInstanceViews:
    """What :class:`~.runs.WorkflowRun` shows of its task instances."""

    tasks: list[TaskSpec]
    _status: Any
    stopped_from: str | None
    failed_tasks: tuple[str, ...]
    running_since: datetime | None
    completed_on: datetime | None
    created_at: datetime
    modified_at: datetime
    workflow_arn: str
    workflow_version: str
    run_id: str
    error_message: str | None
    task_instance_ids: dict[str, str]

    def task_states(self) -> dict[str, str]:
        """Each task's state, derived from the run's state and outcome."""
        state = str(self._status)
        ids = [t.task_id for t in self.tasks]
        if state in ("STARTING", "QUEUED"):
            return dict.fromkeys(ids, "SCHEDULED")
        if state == "RUNNING" or (state == "STOPPING" and self.stopped_from == "RUNNING"):
            return {tid: "RUNNING" if i == 0 else "SCHEDULED" for i, tid in enumerate(ids)}
        if state in ("STOPPING", "STOPPED"):
            return dict.fromkeys(ids, "CANCELLED")
        if state == "SUCCESS":
            return dict.fromkeys(ids, "SUCCESS")
        failed = set(self.failed_tasks)
        upstream_failed = downstream_of(self.tasks, failed)
        failed_state = "TIMEOUT" if state == "TIMEOUT" else "FAILED"
        return {
            tid: failed_state if tid in failed else "UPSTREAM_FAILED" if tid in upstream_failed else "SUCCESS"
            for tid in ids
        }

    def task_instances(self) -> list[dict[str, Any]]:
        """Every task instance as a ``GetTaskInstance`` response (a superset of the summary)."""
        states = self.task_states()
        result = []
        for spec in self.tasks:
            ti_state = states[spec.task_id]
            started = self.running_since if ti_state not in ("SCHEDULED", "CANCELLED", "UPSTREAM_FAILED") else None
            ended = (
                self.completed_on
                if ti_state in ("SUCCESS", "FAILED", "TIMEOUT", "UPSTREAM_FAILED", "CANCELLED")
                else None
            )
            if started is None and ti_state == "SUCCESS":
                started = self.created_at
            duration = int((ended - started).total_seconds()) if started and ended else None
            ti_id = self.task_instance_ids[spec.task_id]
            result.append(
                compact(
                    {
                        "WorkflowArn": self.workflow_arn,
                        "WorkflowVersion": self.workflow_version,
                        "RunId": self.run_id,
                        "TaskInstanceId": ti_id,
                        "TaskId": ti_id,
                        "Status": ti_state,
                        "DurationInSeconds": duration,
                        "OperatorName": spec.operator_name[:255],
                        "ModifiedAt": self.modified_at,
                        "StartedAt": started,
                        "EndedAt": ended,
                        "AttemptNumber": 1,
                        "ErrorMessage": (self.error_message or "Task failed")[:255]
                        if ti_state in ("FAILED", "TIMEOUT")
                        else None,
                        "LogStream": f"{self.run_id}.{ti_id}",
                        "Xcom": {},
                    }
                )
            )
        return result


class TaskInstancesMixin:
    """The backend's task-instance operations."""

    if TYPE_CHECKING:

        def _run(self, workflow_arn: str, run_id: str) -> WorkflowRun: ...

    @paginate(pagination_model=PAGINATION_MODEL)
    def list_task_instances(self, workflow_arn: str, run_id: str) -> list[dict[str, Any]]:
        """``ListTaskInstances``, in the definition's order."""
        return self._run(workflow_arn, run_id).task_instances()

    def get_task_instance(self, workflow_arn: str, run_id: str, task_instance_id: str) -> dict[str, Any]:
        """``GetTaskInstance``."""
        for ti in self._run(workflow_arn, run_id).task_instances():
            if ti["TaskInstanceId"] == task_instance_id:
                return ti
        raise ResourceNotFoundException(
            "TaskInstance", task_instance_id, f"Task instance {task_instance_id} of run {run_id} not found"
        )


def task_instance_ids_of(tasks: list[TaskSpec]) -> dict[str, str]:
    # Airflow task ids may start with "_" or hold characters IdString refuses.
    ids: dict[str, str] = {}
    for spec in tasks:
        candidate = re.sub(r"[^a-zA-Z0-9.\-_]", "_", spec.task_id).lstrip(".-_") or "task"
        unique, n = candidate, 2
        while unique in ids.values():
            unique, n = f"{candidate}-{n}", n + 1
        ids[spec.task_id] = unique[:255]
    return ids
