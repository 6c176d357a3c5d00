"""The operator that deletes an MWAA Serverless workflow, or one version of it.

Public path: :mod:`airflow_provider_mwaas.operators.mwaa_serverless_workflow` (re-exported there).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_mwaas.deploy.workflow_params import workflow_request
from airflow_provider_mwaas.errors import InvalidParameterError, MwaaServerlessApiError
from airflow_provider_mwaas.hooks.aws_params import aws_template_fields
from airflow_provider_mwaas.operators.base import MwaaServerlessBaseOperator
from airflow_provider_mwaas.params.validation import check_model_member
from airflow_provider_mwaas.version_compat import AirflowFailException

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context


class DeleteWorkflowOperator(MwaaServerlessBaseOperator):
    """Delete an MWAA Serverless workflow (all its versions), or one version of it.

    Deleting the whole workflow also stops its running executions (the service's documented behaviour).
    Idempotent: a workflow or version that does not exist is already deleted, unless ``missing_ok=False``.

    AWS connection parameters (``aws_conn_id``, ``region_name``, ``verify``, ``botocore_config``, all
    templated) are :class:`~airflow_provider_mwaas.operators.base.MwaaServerlessBaseOperator`'s.

    :param workflow_arn: the workflow's ARN, e.g. ``{{ ti.xcom_pull('deploy', key='workflow_arn') }}``.
        (templated) Exactly one of this and ``workflow_name``.
    :param workflow_name: the workflow's name, looked up with ListWorkflows. (templated)
    :param workflow_version: delete only this version (32 characters); ``None`` deletes the workflow.
        (templated)
    :param missing_ok: succeed when there is nothing to delete (default); ``False`` fails the task.
    :return: the ARN of the workflow deleted from, or ``None`` when there was nothing to delete.
    """

    template_fields: Sequence[str] = aws_template_fields("workflow_arn", "workflow_name", "workflow_version")

    def __init__(
        self,
        *,
        workflow_arn: str | None = None,
        workflow_name: str | None = None,
        workflow_version: str | None = None,
        missing_ok: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        # the workflow, by exactly one of ARN and name, and optionally one version of it
        self.workflow_arn, self.workflow_name, self.workflow_version = workflow_arn, workflow_name, workflow_version
        self.missing_ok = missing_ok

    def execute(self, context: Context) -> str | None:
        if (self.workflow_arn is None) == (self.workflow_name is None):
            raise InvalidParameterError(
                "workflow_arn", self.workflow_arn, "exactly one of workflow_arn and workflow_name"
            )
        if self.workflow_name is not None:
            check_model_member("workflow_name", "CreateWorkflow", "Name", self.workflow_name, required=True)
        else:
            workflow_request("DeleteWorkflow", workflow_arn=self.workflow_arn)
        if self.workflow_version is not None:
            check_model_member("workflow_version", "DeleteWorkflow", "WorkflowVersion", self.workflow_version)
        _ = self.hook.conn_config

        arn = self.workflow_arn
        if arn is None:
            summary = self.hook.find_workflow(str(self.workflow_name))
            if summary is None:
                self._missing(f"No workflow named {self.workflow_name}")
                return None
            arn = summary["WorkflowArn"]
        what = f"version {self.workflow_version} of {arn}" if self.workflow_version else f"workflow {arn}"
        try:
            self.hook.delete_workflow(arn, self.workflow_version)
        except MwaaServerlessApiError as err:
            if err.code == "ResourceNotFoundException":
                self._missing(f"Nothing to delete: {what} does not exist ({err})")
                return None
            raise
        self.log.info("Deleted %s", what)
        return arn

    def _missing(self, message: str) -> None:
        if not self.missing_ok:
            raise AirflowFailException(f"{message}; missing_ok=False")
        self.log.info("%s: already deleted", message)
