"""The emulated service's state: workflows, their versions, runs and task instances.

Laid out like a moto service (``moto/<service>/models.py``): a ``BaseBackend`` per account and region
in a ``BackendDict`` named ``mwaaserverless_backends``, which is what ``moto.backends.get_backend``
looks for (see :mod:`.registration`). Backend methods return plain dicts keyed like the wire shapes;
the responses layer only wraps them.
"""

from __future__ import annotations

import itertools
import re
import string
import threading
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
from moto.core.base_backend import BackendDict, BaseBackend
from moto.core.common_models import BaseModel
from moto.moto_api import state_manager
from moto.moto_api._internal import mock_random
from moto.moto_api._internal.managed_state_model import ManagedState
from moto.utilities.paginator import paginate
from moto.utilities.utils import get_partition

from airflow_provider_mwaas.utils.service_model import REASON_FIELD_VALIDATION_FAILED, REASON_OTHER, service_model

from .definitions import DefinitionError, TaskSpec, downstream_of, read_definition
from .exceptions import ConflictException, ResourceNotFoundException, ValidationException
from .outcomes import ScriptedOutcome
from .state import STATE
from .transitions import RUN_MODEL

IN_FLIGHT = ("STARTING", "QUEUED", "RUNNING", "STOPPING")
TERMINAL = ("SUCCESS", "FAILED", "TIMEOUT", "STOPPED")
SERVICE_PREFIX = "airflow-serverless"

PAGINATION_MODEL = {
    "list_workflows": {
        "input_token": "next_token",
        "limit_key": "max_results",
        "limit_default": 100,
        "unique_attribute": "arn",
    },
    "list_workflow_versions": {
        "input_token": "next_token",
        "limit_key": "max_results",
        "limit_default": 100,
        "unique_attribute": "version_id",
    },
    "list_workflow_runs": {
        "input_token": "next_token",
        "limit_key": "max_results",
        "limit_default": 100,
        "unique_attribute": "run_id",
    },
    "list_task_instances": {
        "input_token": "next_token",
        "limit_key": "max_results",
        "limit_default": 100,
        "unique_attribute": "TaskInstanceId",
    },
}


def utcnow() -> datetime:
    """Timezone-aware now (the serializer writes ISO 8601)."""
    return datetime.now(timezone.utc)


def random_alnum(length: int) -> str:
    """``length`` random letters and digits from moto's seedable RNG."""
    alphabet = string.ascii_letters + string.digits
    return "".join(mock_random.choice(alphabet) for _ in range(length))


class WorkflowVersion(BaseModel):
    """One immutable version of a workflow: its definition and settings."""

    def __init__(self, workflow_arn: str, settings: dict[str, Any], tasks: list[TaskSpec], schedule: Any):
        self.version_id = mock_random.uuid4().hex  # shape WorkflowVersion: [a-z0-9]{32}
        self.workflow_arn = workflow_arn
        self.settings = settings
        self.tasks = tasks
        self.schedule = schedule
        self.created_at = utcnow()

    def summary(self, is_latest: bool) -> dict[str, Any]:
        """A ``WorkflowVersionSummary``."""
        return _compact(
            {
                "WorkflowVersion": self.version_id,
                "WorkflowArn": self.workflow_arn,
                "IsLatestVersion": is_latest,
                "CreatedAt": self.created_at,
                "ModifiedAt": self.created_at,
                "DefinitionS3Location": self.settings.get("DefinitionS3Location"),
                "ScheduleConfiguration": _schedule_configuration(self.schedule),
                "TriggerMode": self.settings.get("TriggerMode"),
            }
        )


class Workflow(BaseModel):
    """A named workflow with its versions (oldest first) and tags."""

    def __init__(self, name: str, arn: str, client_token: str | None, tags: dict[str, str]):
        self.name = name
        self.arn = arn
        self.client_token = client_token
        self.tags = dict(tags)
        self.versions: list[WorkflowVersion] = []
        self.created_at = utcnow()
        self.modified_at = self.created_at
        self.create_request: dict[str, Any] = {}

    @property
    def latest(self) -> WorkflowVersion:
        """The newest version."""
        return self.versions[-1]

    def version(self, version_id: str | None) -> WorkflowVersion:
        """A version by id, the latest when ``version_id`` is ``None``.

        :raises ResourceNotFoundException: no such version.
        """
        if version_id is None:
            return self.latest
        for version in self.versions:
            if version.version_id == version_id:
                return version
        raise ResourceNotFoundException(
            "WorkflowVersion", version_id, f"Workflow version {version_id} of {self.arn} not found"
        )

    def summary(self) -> dict[str, Any]:
        """A ``WorkflowSummary`` (of the latest version)."""
        latest = self.latest
        return _compact(
            {
                "WorkflowArn": self.arn,
                "WorkflowVersion": latest.version_id,
                "Name": self.name,
                "Description": latest.settings.get("Description"),
                "CreatedAt": self.created_at,
                "ModifiedAt": self.modified_at,
                "WorkflowStatus": "READY",
                "TriggerMode": latest.settings.get("TriggerMode"),
            }
        )


class WorkflowRun(BaseModel, ManagedState):
    """One run; its state comes from moto's ``ManagedState`` (see :mod:`.transitions`)."""

    def __init__(
        self,
        workflow: Workflow,
        version: WorkflowVersion,
        client_token: str | None,
        request: dict[str, Any],
        sequence: int,
        outcome: ScriptedOutcome | None,
        held: bool,
    ):
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
        self.client_token = client_token
        self.request = request
        self.override_parameters = request.get("OverrideParameters")
        self.sequence = sequence
        self.created_at = utcnow()
        self.modified_at = self.created_at
        self.running_since: datetime | None = None
        self.completed_on: datetime | None = None
        self.stopped_from: str | None = None
        self.held = held
        self.error_message: str | None = None
        self.failed_tasks: tuple[str, ...] = ()
        self._lock = threading.RLock()
        self.task_instance_ids = _task_instance_ids(self.tasks)
        if outcome is not None:
            self.apply_outcome(outcome)

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
        while True:
            nxt = self._get_next_status(self._status)
            due = self._time_progressed + timedelta(seconds=seconds)
            if nxt == self._status or datetime.now() < due:
                return
            self._status = nxt
            self._time_progressed = due
            self._entered(str(nxt), due.astimezone(timezone.utc))

    def _get_next_status(self, previous: str | None) -> str | None:
        if previous == "RUNNING" and self.held:
            return previous
        return super()._get_next_status(previous)

    def _entered(self, state: str, at: datetime) -> None:
        self.modified_at = at
        if state == "RUNNING":
            self.running_since = at
        if state in TERMINAL:
            self.completed_on = at
            if state == "SUCCESS":
                self.error_message = None

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
        return _compact(
            {
                "WorkflowArn": self.workflow_arn,
                "WorkflowVersion": self.workflow_version,
                "RunId": self.run_id,
                "RunType": "ON_DEMAND",
                "StartedOn": self.created_at,
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
        return _compact(
            {
                "RunId": self.run_id,
                "WorkflowArn": self.workflow_arn,
                "WorkflowVersion": self.workflow_version,
                "RunType": "ON_DEMAND",
                "RunDetailSummary": _compact(
                    {
                        "Status": str(self._status),
                        "CreatedOn": self.created_at,
                        "StartedAt": self.created_at,
                        "EndedAt": self.completed_on,
                    }
                ),
            }
        )

    def _duration(self) -> int | None:
        if self.completed_on is None:
            return None
        return max(0, int((self.completed_on - self.created_at).total_seconds()))

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
                _compact(
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


class MWAAServerlessBackend(BaseBackend):
    """MWAA Serverless for one account and region."""

    def __init__(self, region_name: str, account_id: str):
        super().__init__(region_name, account_id)
        self.workflows: dict[str, Workflow] = {}
        self.runs: dict[str, WorkflowRun] = {}
        self.run_tokens: dict[tuple[str, str], str] = {}
        self._sequence = itertools.count()
        self._lock = threading.RLock()

    # -- workflows ---------------------------------------------------------------------------------

    def create_workflow(self, params: dict[str, Any]) -> dict[str, Any]:
        """``CreateWorkflow``: version 1 of a new workflow; idempotent on ``ClientToken``."""
        with self._lock:
            name, token = params["Name"], params.get("ClientToken")
            request = {k: v for k, v in params.items() if k != "ClientToken"}
            existing = next((w for w in self.workflows.values() if w.name == name), None)
            if existing is not None:
                if token is not None and existing.client_token == token and existing.create_request == request:
                    return self._create_response(existing, existing.versions[0])
                raise ConflictException("Workflow", name, f"A workflow named {name} already exists")
            arn = (
                f"arn:{get_partition(self.region_name)}:{SERVICE_PREFIX}:{self.region_name}:"
                f"{self.account_id}:workflow/{name}-{random_alnum(10)}"
            )
            version = self._new_version(arn, params)
            workflow = Workflow(name, arn, token, params.get("Tags") or {})
            workflow.create_request = request
            workflow.versions.append(version)
            self.workflows[arn] = workflow
            return self._create_response(workflow, version)

    @staticmethod
    def _create_response(workflow: Workflow, version: WorkflowVersion) -> dict[str, Any]:
        return {
            "WorkflowArn": workflow.arn,
            "CreatedAt": workflow.created_at,
            "RevisionId": version.version_id,
            "WorkflowStatus": "READY",
            "WorkflowVersion": version.version_id,
            "IsLatestVersion": version is workflow.latest,
            "Warnings": [],
        }

    def _new_version(self, arn: str, params: dict[str, Any]) -> WorkflowVersion:
        # The service snapshots the definition now: later changes to the S3 object do not affect
        # this version (the model's DefinitionS3Location documentation).
        text = self._read_definition(params["DefinitionS3Location"])
        try:
            definition = read_definition(text)
        except DefinitionError as err:
            raise ValidationException(
                str(err), REASON_FIELD_VALIDATION_FAILED, [{"Name": "DefinitionS3Location", "Message": str(err)[:2048]}]
            ) from err
        settings = {k: v for k, v in params.items() if k not in ("ClientToken", "Tags", "Name", "WorkflowArn")}
        return WorkflowVersion(arn, settings, list(definition.tasks), definition.schedule)

    def _read_definition(self, location: dict[str, Any]) -> bytes:
        # The definition lives in moto's own S3, so tests upload it with an ordinary s3 client.
        from moto.s3.models import s3_backends

        bucket, key, version_id = location["Bucket"], location["ObjectKey"], location.get("VersionId")
        s3 = s3_backends[self.account_id][get_partition(self.region_name)]
        try:
            obj = s3.get_object(bucket, key, version_id=version_id)
        except Exception as err:  # moto raises MissingBucket/MissingKey/InvalidVersion...
            obj = None
            detail = type(err).__name__
        else:
            detail = "NoSuchKey"
        if obj is None:
            message = f"Workflow definition s3://{bucket}/{key} cannot be read ({detail})"
            raise ValidationException(message, REASON_OTHER, [{"Name": "DefinitionS3Location", "Message": message}])
        return bytes(obj.value)

    def _workflow(self, arn: str) -> Workflow:
        workflow = self.workflows.get(arn)
        if workflow is None:
            raise ResourceNotFoundException("Workflow", arn, f"Workflow {arn} not found")
        return workflow

    def get_workflow(self, arn: str, version_id: str | None) -> dict[str, Any]:
        """``GetWorkflow``, of the latest version or of ``version_id``."""
        workflow = self._workflow(arn)
        version = workflow.version(version_id)
        settings = version.settings
        return _compact(
            {
                "WorkflowArn": arn,
                "WorkflowVersion": version.version_id,
                "Name": workflow.name,
                "Description": settings.get("Description"),
                "CreatedAt": version.created_at,
                "ModifiedAt": workflow.modified_at,
                "EncryptionConfiguration": settings.get("EncryptionConfiguration") or {"Type": "AWS_MANAGED_KEY"},
                "LoggingConfiguration": settings.get("LoggingConfiguration"),
                "EngineVersion": settings.get("EngineVersion"),
                "WorkflowStatus": "READY",
                "DefinitionS3Location": settings.get("DefinitionS3Location"),
                "Code": settings.get("Code"),
                "ScheduleConfiguration": _schedule_configuration(version.schedule),
                "RoleArn": settings.get("RoleArn"),
                "NetworkConfiguration": settings.get("NetworkConfiguration"),
                "TriggerMode": settings.get("TriggerMode"),
            }
        )

    def update_workflow(self, params: dict[str, Any]) -> dict[str, Any]:
        """``UpdateWorkflow``: a new version becomes the latest."""
        with self._lock:
            workflow = self._workflow(params["WorkflowArn"])
            version = self._new_version(workflow.arn, params)
            workflow.versions.append(version)
            workflow.modified_at = version.created_at
            return {
                "WorkflowArn": workflow.arn,
                "ModifiedAt": workflow.modified_at,
                "WorkflowVersion": version.version_id,
                "Warnings": [],
            }

    def delete_workflow(self, arn: str, version_id: str | None) -> dict[str, Any]:
        """``DeleteWorkflow``: one version, or the whole workflow (also when its last version goes).

        Deleting the latest version makes the previous one the latest. Deleting the whole workflow
        stops its in-flight runs, as the service documents; runs stay readable through the control API.
        """
        with self._lock:
            workflow = self._workflow(arn)
            if version_id is not None:
                version = workflow.version(version_id)
                workflow.versions.remove(version)
                if workflow.versions:
                    workflow.modified_at = utcnow()
                    return {"WorkflowArn": arn, "WorkflowVersion": version_id}
            for run in self.runs.values():
                if run.workflow_arn == arn:
                    run.stop()
            del self.workflows[arn]
            return _compact({"WorkflowArn": arn, "WorkflowVersion": version_id})

    @paginate(pagination_model=PAGINATION_MODEL)
    def list_workflows(self) -> list[Workflow]:
        """``ListWorkflows``, oldest first."""
        return list(self.workflows.values())

    @paginate(pagination_model=PAGINATION_MODEL)
    def list_workflow_versions(self, workflow_arn: str) -> list[WorkflowVersion]:
        """``ListWorkflowVersions``, newest first."""
        return list(reversed(self._workflow(workflow_arn).versions))

    # -- runs ----------------------------------------------------------------------------------------

    def start_workflow_run(self, params: dict[str, Any]) -> dict[str, Any]:
        """``StartWorkflowRun``; idempotent on ``ClientToken`` (a replay returns the same run)."""
        with self._lock:
            workflow = self._workflow(params["WorkflowArn"])
            token = params.get("ClientToken")
            request = {k: params.get(k) for k in ("WorkflowVersion", "OverrideParameters")}
            known = self.run_tokens.get((workflow.arn, token)) if token is not None else None
            run = self.runs[known] if known is not None else None
            if run is not None and STATE.assumptions.remembers(run.age_seconds(), run.peek in TERMINAL):
                if run.request != request:
                    if STATE.assumptions.conflict_names_run:
                        raise ConflictException(
                            "WorkflowRun",
                            run.run_id,
                            f"ClientToken {token} was already used with different parameters (run {run.run_id})",
                        )
                    raise ConflictException(
                        "ClientToken", str(token), f"ClientToken {token} was already used with different parameters"
                    )
                return {"RunId": run.run_id, "Status": run.peek, "StartedAt": run.created_at}
            version = workflow.version(params.get("WorkflowVersion"))
            run = WorkflowRun(
                workflow,
                version,
                token,
                request,
                next(self._sequence),
                outcome=STATE.outcomes.take_script(workflow.arn),
                held=STATE.outcomes.holds(workflow.arn),
            )
            self.runs[run.run_id] = run
            if token is not None:
                self.run_tokens[(workflow.arn, token)] = run.run_id
            STATE.counters.count_run_started()
            return {"RunId": run.run_id, "Status": run.peek, "StartedAt": run.created_at}

    def _run(self, workflow_arn: str, run_id: str) -> WorkflowRun:
        self._workflow(workflow_arn)
        run = self.runs.get(run_id)
        if run is None or run.workflow_arn != workflow_arn:
            raise ResourceNotFoundException("WorkflowRun", run_id, f"Run {run_id} of {workflow_arn} not found")
        return run

    def get_workflow_run(self, workflow_arn: str, run_id: str) -> dict[str, Any]:
        """``GetWorkflowRun``; in ``call`` mode each call advances the run."""
        run = self._run(workflow_arn, run_id)
        run.read()
        return _compact(
            {
                "WorkflowArn": run.workflow_arn,
                "WorkflowVersion": run.workflow_version,
                "RunId": run.run_id,
                "RunType": "ON_DEMAND",
                "OverrideParameters": run.override_parameters,
                "RunDetail": run.detail(),
            }
        )

    def stop_workflow_run(self, workflow_arn: str, run_id: str) -> dict[str, Any]:
        """``StopWorkflowRun``; a run already terminal keeps its state."""
        run = self._run(workflow_arn, run_id)
        status = run.stop()
        return {
            "WorkflowArn": run.workflow_arn,
            "WorkflowVersion": run.workflow_version,
            "RunId": run.run_id,
            "Status": status,
        }

    @paginate(pagination_model=PAGINATION_MODEL)
    def list_workflow_runs(self, workflow_arn: str, workflow_version: str | None = None) -> list[WorkflowRun]:
        """``ListWorkflowRuns``, newest first (or as ``STATE.assumptions.listing_order`` says)."""
        self._workflow(workflow_arn)
        runs = [
            r
            for r in self.runs.values()
            if r.workflow_arn == workflow_arn and (workflow_version is None or r.workflow_version == workflow_version)
        ]
        return STATE.assumptions.order(sorted(runs, key=lambda r: r.sequence, reverse=True))

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

    # -- tags ----------------------------------------------------------------------------------------

    def tag_resource(self, arn: str, tags: dict[str, str]) -> None:
        """``TagResource``."""
        workflow = self._workflow(arn)
        if len({**workflow.tags, **tags}) > 50:
            raise ValidationException(
                "A resource can have at most 50 tags", REASON_OTHER, [{"Name": "Tags", "Message": "Too many tags"}]
            )
        workflow.tags.update(tags)

    def untag_resource(self, arn: str, tag_keys: list[str]) -> None:
        """``UntagResource``."""
        workflow = self._workflow(arn)
        for key in tag_keys:
            workflow.tags.pop(key, None)

    def list_tags_for_resource(self, arn: str) -> dict[str, str]:
        """``ListTagsForResource``."""
        return dict(self._workflow(arn).tags)

    # -- UI (botocore >= 1.44) -------------------------------------------------------------------

    def create_airflow_ui_url(self, params: dict[str, Any]) -> dict[str, Any]:
        """``CreateAirflowUiUrl`` when the installed model has it: members filled from its output shape.

        The URL is not a working Airflow UI; it only has the right shape and lifetime.
        """
        now = utcnow()
        expires = now + timedelta(seconds=int(params.get("ExpiresInSeconds") or 300))
        session_end = now + timedelta(seconds=int(params.get("SessionDurationInSeconds") or 43200))
        url = f"https://{self.region_name}.{SERVICE_PREFIX}.emulator.invalid/ui/launch?token={mock_random.uuid4().hex}"
        output = service_model().operation_model("CreateAirflowUiUrl").output_shape
        result: dict[str, Any] = {}
        for name, shape in output.members.items() if output is not None else []:  # type: ignore[attr-defined]
            if shape.type_name == "string" and "url" in name.lower():
                result[name] = url
            elif shape.type_name == "timestamp":
                result[name] = session_end if "session" in name.lower() else expires
        return result


def _task_instance_ids(tasks: list[TaskSpec]) -> dict[str, str]:
    # Airflow task ids may start with "_" or hold characters IdString refuses.
    ids: dict[str, str] = {}
    for spec in tasks:
        candidate = re.sub(r"[^a-zA-Z0-9.\-_]", "_", spec.task_id).lstrip(".-_") or "task"
        unique, n = candidate, 2
        while unique in ids.values():
            unique, n = f"{candidate}-{n}", n + 1
        ids[spec.task_id] = unique[:255]
    return ids


def _schedule_configuration(schedule: Any) -> dict[str, str] | None:
    return {"CronExpression": schedule} if isinstance(schedule, str) and schedule else None


def _compact(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _regions() -> list[str]:
    # botocore has no endpoints.json entry for the service (get_available_regions() is empty), so
    # moto would create no backend at all: offer every region of every partition instead.
    session = boto3.Session()
    regions: set[str] = set()
    for partition in session.get_available_partitions():
        regions.update(session.get_available_regions("ec2", partition_name=partition))
    return sorted(regions)


mwaaserverless_backends = BackendDict(
    MWAAServerlessBackend, "mwaa-serverless", use_boto3_regions=False, additional_regions=_regions()
)
