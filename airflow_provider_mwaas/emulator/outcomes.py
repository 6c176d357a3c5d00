"""Scripted outcomes and holds for runs that have not started yet.

A script says how a workflow's next runs end (``FAILED`` or ``TIMEOUT``, with an error message and
the task instances that fail); a hold keeps new runs ``RUNNING`` until released. Instructions for an
existing run are applied to that run directly (:meth:`.models.WorkflowRun.apply_outcome`); this book
only keeps the ones waiting for future runs. Thread-safe: the server answers requests on threads.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace

#: Terminal states a run can be scripted to end in.
SCRIPTABLE_STATES = ("FAILED", "TIMEOUT", "SUCCESS")
DEFAULT_ERROR_MESSAGE = "Scripted failure injected by the MWAA Serverless emulator"


@dataclass(frozen=True)
class ScriptedOutcome:
    """How a run ends.

    :param status: ``FAILED``, ``TIMEOUT`` (or ``SUCCESS``).
    :param error_message: the run's ``RunDetail.ErrorMessage`` (1..255 characters on the wire).
    :param failed_tasks: task ids that fail; ``None`` = the last task of the definition.
    :param remaining: runs still to get this outcome; ``None`` = every future run.
    """

    status: str = "FAILED"
    error_message: str = DEFAULT_ERROR_MESSAGE
    failed_tasks: tuple[str, ...] | None = None
    remaining: int | None = 1

    def __post_init__(self) -> None:
        if self.status not in SCRIPTABLE_STATES:
            raise ValueError(f"status must be one of {SCRIPTABLE_STATES}, got {self.status!r}")
        if self.remaining is not None and self.remaining < 1:
            raise ValueError("count must be a positive number of runs, or None for every run")
        if not 1 <= len(self.error_message) <= 255:
            raise ValueError("error_message must have 1..255 characters")


@dataclass
class OutcomeBook:
    """Pending scripts (per workflow ARN, in order) and pending holds."""

    _scripts: dict[str, list[ScriptedOutcome]] = field(default_factory=dict)
    _held_workflows: set[str] = field(default_factory=set)
    _hold_all: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add_script(self, workflow_arn: str, outcome: ScriptedOutcome) -> None:
        """Queue an outcome for the workflow's next ``outcome.remaining`` runs.

        :param workflow_arn: the workflow.
        :param outcome: the outcome; scripts are used in the order they were added.
        """
        with self._lock:
            self._scripts.setdefault(workflow_arn, []).append(outcome)

    def take_script(self, workflow_arn: str) -> ScriptedOutcome | None:
        """The outcome for a run that starts now, consuming one use of it.

        :param workflow_arn: the workflow of the new run.
        """
        with self._lock:
            queue = self._scripts.get(workflow_arn)
            if not queue:
                return None
            outcome = queue[0]
            if outcome.remaining is not None:
                if outcome.remaining <= 1:
                    queue.pop(0)
                else:
                    queue[0] = replace(outcome, remaining=outcome.remaining - 1)
            return outcome

    def hold_future(self, workflow_arn: str | None) -> None:
        """Hold the new runs of a workflow (``None``: of every workflow) until released."""
        with self._lock:
            if workflow_arn is None:
                self._hold_all = True
            else:
                self._held_workflows.add(workflow_arn)

    def release_future(self, workflow_arn: str | None) -> None:
        """Stop holding new runs of a workflow (``None``: of every workflow)."""
        with self._lock:
            if workflow_arn is None:
                self._hold_all = False
                self._held_workflows.clear()
            else:
                self._held_workflows.discard(workflow_arn)

    def holds(self, workflow_arn: str) -> bool:
        """Whether a run of this workflow that starts now must be held."""
        with self._lock:
            return self._hold_all or workflow_arn in self._held_workflows

    def pending(self) -> dict[str, list[ScriptedOutcome]]:
        """A copy of the queued scripts (for the control endpoint)."""
        with self._lock:
            return {arn: list(queue) for arn, queue in self._scripts.items() if queue}
