"""Wait for an MWAA Serverless workflow run on the triggerer, without holding a worker slot."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable
from functools import lru_cache
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_mwaas.utils.aws_params import DEFAULT_CONN_ID, MwaaServerlessHookMixin
from airflow_provider_mwaas.utils.diagnostics import (
    failed_task_instances,
    progress_line,
    run_error_message,
    run_state,
)
from airflow_provider_mwaas.utils.errors import MwaaServerlessApiError, NonRetryableApiError
from airflow_provider_mwaas.utils.run_states import TERMINAL_STATES
from airflow_provider_mwaas.utils.trigger_events import check_target_states, workflow_run_event
from airflow_provider_mwaas.utils.validation import check_positive_int, check_run_id

#: States in which the run has no task instances yet: progress is not worth a ListTaskInstances call.
_NOT_STARTED_STATES = frozenset({"STARTING", "QUEUED"})
#: A wait's sleep grows (x2 per consecutive transient failure) up to this multiple of waiter_delay.
MAX_BACKOFF_FACTOR = 8
#: Consecutive transient failures (5xx, timeouts, dropped connections, each already retried by botocore)
#: after which the wait ends with an "error" event. Throttling never ends the wait.
MAX_CONSECUTIVE_TRANSIENT_FAILURES = 5


@lru_cache(maxsize=1)
def _error_codes_by_kind() -> tuple[frozenset[str], frozenset[str]]:
    """(throttling codes, other transient codes), read from the service model's ``retryable`` traits."""
    from airflow_provider_mwaas.utils.service_model import service_model

    throttling, transient = {"Throttling", "TooManyRequestsException"}, {"OperationTimeoutException"}
    for shape in service_model().error_shapes:
        retryable = shape.metadata.get("retryable")
        if retryable is not None:
            (throttling if retryable.get("throttling") else transient).add(shape.name)
    return frozenset(throttling), frozenset(transient)


class WorkflowRunCompletedTrigger(MwaaServerlessHookMixin, BaseTrigger):
    """Poll GetWorkflowRun with aiobotocore until the run ends, then yield ONE event.

    The event's schema is documented in :mod:`airflow_provider_mwaas.utils.trigger_events`; read it with
    :func:`~airflow_provider_mwaas.utils.trigger_events.handle_workflow_run_event`.

    :param workflow_arn: the workflow's ARN.
    :param run_id: the run to wait for.
    :param waiter_delay: seconds between polls.
    :param waiter_max_attempts: polls allowed; the wait lasts ``waiter_delay * waiter_max_attempts``
        seconds, as in non-deferrable mode.
    :param deadline: epoch seconds at which the wait gives up. Set once, when the task defers, and
        serialised, so a trigger recreated after a triggerer restart keeps the same deadline.
        ``None`` computes ``now + waiter_delay * waiter_max_attempts``.
    :param stop_on_kill: stop the run (StopWorkflowRun) when a user kills, fails or clears the deferred
        task (Airflow >= 3.3 calls ``on_kill`` for those actions only, never on a triggerer restart).
    :param success_states: run states that end the wait with ``status="success"`` (default SUCCESS).
    :param failure_states: run states that end it with ``status="failure"``; a terminal state not in
        ``success_states`` is a failure too, since it can never change.
    :param aws_conn_id: the Airflow AWS connection; ``None`` uses boto3's default credential chain.
    :param region_name: AWS region, overriding the connection's.
    :param verify: TLS verification (``False`` or a CA bundle path), overriding the connection's.
    :param botocore_config: ``botocore.config.Config`` arguments (retries, timeouts).
    """

    def __init__(
        self,
        *,
        workflow_arn: str,
        run_id: str,
        waiter_delay: int = 60,
        waiter_max_attempts: int = 720,
        deadline: float | None = None,
        stop_on_kill: bool = True,
        success_states: Iterable[str] | None = None,
        failure_states: Iterable[str] | None = None,
        aws_conn_id: str | None = DEFAULT_CONN_ID,
        region_name: str | None = None,
        verify: bool | str | None = None,
        botocore_config: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        check_run_id(run_id)
        self.workflow_arn = workflow_arn
        self.run_id = run_id
        self.waiter_delay = check_positive_int("waiter_delay", waiter_delay)
        self.waiter_max_attempts = check_positive_int("waiter_max_attempts", waiter_max_attempts)
        self.deadline = float(deadline) if deadline is not None else time.time() + self.wait_window
        self.stop_on_kill = bool(stop_on_kill)
        self.success_states, self.failure_states = check_target_states(success_states, failure_states)
        self._init_aws_params(aws_conn_id, region_name, verify, botocore_config)
        self._ended = False  # set once the run is seen in a terminal state: nothing left to stop

    @property
    def wait_window(self) -> int:
        """The whole wait in seconds: ``waiter_delay * waiter_max_attempts``."""
        return self.waiter_delay * self.waiter_max_attempts

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Everything needed to rebuild this trigger; no credentials (the connection id only)."""
        return (
            f"{self.__class__.__module__}.{self.__class__.__qualname__}",
            {
                "workflow_arn": self.workflow_arn,
                "run_id": self.run_id,
                "waiter_delay": self.waiter_delay,
                "waiter_max_attempts": self.waiter_max_attempts,
                "deadline": self.deadline,
                "stop_on_kill": self.stop_on_kill,
                "success_states": sorted(self.success_states),
                "failure_states": sorted(self.failure_states),
                **self.hook_params,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll until a success/failure state, the deadline, or an error; yield one event."""
        event = await self._wait()
        self.log.info("Workflow run %s: wait ended with status %s", self.run_id, event["status"])
        yield TriggerEvent(event)

    async def _wait(self) -> dict[str, Any]:
        throttling_codes, transient_codes = _error_codes_by_kind()
        state, last_line, factor, transient_failures = "UNKNOWN", None, 1, 0
        self.log.info(
            "Waiting for workflow run %s of %s (poll every %ss, deadline in %.0fs)",
            self.run_id,
            self.workflow_arn,
            self.waiter_delay,
            self.deadline - time.time(),
        )
        try:
            async with self.hook.async_client() as client:
                while True:
                    try:
                        run = await self.hook.get_workflow_run_async(client, self.workflow_arn, self.run_id)
                    except (MwaaServerlessApiError, OSError, _botocore_errors()) as err:
                        code = getattr(err, "code", type(err).__name__)
                        if isinstance(err, NonRetryableApiError) or (
                            isinstance(err, MwaaServerlessApiError) and code not in throttling_codes | transient_codes
                        ):
                            return self._error_event(state, err)
                        if code not in throttling_codes:
                            transient_failures += 1
                            if transient_failures >= MAX_CONSECUTIVE_TRANSIENT_FAILURES:
                                return self._error_event(state, err)
                        factor = min(factor * 2, MAX_BACKOFF_FACTOR)
                        self.log.warning(
                            "Workflow run %s: GetWorkflowRun failed (%s), still waiting; next poll in %ss",
                            self.run_id,
                            err,
                            self.waiter_delay * factor,
                        )
                    else:
                        factor, transient_failures = 1, 0
                        state = run_state(run)
                        line = await self._progress(client, state)
                        if line != last_line:
                            self.log.info("Workflow run %s: %s", self.run_id, line)
                            last_line = line
                        if state in TERMINAL_STATES:
                            self._ended = True
                        if state in self.success_states:
                            return self._event("success", state, f"Workflow run {self.run_id} ended: {state}")
                        if state in self.failure_states or state in TERMINAL_STATES:
                            return await self._failure_event(client, run, state)
                    remaining = self.deadline - time.time()
                    if remaining <= 0:
                        return self._event(
                            "timeout",
                            state,
                            f"Deadline reached (waiter_delay {self.waiter_delay}s x waiter_max_attempts "
                            f"{self.waiter_max_attempts}).",
                        )
                    await asyncio.sleep(min(self.waiter_delay * factor, remaining))
        except (MwaaServerlessApiError, OSError, _botocore_errors()) as err:
            # building the client failed (connection lookup, role assumption, bad endpoint)
            return self._error_event(state, err)

    async def _progress(self, client: Any, state: str) -> str:
        if state in _NOT_STARTED_STATES:
            return progress_line(state, None)
        try:
            tis = await self.hook.list_task_instances_async(client, self.workflow_arn, self.run_id)
        except (MwaaServerlessApiError, OSError, _botocore_errors()) as err:
            self.log.debug("Workflow run %s: no task-instance progress (%s)", self.run_id, err)
            return progress_line(state, None)
        return progress_line(state, tis)

    async def _failure_event(self, client: Any, run: dict[str, Any], state: str) -> dict[str, Any]:
        try:
            tis = await self.hook.list_task_instances_async(client, self.workflow_arn, self.run_id)
        except (MwaaServerlessApiError, OSError, _botocore_errors()) as err:
            self.log.warning("Workflow run %s: could not list task instances (%s)", self.run_id, err)
            tis = []
        return self._event("failure", state, run_error_message(run), failed=failed_task_instances(tis))

    def _event(
        self,
        status: str,
        state: str,
        message: str | None,
        *,
        failed: list[dict[str, Any]] | None = None,
        error: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        return workflow_run_event(
            status,
            self.workflow_arn,
            self.run_id,
            state,
            message,
            failed_task_instances=failed,
            waited_seconds=time.time() - (self.deadline - self.wait_window),
            error=error,
        )

    def _error_event(self, state: str, err: BaseException) -> dict[str, Any]:
        if isinstance(err, MwaaServerlessApiError):
            error = {
                "operation": err.operation,
                "code": err.code,
                "message": str(err),
                "request_id": err.request_id,
                "retryable": not isinstance(err, NonRetryableApiError),
            }
        else:
            error = {
                "operation": "GetWorkflowRun",
                "code": type(err).__name__,
                "message": str(err),
                "request_id": None,
                "retryable": True,
            }
        self.log.error("Workflow run %s: giving up the wait: %s", self.run_id, err)
        return self._event("error", state, str(err), error=error)

    async def on_kill(self) -> None:
        """Stop the run when a user kills/fails/clears the deferred task (Airflow >= 3.3 only).

        The triggerer calls this only for a user action, never when it restarts or hands the trigger
        to another triggerer, so a restart never stops a run. Errors are logged, not raised.
        """
        if not self.stop_on_kill or self._ended:
            return
        self.log.info("Task killed by a user: stopping workflow run %s of %s", self.run_id, self.workflow_arn)
        try:
            async with self.hook.async_client() as client:
                response = await self.hook.stop_workflow_run_async(client, self.workflow_arn, self.run_id)
        except Exception:
            self.log.exception("Could not stop workflow run %s; it may still be running", self.run_id)
            return
        self.log.info("Workflow run %s: StopWorkflowRun answered %s", self.run_id, response.get("Status"))


def _botocore_errors() -> type[Exception]:
    """botocore's own failures (dropped connections, read timeouts) after its retries."""
    from botocore.exceptions import BotoCoreError

    return BotoCoreError
