"""Operators that deploy and delete MWAA Serverless workflows from a YAML definition kept in the repo.

``DeployWorkflowOperator`` is idempotent: the definition is stored in S3 under a content-addressed key,
and the workflow is created, or updated (a new version) only when something it would change differs
from the live workflow. Re-running it with the same inputs sends no write request at all.

Importing this module is cheap: no boto3, botocore, amazon hook module or PyYAML until a task runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_mwaas.operators.base import MwaaServerlessBaseOperator
from airflow_provider_mwaas.utils.aws_params import aws_template_fields
from airflow_provider_mwaas.utils.definition_store import (
    DEFAULT_PREFIX,
    check_bucket,
    check_prefix,
    content_key,
    parse_s3_location,
    s3_uri,
)
from airflow_provider_mwaas.utils.errors import InvalidParameterError, MwaaServerlessApiError
from airflow_provider_mwaas.utils.validation import check_model_member
from airflow_provider_mwaas.utils.workflow_params import (
    create_only_members,
    param_name,
    tag_changes,
    updatable_members,
    workflow_request,
)
from airflow_provider_mwaas.version_compat import AirflowException, AirflowFailException

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_mwaas.utils.code_package import CodePackage
    from airflow_provider_mwaas.utils.workflow_definition import WorkflowDefinition

#: What ``deployment`` (XCom) says the deploy did.
CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"


class InvalidWorkflowDefinitionError(InvalidParameterError):
    """The definition does not parse or names no tasks; refused before any MWAA Serverless request.

    :param line: 1-based line of the problem (``None`` when the problem is not on one line).
    :param reason: what is wrong.
    """

    def __init__(self, field: str, value: Any, reason: str, line: int | None, column: int | None, where: str):
        self.line = line
        self.column = column
        self.reason = reason
        super().__init__(field, value, f"a YAML workflow definition that parses and names its tasks; {where}")


class DeployWorkflowOperator(MwaaServerlessBaseOperator):
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

    ``code_folder`` is packed into a reproducible zip (:mod:`~airflow_provider_mwaas.utils.code_package`)
    stored, like the definition, at its content address ``<s3_prefix><workflow_name>/code/<sha256>.zip``
    and given as the workflow's ``Code``: changed code makes a new version, unchanged code uploads nothing.

    Returns the workflow ARN and pushes XComs ``workflow_arn``, ``workflow_version`` (the live version:
    new on create/update, the existing one otherwise), ``deployment`` (``created``/``updated``/
    ``unchanged``) and ``definition_s3_location``. Chain a run of exactly that version with
    ``StartWorkflowRunOperator(workflow_arn=deploy.output["workflow_arn"],
    workflow_version=deploy.output["workflow_version"])``.

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
    :param tags: tags of a new workflow; create only. (templated)
    :param aws_conn_id: Airflow connection id, used for MWAA Serverless and S3. (templated)
    :param region_name: AWS region, overriding the connection's. (templated)
    :param verify: TLS verification, overriding the connection's. (templated)
    :param botocore_config: ``botocore.config.Config`` arguments as a dict. (templated)
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
        self._upload(definition, desired, code)
        carried = {m: live[m] for m in updatable_members() if m not in desired and live.get(m) is not None}
        response = self.hook.update_workflow(arn, **_as_params({**carried, **desired}))
        _log_warnings(self.log, response)
        return self._done(context, arn, response["WorkflowVersion"], UPDATED, location)

    def _create(
        self, desired: dict[str, Any], definition: WorkflowDefinition, code: CodePackage | None
    ) -> dict[str, Any] | None:
        """CreateWorkflow; ``None`` when the service says the name was taken meanwhile."""
        self._upload(definition, desired, code)
        create_only = {m: getattr(self, param_name(m), None) for m in create_only_members()}
        params = _as_params({**desired, **{k: v for k, v in create_only.items() if v is not None}})
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

    def _upload(self, definition: WorkflowDefinition, desired: dict[str, Any], code: CodePackage | None) -> None:
        from airflow_provider_mwaas.utils.definition_store import ensure_object

        client = self.hook.s3_client()
        objects = [("Definition", desired["DefinitionS3Location"], definition.content, definition.sha256, "yaml")]
        if code is not None:
            objects.append(("Code package", desired["Code"]["S3Location"], code.content, code.sha256, "zip"))
        for what, location, content, sha256, kind in objects:
            uploaded = ensure_object(client, location["Bucket"], location["ObjectKey"], content, sha256, kind)
            self.log.info("%s %s %s", what, s3_uri(location), "uploaded" if uploaded else "already in S3: not uploaded")

    def _package_code(self) -> CodePackage | None:
        """The ``code_folder`` packed (no request); ``None`` without one."""
        if self.code_folder is None:
            return None
        from airflow_provider_mwaas.utils.code_package import package_folder

        folder = self._resolve_path(self.code_folder)
        try:
            package = package_folder(folder)
        except (OSError, ValueError) as err:
            raise InvalidParameterError(
                "code_folder",
                self.code_folder,
                f"a local folder holding the workflow's code (relative paths are resolved against the DAG "
                f"file's folder); {err}",
            ) from None
        self.log.info("Code package of %s: %d files (sha256 %s)", folder, len(package.files), package.sha256)
        return package

    def _sync_tags(self, arn: str) -> None:
        """Keep an existing workflow's tags equal to ``tags`` (TagResource/UntagResource only for a difference)."""
        if self.tags is None:
            return
        add, remove = tag_changes(self.hook.list_tags(arn), self.tags)
        if add:
            self.hook.tag_workflow(arn, add)
        if remove:
            self.hook.untag_workflow(arn, remove)
        if add or remove:
            self.log.info("Workflow %s tags: set %s, removed %s", arn, sorted(add), remove)

    def _refuse_create_only_changes(self, live: dict[str, Any]) -> None:
        wanted = self.encryption_configuration
        current = live.get("EncryptionConfiguration")
        if wanted is not None and current is not None and _normalise(wanted) != _normalise(current):
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

    # -- inputs --------------------------------------------------------------------------------------

    def _check_inputs(self) -> tuple[Any, str, str, dict[str, Any]]:
        """Check every input; return (source, bucket, prefix, optional settings keyed by model member)."""
        if self.code_folder is not None and (not isinstance(self.code_folder, str) or not self.code_folder.strip()):
            raise InvalidParameterError("code_folder", self.code_folder, "a non-empty local folder path")
        if (self.definition_file is None) == (self.definition_s3_location is None):
            raise InvalidParameterError(
                "definition_file",
                self.definition_file,
                "exactly one of definition_file (a local path) and definition_s3_location",
            )
        source: Any
        if self.definition_file is not None:
            if not isinstance(self.definition_file, str) or not self.definition_file.strip():
                raise InvalidParameterError("definition_file", self.definition_file, "a non-empty local file path")
            source = self._resolve_path(self.definition_file)
            if self.s3_bucket is None:
                raise InvalidParameterError("s3_bucket", None, "the bucket to store the definition in")
            bucket = check_bucket("s3_bucket", self.s3_bucket)
        else:
            source = parse_s3_location("definition_s3_location", self.definition_s3_location)
            bucket = check_bucket("s3_bucket", self.s3_bucket if self.s3_bucket is not None else source["Bucket"])
        prefix = check_prefix("s3_prefix", self.s3_prefix)
        settings = {
            "Description": self.description,
            "EngineVersion": _engine_version(self.engine_version),
            "TriggerMode": self.trigger_mode,
            "LoggingConfiguration": self.logging_configuration,
            "NetworkConfiguration": self.network_configuration,
        }
        settings = {k: v for k, v in settings.items() if v is not None}
        # The whole CreateWorkflow request, with a stand-in key (the real one is a sha256 and always valid).
        workflow_request(
            "CreateWorkflow",
            workflow_name=self.workflow_name,
            role_arn=self.role_arn,
            definition_s3_location={"Bucket": bucket, "ObjectKey": content_key(prefix, "n", "0" * 64)},
            encryption_configuration=self.encryption_configuration,
            tags=self.tags,
            **_as_params(settings),
        )
        return source, bucket, prefix, settings

    def _resolve_path(self, path: str) -> Path:
        candidate = Path(path).expanduser()
        if candidate.is_absolute():
            return candidate
        dag = getattr(self, "dag", None) if self.has_dag() else None
        fileloc = getattr(dag, "fileloc", None)
        return Path(fileloc).parent / candidate if fileloc else candidate.resolve()

    def _read(self, source: Path | dict[str, str]) -> tuple[WorkflowDefinition, str]:
        """Read and parse the definition; refuse it with its line and reason."""
        from airflow_provider_mwaas.utils.workflow_definition import DefinitionError, read_definition

        value: Any
        if isinstance(source, Path):
            field, value, where = "definition_file", self.definition_file, str(source)
            try:
                content = source.read_bytes()
            except OSError as err:
                raise InvalidParameterError(
                    field,
                    value,
                    f"a readable local file (relative paths are resolved against the DAG file's "
                    f"folder); reading {source} failed: {err.strerror or err}",
                ) from None
        else:
            from airflow_provider_mwaas.utils.definition_store import read_object

            field, value, where = "definition_s3_location", self.definition_s3_location, s3_uri(source)
            content = read_object(self.hook.s3_client(), source)
        try:
            definition = read_definition(content, source=where, strict=True)
        except DefinitionError as err:
            raise InvalidWorkflowDefinitionError(field, value, err.reason, err.line, err.column, str(err)) from None
        # What MWAA Serverless accepts beyond parsing (layout, operator paths...): the same offline
        # checks as ``python -m airflow_provider_mwaas.workflows check``; warnings are logged.
        from airflow_provider_mwaas.workflows.check import ERROR, check_definition

        for finding in check_definition(content, where):
            if finding.severity == ERROR:
                error = DefinitionError(finding.reason, finding.line, source=where)
                raise InvalidWorkflowDefinitionError(field, value, finding.reason, finding.line, None, str(error))
            self.log.warning("Workflow definition %s", finding)
        return definition, where


class DeleteWorkflowOperator(MwaaServerlessBaseOperator):
    """Delete an MWAA Serverless workflow (all its versions), or one version of it.

    Deleting the whole workflow also stops its running executions (the service's documented behaviour).
    Idempotent: a workflow or version that does not exist is already deleted, unless ``missing_ok=False``.

    :param workflow_arn: the workflow's ARN, e.g. ``{{ ti.xcom_pull('deploy', key='workflow_arn') }}``.
        (templated) Exactly one of this and ``workflow_name``.
    :param workflow_name: the workflow's name, looked up with ListWorkflows. (templated)
    :param workflow_version: delete only this version (32 characters); ``None`` deletes the workflow.
        (templated)
    :param missing_ok: succeed when there is nothing to delete (default); ``False`` fails the task.
    :param aws_conn_id: Airflow connection id. (templated)
    :param region_name: AWS region, overriding the connection's. (templated)
    :param verify: TLS verification, overriding the connection's. (templated)
    :param botocore_config: ``botocore.config.Config`` arguments as a dict. (templated)
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
        self.workflow_arn = workflow_arn
        self.workflow_name = workflow_name
        self.workflow_version = workflow_version
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


# -- helpers ----------------------------------------------------------------------------------------

def _as_params(members: dict[str, Any]) -> dict[str, Any]:
    """Model members -> the hook's Python keyword arguments."""
    return {param_name(member): value for member, value in members.items()}


def changed_members(desired: dict[str, Any], live: dict[str, Any]) -> list[str]:
    """The members of ``desired`` (keyed by model member) whose value differs from the live workflow's.

    The definition is compared by its location only (bucket and content-addressed key): the same key
    means the same bytes.
    """
    changed = []
    for member, value in desired.items():
        current = live.get(member)
        if member == "DefinitionS3Location":
            current = {k: v for k, v in (current or {}).items() if k in ("Bucket", "ObjectKey")} or None
        if _normalise(value) != _normalise(current):
            changed.append(member)
    return changed


def _normalise(value: Any) -> Any:
    """Compare settings regardless of list order (security groups, subnets) and absent members."""
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return sorted((_normalise(v) for v in value), key=repr)
    return value


def _engine_version(value: Any) -> Any:
    # Templates render to strings: accept "1" for 1; anything else goes to the model check as is.
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return value


def _log_warnings(log: Any, response: dict[str, Any]) -> None:
    for warning in response.get("Warnings") or []:
        log.warning("MWAA Serverless: %s", warning)
