"""Wait for an MWAA Serverless workflow run on the triggerer, without holding a worker slot."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_mwaas.errors import InvalidParameterError, MwaaServerlessApiError
from airflow_provider_mwaas.hooks.aws_params import DEFAULT_CONN_ID, MwaaServerlessHookMixin
from airflow_provider_mwaas.params.validation import (
    DEFAULT_EVENTS_SAFETY_INTERVAL,
    check_positive_int,
    check_queue_url,
    check_run_id,
)
from airflow_provider_mwaas.service.error_kinds import (  # noqa: F401  (re-exported names)
    EXPIRED_CREDENTIAL_CODES,
    MAX_BACKOFF_FACTOR,
    MAX_CONSECUTIVE_TRANSIENT_FAILURES,
    error_codes_by_kind,
)
from airflow_provider_mwaas.triggers.run_wait import RunWaitMixin, WaitState, botocore_errors
from airflow_provider_mwaas.triggers.shared_clients import client_pool
from airflow_provider_mwaas.triggers.trigger_events import check_target_states
from airflow_provider_mwaas.watch.run_watch import RunWatch

#: on_kill work in flight (see :meth:`WorkflowRunCompletedTrigger.on_kill`): a strong reference until done.
_ON_KILL_WORK: set[asyncio.Future[None]] = set()


class WorkflowRunCompletedTrigger(RunWaitMixin, MwaaServerlessHookMixin, BaseTrigger):
    """Wait with aiobotocore until the run ends, then yield ONE event.

    Every trigger of the triggerer's event loop with the same connection parameters shares one client
    (:mod:`~airflow_provider_mwaas.triggers.shared_clients`). With ``coalesce=True`` (the default) the
    triggers waiting on runs of one workflow with the same ``waiter_delay`` share one ListWorkflowRuns
    poll per interval, with a GetWorkflowRun fallback for runs the listing did not show
    (:mod:`~airflow_provider_mwaas.triggers.coalescing`); task-instance progress is then read when the
    run changes state after the trigger first saw it. ``coalesce=False`` polls GetWorkflowRun (and
    progress) per run per interval.

    The event's schema is documented in :mod:`airflow_provider_mwaas.triggers.trigger_events`; read it with
    :func:`~airflow_provider_mwaas.triggers.trigger_events.handle_workflow_run_event`.

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
    :param events_queue_url: an SQS queue receiving the MWAA Serverless EventBridge events: an event naming
        the workflow or the run makes the shared poller look at once (:mod:`.event_wake`,
        docs/event-woken-waits.md). Needs ``coalesce=True``. ``None``: polling alone.
    :param events_safety_interval: seconds between the safety-net polls while the events queue is readable
        (default :data:`DEFAULT_EVENTS_SAFETY_INTERVAL`); while it is not, the wait polls every ``waiter_delay``.
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
        events_queue_url: str | None = None,
        events_safety_interval: int = DEFAULT_EVENTS_SAFETY_INTERVAL,
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
        self.events_queue_url = check_queue_url("events_queue_url", events_queue_url)
        self.events_safety_interval = check_positive_int("events_safety_interval", events_safety_interval)
        if self.events_queue_url is not None and not self.coalesce:
            raise InvalidParameterError(
                "coalesce", coalesce, "True when events_queue_url is set (events wake the shared poller)"
            )
        self._init_aws_params(aws_conn_id, region_name, verify, botocore_config)
        self._ended = False  # set once the run is seen in a terminal state: nothing left to stop

    @property
    def log(self) -> Any:
        """One logger for the class, not one per trigger: Airflow's ``LoggingMixin`` builds one per instance,
        seven objects under Airflow 3's structlog that every full collection walks (70,000 at 10,000
        waits). The triggerer routes each line to its trigger's log by context, not by logger."""
        cls = type(self)
        if "_log" not in cls.__dict__:  # LoggingMixin.logger() caches on the class: this class's, not a parent's
            cls._log = None
        return cls.logger()

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
                "events_queue_url": self.events_queue_url,
                "events_safety_interval": self.events_safety_interval,
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
        seen = WaitState(RunWatch(self.workflow_arn, self.run_id, self.success_states, self.failure_states))
        pool = client_pool()
        shared = await pool.acquire(self.hook_params, self._make_hook)
        try:
            try:
                await shared.client()  # built off the loop; a bad connection ends this wait (only) here
            except Exception as err:  # connection lookup, role assumption, endpoint, anything
                return self._client_error_event(shared, err)
            try:
                if self.coalesce:
                    return await self._wait_coalesced(shared, seen)
                return await self._wait_polling(shared, seen)
            except (MwaaServerlessApiError, OSError, botocore_errors()) as err:
                return self._error_event(seen.state, err)
        finally:
            await pool.release(shared)

    def _make_hook(self) -> Any:
        """A hook for this trigger's parameters (only the first trigger of a shared client builds one)."""
        from airflow_provider_mwaas.hooks.mwaa_serverless import MwaaServerlessHook

        return MwaaServerlessHook.from_params(**self.hook_params)

    async def on_kill(self) -> None:
        """Stop the run when a user kills/fails/clears the deferred task (Airflow >= 3.3 only).

        Airflow 3.3 also calls this for a trigger another triggerer took over (this one's heartbeat was
        late): the run is left alone when a try of the task still waits on it
        (:func:`~airflow_provider_mwaas.triggers.kill_cause.still_waited_on`). Errors are logged, not raised.
        """
        if not self.stop_on_kill or self._ended:
            return
        # Airflow 3.3's triggerer cancels the trigger's task again on every loop (about 1 s) until it ends,
        # and each cancel lands in whatever on_kill awaits: shield the work so it finishes (the triggerer
        # swallows the CancelledError and moves on; the shielded task keeps a reference until done).
        work = asyncio.ensure_future(self._stop_unless_moved())
        _ON_KILL_WORK.add(work)
        work.add_done_callback(_ON_KILL_WORK.discard)
        await asyncio.shield(work)

    async def _stop_unless_moved(self) -> None:
        from airflow_provider_mwaas.triggers.kill_cause import still_waited_on

        if await still_waited_on(self, self.run_id):
            self.log.info(
                "Trigger cancelled here, but the task is still deferred on workflow run %s (the trigger moved to "
                "another triggerer): leaving the run alone",
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
