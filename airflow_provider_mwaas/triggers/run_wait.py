"""How :class:`~.mwaa_serverless.WorkflowRunCompletedTrigger` waits: the coalesced and the polling loop,
backoff on failed polls, and the watch flow (:class:`~airflow_provider_mwaas.watch.run_watch.RunWatch`) on
each state seen, ending in one event.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_mwaas.errors import MwaaServerlessApiError, NonRetryableApiError
from airflow_provider_mwaas.service import error_kinds
from airflow_provider_mwaas.service.error_kinds import error_codes_by_kind
from airflow_provider_mwaas.service.run_states import TERMINAL_STATES
from airflow_provider_mwaas.triggers.coalescing import unwatch, watch
from airflow_provider_mwaas.triggers.event_wake import EventsConfig
from airflow_provider_mwaas.triggers.events import RunEventsMixin
from airflow_provider_mwaas.triggers.shared_clients import SharedClient
from airflow_provider_mwaas.triggers.watcher import Watcher
from airflow_provider_mwaas.watch.diagnostics import run_state
from airflow_provider_mwaas.watch.run_watch import RunWatch


@dataclass
class WaitState:
    """What one wait has seen so far: the shared watch flow, plus the trigger's polling state."""

    watch: RunWatch
    progress_state: str | None = None  # the state whose task progress was last read
    factor: int = 1
    transient_failures: int = 0
    announced: bool = False  # the "Waiting for workflow run" line was logged
    budget: Watcher | None = None  # rations progress reads (through the poller) when coalesced

    @property
    def state(self) -> str:
        return self.watch.state

    def may_read_progress(self) -> bool:
        """Whether a progress line may spend a ListTaskInstances now (always when not coalesced)."""
        return self.budget is None or self.budget.may_read_progress()

    def spend_diagnostic_read(self) -> None:
        """A failed run's task instances are read (always): fewer progress reads left for the others."""
        if self.budget is not None:
            self.budget.spend_diagnostic_read()


class RunWaitMixin(RunEventsMixin):
    """The trigger's wait loops, ending in the events :class:`~.events.RunEventsMixin` builds."""

    if TYPE_CHECKING:
        workflow_arn: str
        run_id: str
        waiter_delay: int
        waiter_max_attempts: int
        deadline: float
        execution_deadline: float | None
        stop_on_kill: bool
        coalesce: bool
        events_queue_url: str | None
        events_safety_interval: int
        _ended: bool
        log: Any

        @property
        def ends_at(self) -> float: ...

    async def _wait_coalesced(self, shared: SharedClient, seen: WaitState) -> dict[str, Any]:
        """Take this run's result from the workflow's shared poller after each of its polls."""
        events = None
        if self.events_queue_url is not None:
            events = EventsConfig(self.events_queue_url, self.events_safety_interval)
        watcher = watch(shared, self.workflow_arn, self.run_id, self.waiter_delay, events, self.ends_at)
        try:
            seen.budget = watcher
            while True:
                if self.ends_at - time.time() <= 0:
                    return await self._timeout_event(shared, seen.state)
                result = await watcher.next()
                if result is None:  # woken at the deadline
                    continue
                if result.error is not None:
                    event = self._on_failed_poll(seen, result.error, result.operation, result.next_poll_in)
                else:
                    seen.transient_failures = 0
                    event = await self._on_state(shared, seen, str(result.state), result.run)
                if event is not None:
                    return event
        finally:
            unwatch(watcher)

    async def _wait_polling(self, shared: SharedClient, seen: WaitState) -> dict[str, Any]:
        """GetWorkflowRun for this run alone every ``waiter_delay`` seconds (longer while backing off)."""
        while True:
            run: dict[str, Any] | None = None
            try:
                run = await self._call(shared, shared.hook.get_workflow_run_async)
            except (MwaaServerlessApiError, OSError, botocore_errors()) as err:
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

    def _on_failed_poll(
        self, seen: WaitState, err: BaseException, operation: str, next_poll_in: float
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
        self, shared: SharedClient, seen: WaitState, state: str, run: dict[str, Any] | None
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
                seen.spend_diagnostic_read()
                tis = await self._task_instances(shared, "warning")
            elif not first_sight and watch_.wants_task_instances(state) and seen.may_read_progress():
                tis = await self._task_instances(shared, "debug")
            self._log_progress(seen, watch_.progress(state, tis))
        if state in TERMINAL_STATES:
            self._ended = True
        if watch_.verdict == "success":
            return self._event("success", state, f"Workflow run {self.run_id} ended: {state}")
        if failed:
            if tis is None:
                seen.spend_diagnostic_read()
                tis = await self._task_instances(shared, "warning")
            return await self._failure_event(shared, watch_, run, tis)
        return None

    def _log_progress(self, seen: WaitState, line: str | None) -> None:
        """Log a progress line; the first one announces the wait ("Waiting for workflow run ...: STATE")."""
        if line is None:
            return
        if seen.announced:
            self.log.info("%s", line)
            return
        seen.announced = True
        schedule = f"poll every {self.waiter_delay}s"
        if self.events_queue_url is not None:
            schedule = f"woken by events from {self.events_queue_url}, safety poll every {self.events_safety_interval}s"
        self.log.info(
            "Waiting for workflow run %s of %s (%s, deadline in %.0fs): %s",
            self.run_id,
            self.workflow_arn,
            schedule,
            self.ends_at - time.time(),
            line.partition(": ")[2],
        )

    async def _call(self, shared: SharedClient, method: Any) -> Any:
        """``method(client, workflow_arn, run_id)`` on the shared client (refused credentials rebuild it)."""
        return await shared.call(method, self.workflow_arn, self.run_id)

    async def _task_instances(self, shared: SharedClient, level: str) -> list[dict[str, Any]] | None:
        """The run's task instances, or ``None`` (logged at ``level``) when they could not be listed."""
        try:
            tis: list[dict[str, Any]] = await self._call(shared, shared.hook.list_task_instances_async)
        except (MwaaServerlessApiError, OSError, botocore_errors()) as err:
            getattr(self.log, level)("Workflow run %s: could not list task instances (%s)", self.run_id, err)
            return None
        return tis

    async def _failure_event(
        self, shared: SharedClient, watch_: RunWatch, run: dict[str, Any] | None, tis: list[dict[str, Any]] | None
    ) -> dict[str, Any]:
        if run is None:  # the state came from the listing, which has no ErrorMessage
            try:
                run = await self._call(shared, shared.hook.get_workflow_run_async)
            except (MwaaServerlessApiError, OSError, botocore_errors()) as err:
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
            except (MwaaServerlessApiError, OSError, botocore_errors()) as err:
                self.log.exception("Could not stop workflow run %s; it may still be running", self.run_id)
                outcome = f"stopping the run failed ({err}); it may still be running"
        return self._event("timeout", state, f"execution_timeout reached: {outcome}.", timeout_kind="execution_timeout")


def botocore_errors() -> type[Exception]:
    """botocore's own failures (dropped connections, read timeouts) after its retries."""
    from botocore.exceptions import BotoCoreError

    return BotoCoreError
