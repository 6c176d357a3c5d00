"""MwaaServerlessHook: the signed MWAA Serverless calls, on the amazon provider's AWS connection machinery."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from functools import cached_property
from typing import Any

from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook
from airflow.providers.amazon.aws.utils.connection_wrapper import AwsConnectionWrapper
from airflow.providers.common.compat.sdk import AirflowNotFoundException
from botocore.config import Config
from botocore.exceptions import ClientError

from airflow_provider_mwaas.utils import run_states
from airflow_provider_mwaas.utils.diagnostics import progress_line, run_error_message, run_state
from airflow_provider_mwaas.utils.errors import (
    InvalidParameterError,
    MwaaServerlessApiError,
    NonRetryableApiError,
    WorkflowRunWaitTimeoutError,
)
from airflow_provider_mwaas.utils.validation import check_run_id, check_start_request

#: botocore retry policy used when neither the hook's ``config``, the connection's ``config_kwargs``
#: nor ``AWS_RETRY_MODE`` / ``AWS_MAX_ATTEMPTS`` choose one. botocore's standard mode retries
#: ThrottlingException and InternalServerException (the model marks them retryable) with jittered
#: exponential backoff; we raise the retries (botocore's ``max_attempts`` counts retries) from 2 to 10
#: for fan-out workloads that get throttled.
DEFAULT_RETRIES: dict[str, Any] = {"mode": "standard", "max_attempts": 10}

#: Codes a retry of the task cannot fix, with what the user should do.
NON_RETRYABLE_HINTS: dict[str, str] = {
    "AccessDeniedException": "Grant the connection's identity the IAM action airflow-serverless:{action}",
    "ResourceNotFoundException": "Check the workflow ARN, its region and account, and the run id",
    "ValidationException": "The service refused a parameter; see the message for the field",
    "ConflictException": (
        "A run already exists for this ClientToken with different parameters; use the same "
        "override_parameters/workflow_version as the first try, or another client_token"
    ),
    "ServiceQuotaExceededException": ("A service quota is exhausted; request an increase or wait for runs to end"),
}


class MwaaServerlessHook(AwsBaseHook):
    """Interact with Amazon MWAA Serverless through boto3 (and aiobotocore in triggers).

    Takes the :class:`~airflow.providers.amazon.aws.hooks.base_aws.AwsBaseHook` arguments
    (``aws_conn_id``, ``region_name``, ``verify``, ``config``); ``client_type`` is fixed.
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

    @classmethod
    def from_params(
        cls,
        aws_conn_id: str | None = "aws_default",
        region_name: str | None = None,
        verify: bool | str | None = None,
        botocore_config: dict[str, Any] | None = None,
    ) -> MwaaServerlessHook:
        """Build a hook from the operator-level parameters (the form triggers serialise)."""
        return cls(aws_conn_id=aws_conn_id, region_name=region_name, verify=verify, config=botocore_config)

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
        return AwsConnectionWrapper(
            conn=connection, region_name=self._region_name, botocore_config=self._config, verify=self._verify
        )

    @property
    def config(self) -> Config:
        """The botocore config, with :data:`DEFAULT_RETRIES` when nothing else chose a retry policy."""
        config = super().config
        if config.retries is None and not ({"AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS"} & os.environ.keys()):
            config = config.merge(Config(retries=DEFAULT_RETRIES))
        return config

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

    def start_workflow_run(
        self,
        workflow_arn: str,
        *,
        client_token: str | None = None,
        override_parameters: dict[str, Any] | None = None,
        workflow_version: str | None = None,
    ) -> dict[str, Any]:
        """Start a run of ``workflow_arn`` (idempotent per ``client_token``).

        Every parameter is checked against the service model before the request.

        :param workflow_arn: the workflow's ARN.
        :param client_token: idempotency token; the same token and parameters return the same run.
        :param override_parameters: parameters for this run (sensitive: never logged).
        :param workflow_version: the version to run; the latest when ``None``.
        :return: ``RunId``, ``Status`` and ``StartedAt``.
        """
        override_parameters = check_start_request(workflow_arn, workflow_version, client_token, override_parameters)
        params: dict[str, Any] = {"WorkflowArn": workflow_arn}
        if client_token is not None:
            params["ClientToken"] = client_token
        if override_parameters is not None:
            params["OverrideParameters"] = override_parameters
        if workflow_version is not None:
            params["WorkflowVersion"] = workflow_version
        return self.call("StartWorkflowRun", **params)

    def get_workflow_run(self, workflow_arn: str, run_id: str) -> dict[str, Any]:
        """Return GetWorkflowRun for one run (``RunDetail.RunState`` holds its state)."""
        check_start_request(workflow_arn, None, None, None)
        check_run_id(run_id)
        return self.call("GetWorkflowRun", WorkflowArn=workflow_arn, RunId=run_id)

    def stop_workflow_run(self, workflow_arn: str, run_id: str) -> dict[str, Any]:
        """Ask the service to stop a run; returns its ``Status`` (typically STOPPING)."""
        check_start_request(workflow_arn, None, None, None)
        check_run_id(run_id)
        return self.call("StopWorkflowRun", WorkflowArn=workflow_arn, RunId=run_id)

    def list_task_instances(self, workflow_arn: str, run_id: str) -> list[dict[str, Any]]:
        """Return every task instance of a run (all pages, through botocore's paginator)."""
        check_start_request(workflow_arn, None, None, None)
        check_run_id(run_id)
        return self._paginate("ListTaskInstances", "TaskInstances", WorkflowArn=workflow_arn, RunId=run_id)

    def list_workflow_runs(
        self, workflow_arn: str, workflow_version: str | None = None, created_after: datetime | None = None
    ) -> list[dict[str, Any]]:
        """Return a workflow's runs, newest first (all pages, or until runs older than ``created_after``).

        :param workflow_version: only runs of this version.
        :param created_after: stop paging at the first run created before this time.
        """
        check_start_request(workflow_arn, workflow_version, None, None)
        params: dict[str, Any] = {"WorkflowArn": workflow_arn}
        if workflow_version is not None:
            params["WorkflowVersion"] = workflow_version
        runs: list[dict[str, Any]] = []
        for run in self._iterate("ListWorkflowRuns", "WorkflowRuns", **params):
            created = (run.get("RunDetailSummary") or {}).get("CreatedOn")
            if created_after is not None and isinstance(created, datetime) and created < created_after:
                break
            runs.append(run)
        return runs

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

    # -- waiting on the worker ---------------------------------------------------------------------

    def wait_for_workflow_run(
        self,
        workflow_arn: str,
        run_id: str,
        *,
        waiter_delay: int,
        waiter_max_attempts: int,
        log: Callable[[str], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> dict[str, Any]:
        """Poll a run until it reaches a terminal state; return the final GetWorkflowRun response.

        Logs each state change and, while running, task-instance progress when it changes.

        :param waiter_delay: seconds between polls.
        :param waiter_max_attempts: polls before giving up; the wait lasts at most
            ``waiter_delay * waiter_max_attempts`` seconds, as in deferrable mode.
        :param log: where progress lines go (e.g. ``self.log.info``).
        :raises WorkflowRunWaitTimeoutError: the run was still in flight after the last attempt.
        """
        emit = log or self.log.info
        last_line = None
        state = "UNKNOWN"
        for attempt in range(1, waiter_max_attempts + 1):
            run = self.get_workflow_run(workflow_arn, run_id)
            state = run_state(run)
            tis = self.list_task_instances(workflow_arn, run_id) if state not in ("STARTING", "QUEUED") else None
            line = progress_line(state, tis)
            if line != last_line:
                emit(f"Workflow run {run_id}: {line}")
                last_line = line
            if state in self.TERMINAL_STATES:
                return run
            if attempt < waiter_max_attempts:
                sleep(waiter_delay)
        raise WorkflowRunWaitTimeoutError(
            f"Workflow run {run_id} of {workflow_arn} was still {state} after {waiter_max_attempts} "
            f"attempts x {waiter_delay}s = {waiter_max_attempts * waiter_delay}s; the run was left "
            f"running (last error message: {run_error_message(run) or 'none'})"
        )

    # -- async calls (triggers) --------------------------------------------------------------------
    # Used on the triggerer's event loop. ``async_client()`` builds the aiobotocore client in a
    # thread (connection lookup, role assumption) and moves later credential refreshes off the loop;
    # every call below is awaited on that client. Imports are local to keep this section self-contained.

    def async_client(self) -> Any:
        """Return an async context manager yielding an aiobotocore ``mwaa-serverless`` client.

        Usage: ``async with hook.async_client() as client: await hook.get_workflow_run_async(client, ...)``.
        The client carries the hook's region, ``verify``, endpoint and botocore config (retries included).
        """
        import contextlib

        @contextlib.asynccontextmanager
        async def _client() -> Any:
            creator = await self.get_async_conn()  # sync parts (connection, STS) run in a worker thread
            async with creator as client:
                self._offload_sync_credential_refresh(client)
                yield client

        return _client()

    @staticmethod
    def _offload_sync_credential_refresh(client: Any) -> None:
        """Run a refreshable credential's sync refresh (STS AssumeRole, web identity) in a thread.

        The amazon hook gives aiobotocore refreshable credentials whose ``refresh_using`` is a sync
        boto3 STS call; aiobotocore would run it on the event loop, blocking every trigger of the
        triggerer while STS answers (apache/airflow#33091 territory). Wrapping it keeps the loop free.
        """
        import asyncio
        import inspect

        credentials: Any = getattr(getattr(client, "_request_signer", None), "_credentials", None)
        refresh = getattr(credentials, "_refresh_using", None)
        if refresh is None or inspect.iscoroutinefunction(refresh):
            return

        async def refresh_in_thread() -> Any:
            return await asyncio.to_thread(refresh)

        credentials._refresh_using = refresh_in_thread

    async def _call_async(self, client: Any, operation: str, **params: Any) -> dict[str, Any]:
        try:
            response = await getattr(client, _snake(operation))(**params)
        except ClientError as err:
            raise translate_client_error(operation, err) from err
        response.pop("ResponseMetadata", None)
        return response

    async def get_workflow_run_async(self, client: Any, workflow_arn: str, run_id: str) -> dict[str, Any]:
        """Async GetWorkflowRun on ``client`` (from :meth:`async_client`)."""
        check_run_id(run_id)
        return await self._call_async(client, "GetWorkflowRun", WorkflowArn=workflow_arn, RunId=run_id)

    async def stop_workflow_run_async(self, client: Any, workflow_arn: str, run_id: str) -> dict[str, Any]:
        """Async StopWorkflowRun on ``client`` (from :meth:`async_client`)."""
        check_run_id(run_id)
        return await self._call_async(client, "StopWorkflowRun", WorkflowArn=workflow_arn, RunId=run_id)

    async def list_task_instances_async(self, client: Any, workflow_arn: str, run_id: str) -> list[dict[str, Any]]:
        """Async ListTaskInstances (all pages) on ``client`` (from :meth:`async_client`)."""
        check_run_id(run_id)
        paginator = client.get_paginator("list_task_instances")
        items: list[dict[str, Any]] = []
        try:
            async for page in paginator.paginate(WorkflowArn=workflow_arn, RunId=run_id):
                items.extend(page.get("TaskInstances", []))
        except ClientError as err:
            raise translate_client_error("ListTaskInstances", err) from err
        return items

    # -- end of async calls (triggers) ---------------------------------------------------------------


def translate_client_error(operation: str, err: ClientError) -> MwaaServerlessApiError:
    """Turn a botocore ClientError into our exception, keeping code, message and request id."""
    error = err.response.get("Error", {})
    code = str(error.get("Code", "Unknown"))
    message = str(error.get("Message", "")) or str(err)
    request_id = err.response.get("ResponseMetadata", {}).get("RequestId")
    hint = NON_RETRYABLE_HINTS.get(code)
    if hint is not None:
        return NonRetryableApiError(operation, code, message, request_id, hint.format(action=operation))
    return MwaaServerlessApiError(operation, code, message, request_id)


def _snake(operation: str) -> str:
    """``StartWorkflowRun`` -> ``start_workflow_run`` (boto3's method naming)."""
    from botocore import xform_name

    return xform_name(operation)


__all__ = ["InvalidParameterError", "MwaaServerlessHook", "translate_client_error"]
