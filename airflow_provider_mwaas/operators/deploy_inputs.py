"""What :class:`~.mwaa_serverless_workflow.DeployWorkflowOperator` checks and reads before any request:
its parameters against the model, and the definition (local file or S3 object) against the format.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_provider_mwaas.deploy.definition_store import (
    check_bucket,
    check_prefix,
    content_key,
    parse_s3_location,
    s3_uri,
)
from airflow_provider_mwaas.deploy.workflow_params import as_params, engine_version, workflow_request
from airflow_provider_mwaas.errors import InvalidParameterError, InvalidWorkflowDefinitionError

if TYPE_CHECKING:
    from airflow_provider_mwaas.hooks.mwaa_serverless import MwaaServerlessHook
    from airflow_provider_mwaas.service.workflow_definition import WorkflowDefinition


class DeployInputsMixin:
    """Input checks and definition reading of the deploy operator."""

    if TYPE_CHECKING:
        hook: MwaaServerlessHook
        workflow_name: str
        role_arn: str
        definition_file: str | None
        definition_s3_location: Any
        s3_bucket: str | None
        s3_prefix: str
        description: str | None
        engine_version: Any
        trigger_mode: str | None
        logging_configuration: dict[str, Any] | None
        network_configuration: dict[str, Any] | None
        encryption_configuration: dict[str, Any] | None
        tags: dict[str, str] | None

        def has_dag(self) -> bool: ...

    def _check_inputs(self) -> tuple[Any, str, str, dict[str, Any]]:
        """Check every input; return (source, bucket, prefix, optional settings keyed by model member)."""
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
            "EngineVersion": engine_version(self.engine_version),
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
            **as_params(settings),
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
        from airflow_provider_mwaas.service.workflow_definition import DefinitionError, read_definition

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
            from airflow_provider_mwaas.deploy.definition_store import read_object

            field, value, where = "definition_s3_location", self.definition_s3_location, s3_uri(source)
            content = read_object(self.hook.s3_client(), source)
        try:
            return read_definition(content, source=where, strict=True), where
        except DefinitionError as err:
            raise InvalidWorkflowDefinitionError(field, value, err.reason, err.line, err.column, str(err)) from None
