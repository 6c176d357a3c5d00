"""The base of MwaaServerlessHook: connection handling, retry policy and error translation.

The calls themselves live beside it, one module per job: runs (``mwaa_serverless``), workflows
(``workflows``), the triggers' async calls (``async_calls``) and the UI's Test button
(``connection_test``); :class:`~airflow_provider_mwaas.hooks.mwaa_serverless.MwaaServerlessHook`
brings them together.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import cached_property
from typing import Any, ClassVar

from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook
from airflow.providers.amazon.aws.utils.connection_wrapper import AwsConnectionWrapper
from botocore.config import Config
from botocore.exceptions import ClientError

from airflow_provider_mwaas.errors import InvalidParameterError, MwaaServerlessApiError, NonRetryableApiError
from airflow_provider_mwaas.service import run_states
from airflow_provider_mwaas.version_compat import AirflowNotFoundException

#: botocore retry policy used when neither the hook's ``config``, the connection's ``config_kwargs``
#: nor ``AWS_RETRY_MODE`` / ``AWS_MAX_ATTEMPTS`` choose one. botocore's standard mode retries
#: ThrottlingException and InternalServerException (the model marks them retryable) with jittered
#: exponential backoff; we raise the retries (botocore's ``max_attempts`` counts retries) from 2 to 10
#: for fan-out workloads that get throttled.
DEFAULT_RETRIES: dict[str, Any] = {"mode": "standard", "max_attempts": 10}

#: For StopWorkflowRun from ``on_kill``, which Airflow gives seconds: 5 s between SIGTERM and SIGKILL on
#: a worker, ``[triggerer] on_kill_timeout`` (30 s) in the triggerer. Three short attempts rather than the
#: default ten with backoff and a 60 s read timeout, which a kill would cut short without a word.
ON_KILL_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 3}, connect_timeout=2, read_timeout=3)

#: Codes a retry of the task cannot fix, with what the user should do.
NON_RETRYABLE_HINTS: dict[str, str] = {
    "AccessDeniedException": "Grant the connection's identity the IAM action airflow-serverless:{action}",
    "ResourceNotFoundException": "Check the workflow ARN, its region and account, and the run id",
    "ValidationException": "The service refused a parameter; see the message for the field",
    "ConflictException": "The resource already exists or is being changed; see the message",
    "ServiceQuotaExceededException": "A service quota is exhausted; request an increase or wait for runs to end",
}
#: Hints that depend on the operation as well as the code, looked up before :data:`NON_RETRYABLE_HINTS`.
OPERATION_HINTS: dict[tuple[str, str], str] = {
    ("StartWorkflowRun", "ConflictException"): (
        "A run already exists for this ClientToken with different parameters; use the same "
        "override_parameters/workflow_version as the first try, or another client_token"
    ),
}


class MwaaServerlessBaseHook(AwsBaseHook):
    """AwsBaseHook fixed to the ``mwaa-serverless`` client, reading ``aws`` and ``mwaa_serverless`` connections.

    Throttling and 5xx errors are retried by botocore's retry modes, configurable through the
    connection's ``config_kwargs`` (e.g. ``{"retries": {"mode": "adaptive", "max_attempts": 20}}``).
    """

    conn_type = "mwaa_serverless"
    hook_name = "Amazon MWAA Serverless"

    IN_FLIGHT_STATES = run_states.IN_FLIGHT_STATES
    SUCCESS_STATES = run_states.SUCCESS_STATES
    FAILURE_STATES = run_states.FAILURE_STATES
    TERMINAL_STATES = run_states.TERMINAL_STATES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["client_type"] = "mwaa-serverless"
        super().__init__(*args, **kwargs)

    @cached_property
    def conn_config(self) -> AwsConnectionWrapper:
        """The connection, wrapped; an unknown connection id is an error unless it is the default.

        The amazon hook silently falls back to boto3's credential chain for any missing id, which hides
        typos; we keep that fallback only for ``aws_default`` (as on MWAA, where it often does not exist).
        """
        connection = None
        if self.aws_conn_id:
            try:
                connection = self.get_connection(self.aws_conn_id)
            except AirflowNotFoundException:
                if self.aws_conn_id != self.default_conn_name:
                    raise InvalidParameterError(
                        "aws_conn_id", self.aws_conn_id, "the id of an existing Airflow connection, or None"
                    ) from None
                self.log.info("No connection %r: using boto3's default credential chain", self.aws_conn_id)
        wrapped: Any = connection
        if connection is not None and connection.conn_type == self.conn_type:
            wrapped = self._aws_connection_from_form(connection)  # see "connection test" below
        return AwsConnectionWrapper(
            conn=wrapped, region_name=self._region_name, botocore_config=self._config, verify=self._verify
        )

    @property
    def config(self) -> Config:
        """The botocore config, with :data:`DEFAULT_RETRIES` when nothing else chose a retry policy."""
        config = super().config
        if config.retries is None and not ({"AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS"} & os.environ.keys()):
            config = config.merge(Config(retries=DEFAULT_RETRIES))
        return config

    def with_config(self, config: Config) -> Any:
        """The same hook (connection, region, ``verify``) with ``config`` merged over its botocore config,
        e.g. :data:`ON_KILL_CONFIG` for a call that must end within a deadline."""
        return type(self)(
            aws_conn_id=self.aws_conn_id,
            region_name=self._region_name,
            verify=self._verify,
            config=self.config.merge(config),
        )

    # -- the ``mwaa_serverless`` connection form ----------------------------------------------------
    # The form (declared in get_provider_info.py) stores its fields in ``extra`` under plain names; most
    # are the amazon provider's own AWS extras, the rest are mapped here, so the amazon machinery
    # (credentials, role assumption, endpoints) reads our type exactly as it reads an ``aws`` connection.

    #: Form fields that are not amazon AWS-connection extras (``external_id``), and the form's endpoint
    #: fields, each the endpoint of ONE service (``service_config.<service>.endpoint_url``). The form's
    #: ``endpoint_url`` is the MWAA Serverless endpoint: it is never the amazon hook's global
    #: ``endpoint_url``, which every other service (S3, STS) would use too.
    SERVICE_ENDPOINT_FIELDS: ClassVar[dict[str, str]] = {
        "endpoint_url": "mwaa-serverless",
        "sts_endpoint_url": "sts",
        "s3_endpoint_url": "s3",
    }
    FORM_ONLY_FIELDS = ("external_id", *SERVICE_ENDPOINT_FIELDS)

    @classmethod
    def aws_extra_from_form(cls, extra: dict[str, Any]) -> dict[str, Any]:
        """Map a ``mwaa_serverless`` connection's extra onto the amazon provider's AWS extras.

        Empty form fields (``None`` or ``""``) are dropped; ``external_id`` becomes
        ``assume_role_kwargs.ExternalId``; ``endpoint_url``, ``sts_endpoint_url`` and ``s3_endpoint_url``
        become ``service_config.{mwaa-serverless,sts,s3}.endpoint_url`` (so S3 never goes to the MWAA
        Serverless endpoint, and the amazon hook assumes roles through ``sts``'s own). Values already set
        in the JSON extra win over the form fields.
        """
        aws = {k: v for k, v in extra.items() if v not in (None, "") and k not in cls.FORM_ONLY_FIELDS}
        if extra.get("external_id"):
            aws["assume_role_kwargs"] = {"ExternalId": extra["external_id"], **(aws.get("assume_role_kwargs") or {})}
        service_config = dict(aws.get("service_config") or {})
        for field, service in cls.SERVICE_ENDPOINT_FIELDS.items():
            if extra.get(field):
                service_config[service] = {"endpoint_url": extra[field], **(service_config.get(service) or {})}
        if service_config:
            aws["service_config"] = service_config
        return aws

    def _aws_connection_from_form(self, connection: Any) -> AwsConnectionWrapper:
        """Wrap a ``mwaa_serverless`` connection as the AWS connection it describes (no type warning)."""
        return AwsConnectionWrapper.from_connection_metadata(
            conn_id=connection.conn_id,
            login=connection.login,
            password=connection.password,
            extra=self.aws_extra_from_form(connection.extra_dejson),
        )

    # -- calls -------------------------------------------------------------------------------------

    def call(self, operation: str, **params: Any) -> dict[str, Any]:
        """Call ``operation`` (e.g. ``"GetWorkflowRun"``) and translate service errors.

        :return: the response without ``ResponseMetadata``.
        """
        method = getattr(self.conn, _snake(operation))
        try:
            response = method(**params)
        except ClientError as err:
            raise translate_client_error(operation, err) from err
        response.pop("ResponseMetadata", None)
        return response

    def _paginate(self, operation: str, key: str, **params: Any) -> list[dict[str, Any]]:
        return list(self._iterate(operation, key, **params))

    def _iterate(self, operation: str, key: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Yield the items of every page, through botocore's paginator (pages fetched lazily)."""
        paginator = self.conn.get_paginator(_snake(operation))
        try:
            for page in paginator.paginate(**params):
                yield from page.get(key, [])
        except ClientError as err:
            raise translate_client_error(operation, err) from err


def translate_client_error(operation: str, err: ClientError) -> MwaaServerlessApiError:
    """Turn a botocore ClientError into our exception, keeping code, message and request id."""
    error = err.response.get("Error", {})
    code = str(error.get("Code", "Unknown"))
    message = str(error.get("Message", "")) or str(err)
    request_id = err.response.get("ResponseMetadata", {}).get("RequestId")
    hint = OPERATION_HINTS.get((operation, code)) or NON_RETRYABLE_HINTS.get(code)
    translated = (
        NonRetryableApiError(operation, code, message, request_id, hint.format(action=operation))
        if hint is not None
        else MwaaServerlessApiError(operation, code, message, request_id)
    )
    # botocore puts an error shape's modelled members (ResourceId, RetryAfterSeconds...) beside "Error".
    translated.details = {k: v for k, v in err.response.items() if k not in ("Error", "ResponseMetadata")}
    translated.details.update({k: v for k, v in error.items() if k not in ("Code", "Message")})
    return translated


def _snake(operation: str) -> str:
    """``StartWorkflowRun`` -> ``start_workflow_run`` (boto3's method naming)."""
    from botocore import xform_name

    return xform_name(operation)
