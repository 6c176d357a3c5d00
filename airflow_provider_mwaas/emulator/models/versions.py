"""Workflow versions: each immutable version's definition and settings, and ``ListWorkflowVersions``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from moto.core.common_models import BaseModel
from moto.moto_api._internal import mock_random
from moto.utilities.paginator import paginate

from ..definitions import TaskSpec
from .shapes import PAGINATION_MODEL, compact, schedule_configuration, utcnow

if TYPE_CHECKING:
    from .workflows import Workflow


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
        return compact(
            {
                "WorkflowVersion": self.version_id,
                "WorkflowArn": self.workflow_arn,
                "IsLatestVersion": is_latest,
                "CreatedAt": self.created_at,
                "ModifiedAt": self.created_at,
                "DefinitionS3Location": self.settings.get("DefinitionS3Location"),
                "ScheduleConfiguration": schedule_configuration(self.schedule),
                "TriggerMode": self.settings.get("TriggerMode"),
            }
        )


class VersionsMixin:
    """The backend's version operations (a workflow's versions live on its :class:`~.workflows.Workflow`)."""

    if TYPE_CHECKING:

        def _workflow(self, arn: str) -> Workflow: ...

    @paginate(pagination_model=PAGINATION_MODEL)
    def list_workflow_versions(self, workflow_arn: str) -> list[WorkflowVersion]:
        """``ListWorkflowVersions``, newest first."""
        return list(reversed(self._workflow(workflow_arn).versions))
