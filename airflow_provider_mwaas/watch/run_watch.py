"""The one watch flow on a run: state -> progress line when it changed -> verdict -> failure diagnostics.

Pure (no I/O), so the three waits share it: the hook's worker wait and the sensor's poke drive it with
boto3 calls (:meth:`~airflow_provider_mwaas.hooks.mwaa_serverless.MwaaServerlessHook.poll_workflow_run`),
the trigger with aiobotocore calls. Kept free of boto3/botocore imports (DAG-parse cost).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_mwaas.service.run_states import (
    FAILURE_STATES,
    NOT_STARTED_STATES,
    SUCCESS_STATES,
    TERMINAL_STATES,
)
from airflow_provider_mwaas.watch.diagnostics import (
    describe_run_failure,
    failed_task_instances,
    progress_line,
    run_error_message,
)


@dataclass(frozen=True)
class RunFailure:
    """Why a watched run failed, as the task reports it.

    :param state: the run's final state.
    :param error_message: the service's ``ErrorMessage`` (``None`` when it gave none).
    :param failed_task_instances: the failed task instances (see ``diagnostics.failed_task_instances``).
    :param description: the whole message: state, error message and failed task instances.
    """

    state: str
    error_message: str | None
    failed_task_instances: list[dict[str, Any]]
    description: str


@dataclass
class RunWatch:
    """What one wait on one run has seen, and what it means.

    :param workflow_arn: the workflow.
    :param run_id: the run watched.
    :param success_states: states that end the wait successfully.
    :param failure_states: states that end it with a failure; a terminal state outside
        ``success_states`` is a failure too, since it can never change.
    """

    workflow_arn: str
    run_id: str
    success_states: frozenset[str] = SUCCESS_STATES
    failure_states: frozenset[str] = FAILURE_STATES
    state: str = "UNKNOWN"
    last_line: str | None = None
    failure: RunFailure | None = field(default=None)

    @staticmethod
    def wants_task_instances(state: str) -> bool:
        """Whether task-instance progress is worth a ListTaskInstances call in ``state``."""
        return state not in NOT_STARTED_STATES

    def progress(self, state: str, task_instances: Iterable[Mapping[str, Any]] | None) -> str | None:
        """Record ``state``; return the progress line to log when it differs from the last one, else ``None``."""
        self.state = state
        line = f"Workflow run {self.run_id}: {progress_line(state, task_instances)}"
        if line == self.last_line:
            return None
        self.last_line = line
        return line

    @property
    def verdict(self) -> str | None:
        """``"success"`` or ``"failure"`` once the last state seen ends the wait, else ``None``."""
        if self.state in self.success_states:
            return "success"
        if self.state in self.failure_states or self.state in TERMINAL_STATES:
            return "failure"
        return None

    def fail(self, run: Mapping[str, Any], task_instances: Iterable[Mapping[str, Any]]) -> RunFailure:
        """Build (and keep in :attr:`failure`) the diagnostics of a failed run.

        :param run: the GetWorkflowRun response (``{}`` when it could not be read).
        :param task_instances: the run's task instances (``[]`` when they could not be listed).
        """
        failed = failed_task_instances(task_instances)
        error = run_error_message(run)
        description = describe_run_failure(self.workflow_arn, self.run_id, self.state, error, failed)
        self.failure = RunFailure(self.state, error, failed, description)
        return self.failure
