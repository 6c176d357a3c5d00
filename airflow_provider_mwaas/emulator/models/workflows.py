"""Workflows: create (idempotent on ``ClientToken``), get, update (a new version), delete, list."""

from __future__ import annotations

import threading
from typing import Any

from moto.core.common_models import BaseModel
from moto.utilities.paginator import paginate
from moto.utilities.utils import get_partition

from airflow_provider_mwaas.service.model import REASON_FIELD_VALIDATION_FAILED, REASON_OTHER

from ..definitions import DefinitionError, read_definition
from ..exceptions import ConflictException, ResourceNotFoundException, ValidationException
from .shapes import PAGINATION_MODEL, SERVICE_PREFIX, compact, random_alnum, schedule_configuration, utcnow
from .versions import WorkflowVersion


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
        return compact(
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


class WorkflowsMixin:
    """The backend's workflow operations."""

    region_name: str
    account_id: str
    workflows: dict[str, Workflow]
    runs: dict[str, Any]
    _lock: threading.RLock

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
        return compact(
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
                "ScheduleConfiguration": schedule_configuration(version.schedule),
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
            return compact({"WorkflowArn": arn, "WorkflowVersion": version_id})

    @paginate(pagination_model=PAGINATION_MODEL)
    def list_workflows(self) -> list[Workflow]:
        """``ListWorkflows``, oldest first."""
        return list(self.workflows.values())
