"""Workflow calls: create, update, get, delete and list workflows and their versions."""

from __future__ import annotations

from typing import Any

from airflow_provider_mwaas.hooks.base import MwaaServerlessBaseHook


class WorkflowCallsMixin(MwaaServerlessBaseHook):
    """CreateWorkflow, UpdateWorkflow, GetWorkflow, DeleteWorkflow, ListWorkflows, ListWorkflowVersions."""

    # CreateWorkflow, UpdateWorkflow, GetWorkflow, DeleteWorkflow, ListWorkflows, ListWorkflowVersions.
    # Each request is checked whole against the service model first (InvalidParameterError naming the
    # parameter), then sent through call()/_iterate(), so errors translate as for the run calls.
    # ``settings`` are the optional members by their Python names (deploy.workflow_params.WORKFLOW_MEMBERS):
    # description, engine_version, trigger_mode, logging_configuration, network_configuration, and on
    # create also encryption_configuration, tags, client_token.

    def create_workflow(
        self, name: str, definition_s3_location: dict[str, Any], role_arn: str, **settings: Any
    ) -> dict[str, Any]:
        """CreateWorkflow: a new workflow whose first version runs the YAML at ``definition_s3_location``.

        :param name: unique per account and region.
        :param definition_s3_location: ``{"Bucket", "ObjectKey", "VersionId"?}``; the service snapshots it.
        :param role_arn: the IAM role the workflow's tasks run as.
        :return: ``WorkflowArn``, ``WorkflowVersion``, ``CreatedAt``, ``Warnings``...
        """
        params = {"workflow_name": name, "role_arn": role_arn, **settings}
        return self._checked_call("CreateWorkflow", definition_s3_location=definition_s3_location, **params)

    def update_workflow(
        self, workflow_arn: str, definition_s3_location: dict[str, Any], role_arn: str, **settings: Any
    ) -> dict[str, Any]:
        """UpdateWorkflow: every call makes a new version, which becomes the latest (not idempotent).

        :return: ``WorkflowArn``, ``WorkflowVersion`` (the new one), ``ModifiedAt``, ``Warnings``.
        """
        params = {"workflow_arn": workflow_arn, "role_arn": role_arn, **settings}
        return self._checked_call("UpdateWorkflow", definition_s3_location=definition_s3_location, **params)

    def _checked_call(self, operation: str, **params: Any) -> dict[str, Any]:
        """``operation`` with the request built from Python ``params`` and checked against the model first."""
        from airflow_provider_mwaas.deploy.workflow_params import workflow_request

        return self.call(operation, **workflow_request(operation, **params))

    def get_workflow(self, workflow_arn: str, workflow_version: str | None = None) -> dict[str, Any]:
        """GetWorkflow: the latest version's settings, or those of ``workflow_version``."""
        from airflow_provider_mwaas.deploy.workflow_params import workflow_request

        request = workflow_request("GetWorkflow", workflow_arn=workflow_arn, workflow_version=workflow_version)
        return self.call("GetWorkflow", **request)

    def delete_workflow(self, workflow_arn: str, workflow_version: str | None = None) -> dict[str, Any]:
        """DeleteWorkflow: one version, or (``workflow_version=None``) the workflow and all its versions."""
        from airflow_provider_mwaas.deploy.workflow_params import workflow_request

        request = workflow_request("DeleteWorkflow", workflow_arn=workflow_arn, workflow_version=workflow_version)
        return self.call("DeleteWorkflow", **request)

    def list_workflows(self) -> list[dict[str, Any]]:
        """Every workflow of the account and region (``WorkflowSummary``, all pages)."""
        return self._paginate("ListWorkflows", "Workflows")

    def find_workflow(self, name: str) -> dict[str, Any] | None:
        """The ``WorkflowSummary`` of the workflow named ``name``, or ``None`` (pages read only as far as needed)."""
        from airflow_provider_mwaas.params.validation import check_model_member

        check_model_member("workflow_name", "CreateWorkflow", "Name", name, required=True)
        return next((w for w in self._iterate("ListWorkflows", "Workflows") if w.get("Name") == name), None)

    def list_workflow_versions(self, workflow_arn: str) -> list[dict[str, Any]]:
        """Every version of a workflow (``WorkflowVersionSummary``, all pages)."""
        from airflow_provider_mwaas.deploy.workflow_params import workflow_request

        request = workflow_request("ListWorkflowVersions", workflow_arn=workflow_arn)
        return self._paginate("ListWorkflowVersions", "WorkflowVersions", **request)

    def s3_client(self) -> Any:
        """A boto3 S3 client on this hook's session, endpoint, TLS and retry settings (for definitions).

        Same credentials (role assumption included) as the MWAA Serverless calls. The endpoint is S3's
        own: ``service_config.s3.endpoint_url`` (the ``mwaa_serverless`` form's "S3 endpoint URL"), else
        the public regional endpoint; an ``aws`` connection's global ``endpoint_url`` applies to every
        service, S3 included (the amazon provider's rule). A ``mwaa_serverless`` connection's MWAA
        Serverless endpoint is never used for S3.
        """
        return self.get_session(region_name=self.region_name).client(
            "s3",
            endpoint_url=self.conn_config.get_service_endpoint_url(service_name="s3"),
            config=self.config,
            verify=self.verify,
        )
