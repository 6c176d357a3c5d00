"""Operators that deploy and delete MWAA Serverless workflows from a YAML definition kept in the repo.

``DeployWorkflowOperator`` is idempotent: the definition is stored in S3 under a content-addressed key,
and the workflow is created, or updated (a new version) only when something it would change differs
from the live workflow. Re-running it with the same inputs sends no write request at all.

Importing this module is cheap: no boto3, botocore, amazon hook module or PyYAML until a task runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_mwaas.deploy.definition_store import DEFAULT_PREFIX, content_key
from airflow_provider_mwaas.deploy.workflow_params import changed_members, normalise
from airflow_provider_mwaas.errors import InvalidWorkflowDefinitionError
from airflow_provider_mwaas.hooks.aws_params import aws_template_fields
from airflow_provider_mwaas.operators.base import MwaaServerlessBaseOperator
from airflow_provider_mwaas.operators.delete_workflow import DeleteWorkflowOperator  # the public path of both
from airflow_provider_mwaas.operators.deploy_inputs import DeployInputsMixin
from airflow_provider_mwaas.operators.deploy_writes import DeployWritesMixin
from airflow_provider_mwaas.version_compat import AirflowException, AirflowFailException

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

#: What ``deployment`` (XCom) says the deploy did.
CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"


class DeployWorkflowOperator(DeployInputsMixin, DeployWritesMixin, MwaaServerlessBaseOperator):
    """Create or update an MWAA Serverless workflow from a YAML definition, only when something changed.

    1. Every input is checked (against the service model where it has a rule) and the definition is
       read, parsed and its tasks named before any MWAA Serverless request. A definition in S3 is read
       first (GetObject); a local one costs no request.
    2. The workflow is looked up by name (ListWorkflows). If it exists, its live settings (GetWorkflow)
       are compared with these: the definition's content address and every setting given here.
    3. Only if it is missing or differs, the definition is uploaded to
       ``s3://<s3_bucket>/<s3_prefix><workflow_name>/<sha256>.yaml`` (skipped when HeadObject finds it
       there) and CreateWorkflow or UpdateWorkflow is called. UpdateWorkflow makes a new version.

    Which settings exist, which UpdateWorkflow takes and which only CreateWorkflow takes come from the
    installed botocore model, not from a list here. Settings left at ``None`` are not managed: they are
    not compared, and an update carries the live workflow's values forward (``Code`` included).
    ``encryption_configuration`` exists only on CreateWorkflow: a different one on an existing workflow
    fails the task (the service cannot change it; delete and re-create the workflow). ``tags`` are
    given to CreateWorkflow, and kept in step on an existing workflow with TagResource/UntagResource
    (tags not in ``tags`` are removed); tags change no version.

    ``code_folder`` is packed into a reproducible zip (:mod:`~airflow_provider_mwaas.deploy.code_package`)
    stored, like the definition, at its content address ``<s3_prefix><workflow_name>/code/<sha256>.zip``
    and given as the workflow's ``Code``: changed code makes a new version, unchanged code uploads nothing.

    Returns the workflow ARN and pushes XComs ``workflow_arn``, ``workflow_version`` (the live version:
    new on create/update, the existing one otherwise), ``deployment`` (``created``/``updated``/
    ``unchanged``) and ``definition_s3_location``. Chain a run of exactly that version with
    ``StartWorkflowRunOperator(workflow_arn=deploy.output["workflow_arn"],
    workflow_version=deploy.output["workflow_version"])``.

    The input checks and definition reading are :class:`~.deploy_inputs.DeployInputsMixin`'s, the write
    requests :class:`~.deploy_writes.DeployWritesMixin`'s.

    AWS connection parameters (``aws_conn_id``, ``region_name``, ``verify``, ``botocore_config``, all
    templated) are :class:`~airflow_provider_mwaas.operators.base.MwaaServerlessBaseOperator`'s.

    :param workflow_name: the workflow's name, unique per account and region. (templated)
    :param role_arn: IAM role the workflow's tasks run as. (templated)
    :param definition_file: local path of the YAML definition; a relative path is resolved against the
        DAG file's folder. (templated) Exactly one of this and ``definition_s3_location``.
    :param definition_s3_location: the definition in S3: ``"s3://bucket/key"`` or
        ``{"Bucket", "ObjectKey", "VersionId"?}``. It is copied to its content address. (templated)
    :param s3_bucket: bucket for the content-addressed copy; default: the bucket of
        ``definition_s3_location`` (required with ``definition_file``). (templated)
    :param s3_prefix: key prefix of the copy (default ``mwaa-serverless/workflows/``). (templated)
    :param code_folder: local folder of the workflow's own Python code (its ``Code`` package); a relative
        path is resolved against the DAG file's folder. (templated)
    :param description: the workflow's description. (templated)
    :param engine_version: MWAA Serverless engine version (an integer). (templated)
    :param trigger_mode: the workflow's trigger mode. (templated)
    :param logging_configuration: ``{"LogGroupName": ...}``. (templated)
    :param network_configuration: ``{"SecurityGroupIds": [...], "SubnetIds": [...]}``. (templated)
    :param encryption_configuration: ``{"Type": "AWS_MANAGED_KEY"|"CUSTOMER_MANAGED_KEY", "KmsKeyId"?}``;
        create only. (templated)
    :param tags: the workflow's tags: given to CreateWorkflow, kept in step on an existing workflow. (templated)
    """

    template_fields: Sequence[str] = aws_template_fields(
        "workflow_name",
        "role_arn",
        "definition_file",
        "definition_s3_location",
        "s3_bucket",
        "s3_prefix",
        "code_folder",
        "description",
        "engine_version",
        "trigger_mode",
        "logging_configuration",
        "network_configuration",
        "encryption_configuration",
        "tags",
    )
    template_fields_renderers: ClassVar[dict[str, str]] = {
        "definition_s3_location": "json",
        "logging_configuration": "json",
        "network_configuration": "json",
        "encryption_configuration": "json",
        "tags": "json",
        "botocore_config": "json",
    }

    def __init__(
        self,
        *,
        workflow_name: str,
        role_arn: str,
        definition_file: str | None = None,
        definition_s3_location: str | dict[str, str] | None = None,
        s3_bucket: str | None = None,
        s3_prefix: str = DEFAULT_PREFIX,
        code_folder: str | None = None,
        description: str | None = None,
        engine_version: int | str | None = None,
        trigger_mode: str | None = None,
        logging_configuration: dict[str, Any] | None = None,
        network_configuration: dict[str, Any] | None = None,
        encryption_configuration: dict[str, Any] | None = None,
        tags: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.workflow_name = workflow_name
        self.role_arn = role_arn
        self.definition_file = definition_file
        self.definition_s3_location = definition_s3_location
        self.s3_bucket = s3_bucket
        self.s3_prefix = s3_prefix
        self.code_folder = code_folder
        self.description = description
        self.engine_version = engine_version
        self.trigger_mode = trigger_mode
        self.logging_configuration = logging_configuration
        self.network_configuration = network_configuration
        self.encryption_configuration = encryption_configuration
        self.tags = tags

    # -- execute -----------------------------------------------------------------------------------

    def execute(self, context: Context) -> str:
        source, bucket, prefix, settings = self._check_inputs()
        _ = self.hook.conn_config  # an unknown connection id fails here, before any request
        definition, source_text = self._read(source)
        self.log.info(
            "Workflow definition %s parsed: tasks %s (sha256 %s)",
            source_text,
            ", ".join(definition.task_ids),
            definition.sha256,
        )
        location = {"Bucket": bucket, "ObjectKey": content_key(prefix, self.workflow_name, definition.sha256)}
        desired = {**settings, "DefinitionS3Location": location, "RoleArn": self.role_arn}
        code = self._package_code()
        if code is not None:
            code_key = content_key(prefix, f"{self.workflow_name}/code", code.sha256, suffix=".zip")
            desired["Code"] = {"S3Location": {"Bucket": bucket, "ObjectKey": code_key}}

        summary = self.hook.find_workflow(self.workflow_name)
        if summary is None:
            created = self._create(desired, definition, code)
            if created is not None:
                return self._done(context, created["WorkflowArn"], created["WorkflowVersion"], CREATED, location)
            # Someone created it between our lookup and CreateWorkflow: compare with theirs.
            summary = self.hook.find_workflow(self.workflow_name)
            if summary is None:
                raise AirflowException(f"Workflow {self.workflow_name} conflicted on create but cannot be found")
        arn = summary["WorkflowArn"]
        if summary.get("WorkflowStatus") == "DELETING":
            raise AirflowException(f"Workflow {arn} is being deleted; a retry of this task can create it again")

        live = self.hook.get_workflow(arn)
        self._refuse_create_only_changes(live)
        self._sync_tags(arn)
        changed = changed_members(desired, live)
        if not changed:
            self.log.info("Workflow %s is up to date at version %s: nothing to do", arn, live["WorkflowVersion"])
            return self._done(context, arn, live["WorkflowVersion"], UNCHANGED, location)

        self.log.info("Workflow %s differs in %s: updating (a new version)", arn, ", ".join(changed))
        version = self._update(arn, live, desired, definition, code)
        return self._done(context, arn, version, UPDATED, location)

    def _refuse_create_only_changes(self, live: dict[str, Any]) -> None:
        wanted = self.encryption_configuration
        current = live.get("EncryptionConfiguration")
        if wanted is not None and current is not None and normalise(wanted) != normalise(current):
            raise AirflowFailException(
                f"Workflow {live['WorkflowArn']} has encryption {current}, not {wanted}: UpdateWorkflow cannot "
                "change a workflow's encryption. Delete the workflow (DeleteWorkflowOperator) and deploy again."
            )

    def _done(self, context: Context, arn: str, version: str, deployment: str, location: dict[str, str]) -> str:
        ti = context["ti"]
        ti.xcom_push(key="workflow_arn", value=arn)
        ti.xcom_push(key="workflow_version", value=version)
        ti.xcom_push(key="deployment", value=deployment)
        ti.xcom_push(key="definition_s3_location", value=location)
        self.log.info("Workflow %s: %s, live version %s", arn, deployment, version)
        return arn


__all__ = [
    "CREATED",
    "UNCHANGED",
    "UPDATED",
    "DeleteWorkflowOperator",
    "DeployWorkflowOperator",
    "InvalidWorkflowDefinitionError",
    "changed_members",
]
