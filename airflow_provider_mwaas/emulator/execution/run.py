"""``ExecutedRun``: a workflow run whose state, task instances and error come from a real execution.

It keeps :class:`~airflow_provider_mwaas.emulator.models.WorkflowRun`'s views (detail, summary,
control record) and replaces where the state comes from: moto's scripted transitions give way to
the :class:`~.launcher.Execution` it starts, which moves it STARTING -> QUEUED (process starting) ->
RUNNING (DAG built) -> SUCCESS / FAILED, or STOPPING -> STOPPED on StopWorkflowRun.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow_provider_mwaas.emulator.definitions import TaskSpec
from airflow_provider_mwaas.emulator.models import TERMINAL, WorkflowRun, utcnow
from airflow_provider_mwaas.emulator.models.run import RunStart
from airflow_provider_mwaas.emulator.models.shapes import compact
from airflow_provider_mwaas.emulator.models.task_instances import task_instance_ids_of

from .launcher import Execution, ExecutionRequest, ExecutionResult
from .records import TaskRecord

_IN_FLIGHT_BEFORE_STOP = ("STARTING", "QUEUED", "RUNNING")


class ExecutedRun(WorkflowRun):
    """A run executed by a local Airflow (see :mod:`airflow_provider_mwaas.emulator.execution`).

    :param start: what StartWorkflowRun asked for (the version's definition and ``Code`` snapshots run).
    :param endpoint_url: the emulator's URL, for AWS clients inside the workflow.
    :param account_id: the backend's account (for the task logs in CloudWatch Logs).
    :param region: the backend's region.
    """

    def __init__(self, start: RunStart, endpoint_url: str, account_id: str, region: str):
        super().__init__(start, outcome=None, held=False)
        workflow, version, request = start.workflow, start.version, start.request
        self._status = "STARTING"
        self.account_id = account_id
        self.region = region
        self.log_group = (version.settings.get("LoggingConfiguration") or {}).get(
            "LogGroupName"
        ) or f"/aws/mwaa-serverless/{workflow.name}"
        self.result: ExecutionResult | None = None
        self.execution = Execution(
            ExecutionRequest(
                workflow_name=workflow.name,
                definition=version.definition,
                code=version.code,
                override_parameters=dict(request.get("OverrideParameters") or {}),
                endpoint_url=endpoint_url,
                region=region,
            ),
            on_state=self._progressed,
            on_end=self._ended,
        )

    # -- state, driven by the execution ----------------------------------------------------------------

    @property  # type: ignore[override]
    def status(self) -> str:
        """The state the execution reached."""
        return str(self._status)

    @status.setter
    def status(self, value: str) -> None:
        self._status = value

    def read(self) -> str:
        """One poll: no scripted progression, just the state (and events for tasks that moved since)."""
        with self._lock:
            self.announce(self.status, utcnow())
            return self.status

    def event_task_states(self, state: str) -> dict[str, str]:
        """The execution's task states (the definition's tasks, all SCHEDULED, while the run is created)."""
        if getattr(self, "execution", None) is None:
            return super().event_task_states(state)
        records = self.records()
        ids = task_instance_ids_of([TaskSpec(r.task_id, r.operator) for r in records])
        return {ids[r.task_id]: r.status for r in records}

    def _progressed(self, state: str) -> None:
        with self._lock:
            if self._status in TERMINAL or self._status == "STOPPING":
                return
            self._status = state
            self._entered(state, utcnow())

    def _ended(self, result: ExecutionResult) -> None:
        with self._lock:
            self.result = result
            self._status = result.state
            self.error_message = result.error_message
            self._entered(result.state, utcnow())
            if result.tasks:
                self.task_instance_ids = task_instance_ids_of([TaskSpec(t.task_id, t.operator) for t in result.tasks])
        _publish_logs(self, result)

    def stop(self) -> str:
        """StopWorkflowRun: STOPPING now, STOPPED once the process and its children are gone."""
        with self._lock:
            current = str(self._status)
            if current in _IN_FLIGHT_BEFORE_STOP:
                self.stopped_from = current
                self._status = "STOPPING"
                self._entered("STOPPING", utcnow())
                self.error_message = "Run stopped by StopWorkflowRun"
        if current in _IN_FLIGHT_BEFORE_STOP:
            self.execution.stop()
        return str(self._status)

    def apply_outcome(self, outcome: Any) -> None:
        """Refused: an executed run ends as its execution does."""
        raise ValueError(f"Run {self.run_id} is executed by a local Airflow; its outcome cannot be scripted")

    # -- task instances ---------------------------------------------------------------------------

    def records(self) -> list[TaskRecord]:
        """The task instances: final when the run ended, live from the local Airflow before."""
        records = self.result.tasks if self.result is not None else self.execution.live_tasks()
        if records:
            return records
        # Before the DAG run exists (or when the workflow never loaded): the definition's tasks.
        placeholder = "SCHEDULED" if self.status not in TERMINAL else "CANCELLED"
        return [TaskRecord(t.task_id, placeholder, t.operator_name, None, None, None, 1) for t in self.tasks]

    def detail(self) -> dict[str, Any]:
        """``WorkflowRunDetail``, listing the task instances the execution has."""
        self.task_instance_ids = task_instance_ids_of([TaskSpec(r.task_id, r.operator) for r in self.records()])
        return super().detail()

    def task_instances(self) -> list[dict[str, Any]]:
        """Every task instance, from the local Airflow's metadata database."""
        records = self.records()
        ids = task_instance_ids_of([TaskSpec(r.task_id, r.operator) for r in records])
        errors = self.result.task_errors if self.result is not None else self.execution.task_errors
        return [
            compact(
                {
                    "WorkflowArn": self.workflow_arn,
                    "WorkflowVersion": self.workflow_version,
                    "RunId": self.run_id,
                    "TaskInstanceId": ids[r.task_id],
                    "TaskId": ids[r.task_id],
                    "Status": r.status,
                    "DurationInSeconds": round(r.duration) if r.duration is not None and r.ended_at else None,
                    "OperatorName": r.operator[:255],
                    "ModifiedAt": r.ended_at or r.started_at or self.modified_at,
                    "StartedAt": r.started_at,
                    "EndedAt": r.ended_at,
                    "AttemptNumber": r.attempt,
                    "ErrorMessage": errors.get(r.task_id, "Task failed")[:255] if r.status == "FAILED" else None,
                    "LogStream": _log_stream(self.run_id, ids[r.task_id]),
                    "Xcom": {},
                }
            )
            for r in records
        ]


def _log_stream(run_id: str, task_instance_id: str) -> str:
    return f"{run_id}.{task_instance_id}"


def _publish_logs(run: ExecutedRun, result: ExecutionResult) -> None:
    """Each task's log into the emulator's CloudWatch Logs (moto), where the service exports them."""
    if not result.logs:
        return
    from moto.logs.models import logs_backends

    backend = logs_backends[run.account_id][run.region]
    if run.log_group not in backend.groups:
        backend.create_log_group(run.log_group, {})
    ids = task_instance_ids_of([TaskSpec(task_id, "") for task_id in result.logs])
    now_ms = int(datetime.now().timestamp() * 1000)
    for task_id, lines in result.logs.items():
        stream = _log_stream(run.run_id, ids[task_id])
        backend.create_log_stream(run.log_group, stream)
        events = [{"timestamp": now_ms, "message": line} for line in lines if line]
        if events:
            backend.put_log_events(run.log_group, stream, events)
