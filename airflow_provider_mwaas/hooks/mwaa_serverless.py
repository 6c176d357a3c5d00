"""MwaaServerlessHook: the signed MWAA Serverless calls, on the amazon provider's AWS connection machinery."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from airflow_provider_mwaas.errors import InvalidParameterError, WorkflowRunWaitTimeoutError
from airflow_provider_mwaas.hooks.async_calls import AsyncCallsMixin
from airflow_provider_mwaas.hooks.base import DEFAULT_RETRIES, MwaaServerlessBaseHook, translate_client_error
from airflow_provider_mwaas.hooks.connection_test import ConnectionTestMixin
from airflow_provider_mwaas.hooks.events import EventsSetupMixin
from airflow_provider_mwaas.hooks.workflows import WorkflowCallsMixin
from airflow_provider_mwaas.params.validation import check_run_id, check_start_request
from airflow_provider_mwaas.watch.diagnostics import run_error_message, run_state
from airflow_provider_mwaas.watch.run_watch import RunWatch


class MwaaServerlessHook(
    ConnectionTestMixin, WorkflowCallsMixin, EventsSetupMixin, AsyncCallsMixin, MwaaServerlessBaseHook
):
    """Interact with Amazon MWAA Serverless through boto3 (and aiobotocore in triggers).

    Takes the :class:`~airflow.providers.amazon.aws.hooks.base_aws.AwsBaseHook` arguments
    (``aws_conn_id``, ``region_name``, ``verify``, ``config``); ``client_type`` is fixed.
    Throttling and 5xx errors are retried by botocore's retry modes, configurable through the
    connection's ``config_kwargs`` (e.g. ``{"retries": {"mode": "adaptive", "max_attempts": 20}}``).
    Run states (``IN_FLIGHT_STATES``, ``SUCCESS_STATES``, ``FAILURE_STATES``, ``TERMINAL_STATES``) are
    those of :mod:`airflow_provider_mwaas.service.run_states`.
    """

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """The connection form on Airflow < 3.2, which has no declarative custom fields: the standard
        fields as on 3.2+, and the Extra placeholder names the fields to type into the Extra JSON instead.

        Airflow >= 3.2 reads the form from provider info and never calls this.
        """
        import json

        from airflow_provider_mwaas.get_provider_info import UI_FIELD_BEHAVIOUR, get_provider_info

        [conn_type] = get_provider_info()["connection-types"]
        fields = conn_type["conn-fields"]
        fields = {name: "" for name, field in fields.items() if field["schema"].get("format") != "password"}
        example = json.dumps({**fields, "region_name": "us-east-1"})
        behaviour = {**UI_FIELD_BEHAVIOUR, "placeholders": dict(UI_FIELD_BEHAVIOUR["placeholders"])}
        behaviour["placeholders"]["extra"] = f"{example} (Airflow < 3.2 has no form fields for these)"
        return behaviour

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

    # -- runs --------------------------------------------------------------------------------------

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

    # -- waiting on the worker ---------------------------------------------------------------------

    def poll_workflow_run(self, watch: RunWatch, log: Callable[[str], None]) -> dict[str, Any]:
        """One step of the watch flow: GetWorkflowRun, progress (logged when it changed), diagnostics.

        The step the worker wait and the sensor's poke share. When the run failed (``watch.verdict``),
        ``watch.failure`` holds its diagnostics.

        :param watch: what this wait has seen (updated).
        :param log: where progress lines go (e.g. ``self.log.info``).
        :return: the GetWorkflowRun response.
        """
        run = self.get_workflow_run(watch.workflow_arn, watch.run_id)
        state = run_state(run)
        tis = self.list_task_instances(watch.workflow_arn, watch.run_id) if watch.wants_task_instances(state) else None
        line = watch.progress(state, tis)
        if line is not None:
            log(line)
        if watch.verdict == "failure":
            watch.fail(run, tis if tis is not None else self.list_task_instances(watch.workflow_arn, watch.run_id))
        return run

    def wait_for_workflow_run(
        self,
        workflow_arn: str,
        run_id: str,
        *,
        waiter_delay: int,
        waiter_max_attempts: int,
        log: Callable[[str], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        watch: RunWatch | None = None,
    ) -> dict[str, Any]:
        """Poll a run until its wait ends; return the final GetWorkflowRun response.

        Logs each state change and, while running, task-instance progress when it changes.

        :param waiter_delay: seconds from one poll's start to the next.
        :param waiter_max_attempts: polls before giving up; the wait lasts at most
            ``waiter_delay * waiter_max_attempts`` seconds, as in deferrable mode.
        :param log: where progress lines go (e.g. ``self.log.info``).
        :param watch: the success/failure states to wait for; afterwards ``watch.failure`` says why a
            run failed. Default: wait for any terminal state, judging none a failure.
        :raises WorkflowRunWaitTimeoutError: the run was still in flight after the last attempt.
        """
        emit = log or self.log.info
        if watch is None:
            watch = RunWatch(workflow_arn, run_id, success_states=self.TERMINAL_STATES, failure_states=frozenset())
        run: dict[str, Any] = {}
        for attempt in range(1, waiter_max_attempts + 1):
            began = time.monotonic()
            run = self.poll_workflow_run(watch, emit)
            if watch.verdict is not None:
                return run
            if attempt < waiter_max_attempts:
                # fixed rate: a slow poll never pushes the next one later (detection <= waiter_delay)
                sleep(max(0.0, waiter_delay - (time.monotonic() - began)))
        raise WorkflowRunWaitTimeoutError(
            f"Workflow run {run_id} of {workflow_arn} was still {watch.state} after {waiter_max_attempts} "
            f"attempts x {waiter_delay}s = {waiter_max_attempts * waiter_delay}s; the run was left "
            f"running (last error message: {run_error_message(run) or 'none'})"
        )


__all__ = ["DEFAULT_RETRIES", "InvalidParameterError", "MwaaServerlessHook", "translate_client_error"]
