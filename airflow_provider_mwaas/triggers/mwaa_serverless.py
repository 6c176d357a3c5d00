"""Wait for an MWAA Serverless workflow run on the triggerer, without holding a worker slot."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_mwaas.triggers.coalescing import watch
from airflow_provider_mwaas.triggers.events import RunEventsMixin
from airflow_provider_mwaas.triggers.kill_check import task_left_deferred
from airflow_provider_mwaas.triggers.shared_clients import SharedClient, client_pool
from airflow_provider_mwaas.utils import error_kinds
from airflow_provider_mwaas.utils.aws_params import DEFAULT_CONN_ID, MwaaServerlessHookMixin
from airflow_provider_mwaas.utils.diagnostics import run_state
from airflow_provider_mwaas.utils.error_kinds import (  # noqa: F401  (re-exported names)
    EXPIRED_CREDENTIAL_CODES,
    MAX_BACKOFF_FACTOR,
    MAX_CONSECUTIVE_TRANSIENT_FAILURES,
    error_codes_by_kind,
)
from airflow_provider_mwaas.utils.errors import MwaaServerlessApiError, NonRetryableApiError
from airflow_provider_mwaas.utils.run_states import TERMINAL_STATES
from airflow_provider_mwaas.utils.run_watch import RunWatch
from airflow_provider_mwaas.utils.trigger_events import check_target_states
from airflow_provider_mwaas.utils.validation import check_positive_int, check_run_id


@dataclass
class _WaitState:
    """What one wait has seen so far: the shared watch flow, plus the trigger's polling state."""

    watch: RunWatch
    progress_state: str | None = None  # the state whose task progress was last read
    factor: int = 1
    transient_failures: int = 0
    announced: bool = False  # the "Waiting for workflow run" line was logged
    may_read_progress: Callable[[], bool] = lambda: True  # a budget for progress reads (the poller's when coalesced)

    @property
    def state(self) -> str:
        return self.watch.state


class WorkflowRunCompletedTrigger(RunEventsMixin, MwaaServerlessHookMixin, BaseTrigger):
    """Wait with aiobotocore until the run ends, then yield ONE event.

    Every trigger of the triggerer's event loop with the same connection parameters shares one client
    (:mod:`~airflow_provider_mwaas.triggers.shared_clients`). With ``coalesce=True`` (the default) the
    triggers waiting on runs of one workflow with the same ``waiter_delay`` share one ListWorkflowRuns
    poll per interval, with a GetWorkflowRun fallback for runs the listing did not show
    (:mod:`~airflow_provider_mwaas.triggers.coalescing`); task-instance progress is then read when the
    run changes state after the trigger first saw it. ``coalesce=False`` polls GetWorkflowRun (and
    progress) per run per interval.

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
    :param execution_deadline: epoch seconds at which the task's ``execution_timeout`` ends (its try's
        start plus ``execution_timeout``), or ``None``. The wait ends at the earlier of this and
        ``deadline``; at this one the run is stopped first when ``stop_on_kill`` (as the worker's
        ``on_kill`` does when ``execution_timeout`` interrupts a wait there), and the event's
        ``timeout_kind`` is ``"execution_timeout"``.
    :param stop_on_kill: stop the run (StopWorkflowRun) when a user kills, fails or clears the deferred
        task (Airflow >= 3.3 calls ``on_kill`` for those actions only, never on a triggerer restart), and
        at ``execution_deadline``.
    :param success_states: run states that end the wait with ``status="success"`` (default SUCCESS).
    :param failure_states: run states that end it with ``status="failure"``; a terminal state not in
        ``success_states`` is a failure too, since it can never change.
    :param coalesce: share one ListWorkflowRuns poll with the other triggers on the same workflow.
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
        execution_deadline: float | None = None,
        stop_on_kill: bool = True,
        success_states: Iterable[str] | None = None,
        failure_states: Iterable[str] | None = None,
        coalesce: bool = True,
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
        self.execution_deadline = float(execution_deadline) if execution_deadline is not None else None
        self.stop_on_kill = bool(stop_on_kill)
        self.success_states, self.failure_states = check_target_states(success_states, failure_states)
        self.coalesce = bool(coalesce)
        self._init_aws_params(aws_conn_id, region_name, verify, botocore_config)
        self._ended = False  # set once the run is seen in a terminal state: nothing left to stop

    @property
    def wait_window(self) -> int:
        """The whole wait in seconds: ``waiter_delay * waiter_max_attempts``."""
        return self.waiter_delay * self.waiter_max_attempts

    @property
    def wait_began(self) -> float:
        """Epoch seconds at which the wait began (the deferral), kept across triggerer restarts."""
        return self.deadline - self.wait_window

    @property
    def ends_at(self) -> float:
        """Epoch seconds at which the wait ends: the earlier of ``deadline`` and ``execution_deadline``."""
        return min(self.deadline, self.execution_deadline or self.deadline)

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
                "execution_deadline": self.execution_deadline,
                "stop_on_kill": self.stop_on_kill,
                "success_states": sorted(self.success_states),
                "failure_states": sorted(self.failure_states),
                "coalesce": self.coalesce,
                **self.hook_params,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll until a success/failure state, the deadline, or an error; yield one event."""
        event = await self._wait()
        self.log.info("Workflow run %s: wait ended with status %s", self.run_id, event["status"])
        yield TriggerEvent(event)

    async def _wait(self) -> dict[str, Any]:
        # the wait is announced with the run's first state (one line, not two: at 10,000 triggers
        # started together each log line costs the triggerer's loop seconds)
        seen = _WaitState(RunWatch(self.workflow_arn, self.run_id, self.success_states, self.failure_states))
        async with client_pool().lease(self.hook_params, self._make_hook) as shared:
            try:
                await shared.client()  # built off the loop; a bad connection ends this wait (only) here
            except Exception as err:  # connection lookup, role assumption, endpoint, anything
                return self._client_error_event(shared, err)
            try:
                if self.coalesce:
                    return await self._wait_coalesced(shared, seen)
                return await self._wait_polling(shared, seen)
            except (MwaaServerlessApiError, OSError, _botocore_errors()) as err:
                return self._error_event(seen.state, err)

    async def _wait_coalesced(self, shared: SharedClient, seen: _WaitState) -> dict[str, Any]:
        """Take this run's result from the workflow's shared poller after each of its polls."""
        async with watch(shared, self.workflow_arn, self.run_id, self.waiter_delay) as watcher:
            seen.may_read_progress = watcher.may_read_progress
            while True:
                remaining = self.ends_at - time.time()
                result = await watcher.next(remaining) if remaining > 0 else None
                if result is None:
                    return await self._timeout_event(shared, seen.state)
                if result.error is not None:
                    event = self._on_failed_poll(seen, result.error, result.operation, result.next_poll_in)
                else:
                    seen.transient_failures = 0
                    event = await self._on_state(shared, seen, str(result.state), result.run)
                if event is not None:
                    return event

    async def _wait_polling(self, shared: SharedClient, seen: _WaitState) -> dict[str, Any]:
        """GetWorkflowRun for this run alone every ``waiter_delay`` seconds (longer while backing off)."""
        while True:
            run: dict[str, Any] | None = None
            try:
                run = await self._call(shared, shared.hook.get_workflow_run_async)
            except (MwaaServerlessApiError, OSError, _botocore_errors()) as err:
                seen.factor = min(seen.factor * 2, error_kinds.MAX_BACKOFF_FACTOR)
                event = self._on_failed_poll(seen, err, "GetWorkflowRun", self.waiter_delay * seen.factor)
            else:
                seen.factor, seen.transient_failures = 1, 0
                seen.progress_state = None  # progress on every poll, as this path always did
                event = await self._on_state(shared, seen, run_state(run), run)
            if event is not None:
                return event
            remaining = self.ends_at - time.time()
            if remaining <= 0:
                return await self._timeout_event(shared, seen.state)
            await asyncio.sleep(min(self.waiter_delay * seen.factor, remaining))

    def _make_hook(self) -> Any:
        """A hook for this trigger's parameters (only the first trigger of a shared client builds one)."""
        from airflow_provider_mwaas.hooks.mwaa_serverless import MwaaServerlessHook

        return MwaaServerlessHook.from_params(**self.hook_params)

    def _on_failed_poll(
        self, seen: _WaitState, err: BaseException, operation: str, next_poll_in: float
    ) -> dict[str, Any] | None:
        """An error event when ``err`` ends the wait; else log it and keep waiting (``None``)."""
        throttling_codes, transient_codes = error_codes_by_kind()
        code = getattr(err, "code", type(err).__name__)
        if isinstance(err, NonRetryableApiError) or (
            isinstance(err, MwaaServerlessApiError) and code not in throttling_codes | transient_codes
        ):
            return self._error_event(seen.state, err, operation)
        if code not in throttling_codes:
            seen.transient_failures += 1
            if seen.transient_failures >= error_kinds.MAX_CONSECUTIVE_TRANSIENT_FAILURES:
                return self._error_event(seen.state, err, operation)
        self.log.warning(
            "Workflow run %s: %s failed (%s), still waiting; next poll in %ss",
            self.run_id,
            operation,
            err,
            round(next_poll_in, 1),
        )
        return None

    async def _on_state(
        self, shared: SharedClient, seen: _WaitState, state: str, run: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        """The watch flow: progress when the state changed; the final event when it ends the wait, else ``None``."""
        watch_ = seen.watch
        watch_.state = state
        failed = watch_.verdict == "failure"
        tis: list[dict[str, Any]] | None = None
        if state != seen.progress_state:
            # coalesced, the first sight of a run logs its state alone: N triggers (re)started together
            # would otherwise send N ListTaskInstances at once; later changes read progress within the
            # poller's budget (N runs finishing together cost no burst); a failed run's task instances
            # are always read, once, for its diagnostics and its last progress line
            first_sight = seen.progress_state is None and self.coalesce and state not in TERMINAL_STATES
            seen.progress_state = state
            if failed:
                tis = await self._task_instances(shared, "warning")
            elif not first_sight and watch_.wants_task_instances(state) and seen.may_read_progress():
                tis = await self._task_instances(shared, "debug")
            line = watch_.progress(state, tis)
            if line is not None and not seen.announced:
                seen.announced = True
                self.log.info(
                    "Waiting for workflow run %s of %s (poll every %ss, deadline in %.0fs): %s",
                    self.run_id,
                    self.workflow_arn,
                    self.waiter_delay,
                    self.ends_at - time.time(),
                    line.partition(": ")[2],
                )
            elif line is not None:
                self.log.info("%s", line)
        if state in TERMINAL_STATES:
            self._ended = True
        if watch_.verdict == "success":
            return self._event("success", state, f"Workflow run {self.run_id} ended: {state}")
        if failed:
            if tis is None:
                tis = await self._task_instances(shared, "warning")
            return await self._failure_event(shared, watch_, run, tis)
        return None

    async def _call(self, shared: SharedClient, method: Any) -> Any:
        """``method(client, workflow_arn, run_id)`` on the shared client (refused credentials rebuild it)."""
        return await shared.call(method, self.workflow_arn, self.run_id)

    async def _task_instances(self, shared: SharedClient, level: str) -> list[dict[str, Any]] | None:
        """The run's task instances, or ``None`` (logged at ``level``) when they could not be listed."""
        try:
            tis: list[dict[str, Any]] = await self._call(shared, shared.hook.list_task_instances_async)
        except (MwaaServerlessApiError, OSError, _botocore_errors()) as err:
            getattr(self.log, level)("Workflow run %s: could not list task instances (%s)", self.run_id, err)
            return None
        return tis

    async def _failure_event(
        self, shared: SharedClient, watch_: RunWatch, run: dict[str, Any] | None, tis: list[dict[str, Any]] | None
    ) -> dict[str, Any]:
        if run is None:  # the state came from the listing, which has no ErrorMessage
            try:
                run = await self._call(shared, shared.hook.get_workflow_run_async)
            except (MwaaServerlessApiError, OSError, _botocore_errors()) as err:
                self.log.warning("Workflow run %s: could not read its error message (%s)", self.run_id, err)
        failure = watch_.fail(run or {}, tis or [])
        return self._event("failure", failure.state, failure.error_message, failed=failure.failed_task_instances)

    async def _timeout_event(self, shared: SharedClient, state: str) -> dict[str, Any]:
        if self.execution_deadline is None or self.deadline <= self.execution_deadline:
            return self._event(
                "timeout",
                state,
                f"Deadline reached (waiter_delay {self.waiter_delay}s x waiter_max_attempts "
                f"{self.waiter_max_attempts}).",
                timeout_kind="wait",
            )
        outcome = "the run was left running"
        if self.stop_on_kill and not self._ended:
            self.log.info("Workflow run %s: execution_timeout reached, stopping the run", self.run_id)
            try:
                response = await self._call(shared, shared.hook.stop_workflow_run_async)
                outcome = f"the run was stopped (StopWorkflowRun answered {response.get('Status')})"
            except (MwaaServerlessApiError, OSError, _botocore_errors()) as err:
                self.log.exception("Could not stop workflow run %s; it may still be running", self.run_id)
                outcome = f"stopping the run failed ({err}); it may still be running"
        return self._event("timeout", state, f"execution_timeout reached: {outcome}.", timeout_kind="execution_timeout")

    async def on_kill(self) -> None:
        """Stop the run when a user kills/fails/clears the deferred task (Airflow >= 3.3 only).

        The triggerer calls this for a user action, and (Airflow 3.3) also when another triggerer took
        the trigger over; the run is stopped only when the task instance left ``deferred``
        (:mod:`~.kill_check`), so neither a restart nor a move stops a run. Errors are logged, not raised.
        """
        if not self.stop_on_kill or self._ended:
            return
        if not await task_left_deferred(self):
            self.log.info(
                "Trigger moved to another triggerer (the task is still deferred): workflow run %s left running",
                self.run_id,
            )
            return
        from airflow_provider_mwaas.hooks.base import ON_KILL_CONFIG

        self.log.info("Task killed by a user: stopping workflow run %s of %s", self.run_id, self.workflow_arn)
        try:
            # Within [triggerer] on_kill_timeout: a few short attempts, not the default retries. The hook
            # reads its connection when built: in a thread, since a sync lookup on the triggerer's event
            # loop deadlocks it (Airflow 3's supervisor answers through that same loop).
            hook = await asyncio.to_thread(self.hook.with_config, ON_KILL_CONFIG)
            async with hook.async_client() as client:
                response = await hook.stop_workflow_run_async(client, self.workflow_arn, self.run_id)
        except Exception:
            self.log.exception("Could not stop workflow run %s; it may still be running", self.run_id)
            return
        self.log.info("Workflow run %s: StopWorkflowRun answered %s", self.run_id, response.get("Status"))


def _botocore_errors() -> type[Exception]:
    """botocore's own failures (dropped connections, read timeouts) after its retries."""
    from botocore.exceptions import BotoCoreError

    return BotoCoreError
