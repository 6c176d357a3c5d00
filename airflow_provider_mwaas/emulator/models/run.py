"""One workflow run: its state (moto's ``ManagedState``, see :mod:`..transitions`) and its wire views."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from moto.core.common_models import BaseModel
from moto.moto_api import state_manager
from moto.moto_api._internal import mock_random
from moto.moto_api._internal.managed_state_model import ManagedState

from ..events import RunEventPublisher
from ..outcomes import ScriptedOutcome
from ..transitions import RUN_MODEL
from .shapes import TERMINAL, compact, utcnow
from .task_instances import TaskInstanceViews, task_instance_ids_of

if TYPE_CHECKING:
    from .versions import WorkflowVersion
    from .workflows import Workflow


@dataclass(frozen=True)
class RunStart:
    """What a StartWorkflowRun created a run from.

    :param workflow: the workflow.
    :param version: the version to run.
    :param client_token: the request's ClientToken.
    :param request: ``{"WorkflowVersion", "OverrideParameters"}`` as requested.
    :param sequence: the backend's run counter.
    """

    workflow: Workflow
    version: WorkflowVersion
    client_token: str | None
    request: dict[str, Any]
    sequence: int


class WorkflowRun(TaskInstanceViews, BaseModel, ManagedState):
    """One run; its state comes from moto's ``ManagedState`` (see :mod:`.transitions`)."""

    def __init__(self, start: RunStart, outcome: ScriptedOutcome | None, held: bool):
        workflow, version, request = start.workflow, start.version, start.request
        ManagedState.__init__(
            self,
            RUN_MODEL,
            transitions=[
                ("STARTING", "QUEUED"),
                ("QUEUED", "RUNNING"),
                ("RUNNING", "SUCCESS"),
                ("STOPPING", "STOPPED"),
            ],
        )
        self.run_id = mock_random.uuid4().hex  # IdString: [a-zA-Z0-9]+[a-zA-Z0-9\.\-_]*
        self.workflow_arn = workflow.arn
        self.workflow_version = version.version_id
        self.tasks = version.tasks
        self.client_token = start.client_token
        self.request = request
        self.override_parameters = request.get("OverrideParameters")
        self.sequence = start.sequence
        self.created_at = utcnow()
        self.modified_at = self.created_at
        self.running_since: datetime | None = None
        self.completed_on: datetime | None = None
        self.stopped_from: str | None = None
        self.held = held
        self.error_message: str | None = None
        self.failed_tasks: tuple[str, ...] = ()
        self._lock = threading.RLock()
        self.task_instance_ids = task_instance_ids_of(self.tasks)
        if outcome is not None:
            self.apply_outcome(outcome)
        self.events = RunEventPublisher(self.workflow_arn, self.workflow_version, self.run_id)
        self.announce(str(self._status), self.created_at)

    # -- state -------------------------------------------------------------------------------------

    @property  # type: ignore[override]
    def status(self) -> str:
        """The current state, after applying every transition that is due."""
        with self._lock:
            config = state_manager.get_transition(self.model_name)
            if config["progression"] == "time":
                self._catch_up(float(config["seconds"]))
            else:
                before = self._status
                ManagedState.status.fget(self)  # type: ignore[attr-defined]
                if self._status != before:
                    self._entered(str(self._status), utcnow())
            return str(self._status)

    @status.setter
    def status(self, value: str) -> None:
        self._status = value

    def _catch_up(self, seconds: float) -> None:
        # moto's time progression moves at most one state per read and restarts the clock at the
        # read, so a run polled every 30 s with 2 s states would lag far behind. Walk every state
        # transition that is due, each stamped with the moment it was due.
        while (nxt := self._next_due(seconds)) is not None and datetime.now() >= nxt[1]:
            state, due = nxt
            self._status = state
            self._time_progressed = due
            self._entered(state, due.astimezone(timezone.utc))

    def _next_due(self, seconds: float) -> tuple[str, datetime] | None:
        """In ``time`` mode: the next state and when it is due (local time); ``None`` when held or ended."""
        nxt = self._get_next_status(self._status)
        if nxt is None or nxt == self._status:
            return None
        return str(nxt), self._time_progressed + timedelta(seconds=seconds)

    def due_in(self, seconds: float) -> float | None:
        """In ``time`` mode with ``seconds`` per state: seconds until the next state is due (negative when
        overdue); ``None`` when nothing is due (held, or ended)."""
        with self._lock:
            nxt = self._next_due(seconds)
            return None if nxt is None else (nxt[1] - datetime.now()).total_seconds()

    def _get_next_status(self, previous: str | None) -> str | None:
        if previous == "RUNNING" and self.held:
            return previous
        return super()._get_next_status(previous)

    def _entered(self, state: str, at: datetime) -> None:
        self.announce(state, at)
        self.modified_at = at
        if state == "RUNNING":
            self.running_since = at
        if state in TERMINAL:
            self.completed_on = at
            if state == "SUCCESS":
                self.error_message = None

    def announce(self, state: str, at: datetime) -> None:
        """Publish the events of entering ``state`` at ``at`` (see :mod:`..events`)."""
        self.events.entered(state, at, self.event_task_states(state))

    def event_task_states(self, state: str) -> dict[str, str]:
        """Task instance id -> state, as the task events announce them once the run is in ``state``."""
        previous, self._status = self._status, state
        try:
            return {self.task_instance_ids[t]: s for t, s in self.task_states().items() if t in self.task_instance_ids}
        finally:
            self._status = previous

    def age_seconds(self) -> float:
        """Seconds since the run was created."""
        return (utcnow() - self.created_at).total_seconds()

    def age(self, seconds: float) -> None:
        """Move every timestamp of the run ``seconds`` into the past (as if it had run that long ago)."""
        with self._lock:
            shift = timedelta(seconds=seconds)
            self.created_at -= shift
            self.modified_at -= shift
            if self.running_since is not None:
                self.running_since -= shift
            if self.completed_on is not None:
                self.completed_on -= shift

    def release(self) -> None:
        """Let this held run finish; in ``time`` mode its clock restarts now (held time does not count)."""
        with self._lock:
            current = self.status  # states due while held are entered first
            self.held = False
            if current == "RUNNING":
                self._time_progressed = datetime.now()

    def read(self) -> str:
        """One poll of this run: advances it in ``call`` mode, then returns its state."""
        with self._lock:
            self.advance()
            return self.status

    def stop(self) -> str:
        """Ask the run to stop: in-flight runs go to ``STOPPING`` then ``STOPPED``."""
        with self._lock:
            current = self.status
            if current in ("STARTING", "QUEUED", "RUNNING"):
                self.stopped_from = current
                self._status = "STOPPING"
                self._tick = 0
                self._time_progressed = datetime.now()
                self._entered("STOPPING", utcnow())
                self.error_message = "Run stopped by StopWorkflowRun"
            return str(self._status)

    def apply_outcome(self, outcome: ScriptedOutcome) -> None:
        """Make this (in-flight) run end as ``outcome`` says.

        :raises ValueError: the run is already terminal or stopping.
        """
        with self._lock:
            if self._status in TERMINAL or self._status == "STOPPING":
                raise ValueError(f"Run {self.run_id} is already {self._status}")
            task_ids = [t.task_id for t in self.tasks]
            failed = outcome.failed_tasks if outcome.failed_tasks is not None else tuple(task_ids[-1:])
            unknown = set(failed) - set(task_ids)
            if unknown:
                raise ValueError(f"Unknown task ids {sorted(unknown)}; the run has {task_ids}")
            self.failed_tasks = tuple(failed) if outcome.status != "SUCCESS" else ()
            self.error_message = outcome.error_message if outcome.status != "SUCCESS" else None
            self._transitions = [
                (prev, outcome.status if prev == "RUNNING" else nxt) for prev, nxt in self._transitions
            ]

    @property
    def peek(self) -> str:
        """The state without counting a read."""
        return self.status

    # -- views -------------------------------------------------------------------------------------

    def detail(self) -> dict[str, Any]:
        """A ``WorkflowRunDetail`` (call :attr:`status` or :meth:`read` first)."""
        state = str(self._status)
        return compact(
            {
                "WorkflowArn": self.workflow_arn,
                "WorkflowVersion": self.workflow_version,
                "RunId": self.run_id,
                "RunType": "ON_DEMAND",
                "StartedOn": self.running_since,  # absent while STARTING or QUEUED
                "CreatedAt": self.created_at,
                "CompletedOn": self.completed_on,
                "ModifiedAt": self.modified_at,
                "Duration": self._duration(),
                "ErrorMessage": self.error_message[:255]
                if self.error_message and state in TERMINAL and state != "SUCCESS"
                else None,
                "TaskInstances": list(self.task_instance_ids.values()),
                "RunState": state,
            }
        )

    def summary(self) -> dict[str, Any]:
        """A ``WorkflowRunSummary``."""
        return compact(
            {
                "RunId": self.run_id,
                "WorkflowArn": self.workflow_arn,
                "WorkflowVersion": self.workflow_version,
                "RunType": "ON_DEMAND",
                "RunDetailSummary": compact(
                    {
                        "Status": str(self._status),
                        "CreatedOn": self.created_at,
                        "StartedAt": self.running_since,
                        "EndedAt": self.completed_on,
                    }
                ),
            }
        )

    def _duration(self) -> int | None:
        # Seconds of execution (from StartedOn; from creation for a run stopped before it started),
        # rounded to the nearest second rather than truncated.
        if self.completed_on is None:
            return None
        return max(0, round((self.completed_on - (self.running_since or self.created_at)).total_seconds()))

    def record(self) -> dict[str, Any]:
        """The control API's view: ``RunId, WorkflowArn, ClientToken, Status, WorkflowVersion, Held,
        OverrideParameters, CreatedAt, CompletedOn`` (a test's own emulator: the parameters are the test's)."""
        return {
            "RunId": self.run_id,
            "WorkflowArn": self.workflow_arn,
            "ClientToken": self.client_token,
            "Status": self.peek,
            "WorkflowVersion": self.workflow_version,
            "Held": self.held,
            "OverrideParameters": self.override_parameters,
            "CreatedAt": self.created_at.isoformat(),
            "CompletedOn": self.completed_on.isoformat() if self.completed_on is not None else None,
        }
