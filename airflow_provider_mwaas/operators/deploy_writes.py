"""The write requests of :class:`~.mwaa_serverless_workflow.DeployWorkflowOperator`, made only once it has
found that something differs: the uploads to S3, CreateWorkflow, UpdateWorkflow and the tag calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_mwaas.deploy.definition_store import s3_uri
from airflow_provider_mwaas.deploy.workflow_params import as_params, create_only_members, param_name, updatable_members
from airflow_provider_mwaas.errors import MwaaServerlessApiError

if TYPE_CHECKING:
    from airflow_provider_mwaas.deploy.code_package import CodePackage
    from airflow_provider_mwaas.hooks.mwaa_serverless import MwaaServerlessHook
    from airflow_provider_mwaas.service.workflow_definition import WorkflowDefinition


class DeployWritesMixin:
    """Uploads, CreateWorkflow, UpdateWorkflow and tags of the deploy operator."""

    if TYPE_CHECKING:
        hook: MwaaServerlessHook
        log: Any
        workflow_name: str
        tags: dict[str, str] | None

    def _create(
        self, desired: dict[str, Any], definition: WorkflowDefinition, code: CodePackage | None
    ) -> dict[str, Any] | None:
        """CreateWorkflow; ``None`` when the service says the name was taken meanwhile."""
        self._upload(definition, desired, code)
        create_only = {m: getattr(self, param_name(m), None) for m in create_only_members()}
        params = as_params({**desired, **{k: v for k, v in create_only.items() if v is not None}})
        try:
            response = self.hook.create_workflow(self.workflow_name, **params)
        except MwaaServerlessApiError as err:
            if err.code == "ConflictException":
                self.log.info("CreateWorkflow of %s conflicted (created meanwhile): comparing", self.workflow_name)
                return None
            raise
        self.log.info("Created workflow %s at version %s", response["WorkflowArn"], response["WorkflowVersion"])
        _log_warnings(self.log, response)
        return response

    def _update(
        self,
        arn: str,
        live: dict[str, Any],
        desired: dict[str, Any],
        definition: WorkflowDefinition,
        code: CodePackage | None,
    ) -> str:
        """UpdateWorkflow with ``desired`` and the live settings it leaves unmanaged; return the new version."""
        self._upload(definition, desired, code)
        carried = {m: live[m] for m in updatable_members() if m not in desired and live.get(m) is not None}
        response = self.hook.update_workflow(arn, **as_params({**carried, **desired}))
        _log_warnings(self.log, response)
        return response["WorkflowVersion"]

    def _upload(self, definition: WorkflowDefinition, desired: dict[str, Any], code: CodePackage | None) -> None:
        from airflow_provider_mwaas.deploy.definition_store import ensure_object

        client = self.hook.s3_client()
        objects = [("Definition", desired["DefinitionS3Location"], definition.content, definition.sha256, "yaml")]
        if code is not None:
            objects.append(("Code package", desired["Code"]["S3Location"], code.content, code.sha256, "zip"))
        for what, location, content, sha256, kind in objects:
            uploaded = ensure_object(client, location["Bucket"], location["ObjectKey"], content, sha256, kind)
            self.log.info("%s %s %s", what, s3_uri(location), "uploaded" if uploaded else "already in S3: not uploaded")

    def _sync_tags(self, arn: str) -> None:
        """Keep an existing workflow's tags equal to ``tags`` (TagResource/UntagResource only for a difference)."""
        if self.tags is None:
            return
        from airflow_provider_mwaas.deploy.workflow_params import tag_changes

        add, remove = tag_changes(self.hook.list_tags(arn), self.tags)
        if add:
            self.hook.tag_workflow(arn, add)
        if remove:
            self.hook.untag_workflow(arn, remove)
        if add or remove:
            self.log.info("Workflow %s tags: set %s, removed %s", arn, sorted(add), remove)


def _log_warnings(log: Any, response: dict[str, Any]) -> None:
    for warning in response.get("Warnings") or []:
        log.warning("MWAA Serverless: %s", warning)
