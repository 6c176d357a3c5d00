"""The one definition of MWAA Serverless run states and the sets derived from them.

Kept free of boto3/botocore imports so that operators and sensors can use it at DAG-parse time.
``tests/service/test_run_states.py`` checks that these sets partition exactly the ``WorkflowRunStatus``
enum of the installed botocore service model, so a new service state fails the suite loudly.
"""

from __future__ import annotations

from enum import Enum


class RunState(str, Enum):
    """A workflow run's ``RunDetail.RunState`` (botocore shape ``WorkflowRunStatus``)."""

    STARTING = "STARTING"
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    STOPPING = "STOPPING"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"
    TIMEOUT = "TIMEOUT"
    STOPPED = "STOPPED"

    def __str__(self) -> str:
        return self.value


IN_FLIGHT_STATES: frozenset[str] = frozenset({"STARTING", "QUEUED", "RUNNING", "STOPPING"})
SUCCESS_STATES: frozenset[str] = frozenset({"SUCCESS"})
FAILURE_STATES: frozenset[str] = frozenset({"FAILED", "TIMEOUT", "STOPPED"})
TERMINAL_STATES: frozenset[str] = SUCCESS_STATES | FAILURE_STATES
#: In-flight states a later try re-attaches to. ``STOPPING`` is in flight but is not one of them: a run
#: being stopped (a user's clear or kill, ``stop_on_kill``) can only end STOPPED, so a retry starts anew.
ATTACHABLE_STATES: frozenset[str] = IN_FLIGHT_STATES - {"STOPPING"}
#: In-flight states before the run has task instances: progress is not worth a ListTaskInstances call.
NOT_STARTED_STATES: frozenset[str] = frozenset({"STARTING", "QUEUED"})

#: Task-instance states (botocore shape ``TaskInstanceStatus``) that count as "done" for progress.
#: ``NONE`` is a task instance with no state yet (not scheduled): not started, so not done.
TASK_INSTANCE_DONE_STATES: frozenset[str] = frozenset(
    {"SUCCESS", "FAILED", "UPSTREAM_FAILED", "REMOVED", "CANCELLED", "TIMEOUT"}
)
#: Task-instance states reported as failures in diagnostics.
TASK_INSTANCE_FAILED_STATES: frozenset[str] = frozenset({"FAILED", "UPSTREAM_FAILED", "TIMEOUT", "CANCELLED"})
