"""Wait for an MWAA Serverless workflow run to reach a state, by poking or deferred on the triggerer."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_provider_mwaas.errors import WorkflowRunFailedError, WorkflowRunWaitTimeoutError
from airflow_provider_mwaas.hooks.aws_params import DEFAULT_CONN_ID, MwaaServerlessHookMixin, aws_template_fields
from airflow_provider_mwaas.links.mwaa_serverless import WorkflowRunLink
from airflow_provider_mwaas.openlineage.mixin import OpenLineageMixin, watched_state
from airflow_provider_mwaas.params.validation import DEFAULT_EVENTS_SAFETY_INTERVAL, check_events, check_positive_int
from airflow_provider_mwaas.triggers.trigger_events import check_target_states, handle_workflow_run_event
from airflow_provider_mwaas.version_compat import AirflowSensorTimeout, BaseSensorOperator, conf
from airflow_provider_mwaas.watch.run_watch import RunWatch

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

DEFAULT_WAITER_DELAY = 60
DEFAULT_WAITER_MAX_ATTEMPTS = 720


class WorkflowRunSensor(OpenLineageMixin, MwaaServerlessHookMixin, BaseSensorOperator):
    """Wait until a workflow run reaches one of ``success_states``; fail on ``failure_states``.

    The wait lasts at most ``waiter_delay * waiter_max_attempts`` seconds in both modes (the sensor's
    ``timeout``; ``poke_interval`` is ``waiter_delay``); running out raises ``AirflowSensorTimeout`` in
    both modes, so ``soft_fail=True`` skips the task. ``execution_timeout`` bounds the wait in both modes
    too (``AirflowTaskTimeout``, retried per ``retries``); the sensor never stops the run it watches.
    A failure lists the failed task instances. With the openlineage provider installed, its events carry
    the run's facets (see README, "OpenLineage").

    :param workflow_arn: the workflow's ARN. (templated)
    :param run_id: the run to watch. (templated)
    :param success_states: run states that end the wait successfully (default ``{"SUCCESS"}``).
    :param failure_states: run states that fail the task (default FAILED, TIMEOUT, STOPPED). A terminal
        state outside ``success_states`` fails the task too, since it can never change.
    :param deferrable: wait on the triggerer instead of holding a worker slot (default: the
        ``[operators] default_deferrable`` setting).
    :param waiter_delay: seconds between polls (default: ``poke_interval`` if given, else 60).
    :param waiter_max_attempts: polls before giving up (default: ``timeout / waiter_delay`` if a
        ``timeout`` is given, else 720).
    :param poke_interval: Airflow's name for the poll interval; seeds ``waiter_delay`` (also from
        ``default_args``).
    :param timeout: Airflow's sensor timeout; seeds ``waiter_max_attempts`` (also from ``default_args``).
    :param events_queue_url: an SQS queue receiving the service's EventBridge events: a deferred wait is
        woken by an event naming its run and polls only every ``events_safety_interval`` seconds (see
        docs/event-woken-waits.md). Poke mode ignores it and pokes every ``waiter_delay``. (templated)
    :param events_safety_interval: seconds between safety-net polls of an event-woken wait (default 300).
    :param aws_conn_id: the Airflow AWS connection. (templated)
    :param region_name: AWS region, overriding the connection's. (templated)
    :param verify: TLS verification, overriding the connection's. (templated)
    :param botocore_config: ``botocore.config.Config`` arguments. (templated)
    """

    template_fields: Sequence[str] = aws_template_fields("workflow_arn", "run_id", "events_queue_url")
    ui_color = "#ff9900"
    operator_extra_links = (WorkflowRunLink(),)

    def __init__(
        self,
        *,
        workflow_arn: str,
        run_id: str,
        success_states: Iterable[str] | None = None,
        failure_states: Iterable[str] | None = None,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        events_queue_url: str | None = None,
        events_safety_interval: int = DEFAULT_EVENTS_SAFETY_INTERVAL,
        waiter_delay: int | None = None,
        waiter_max_attempts: int | None = None,
        poke_interval: timedelta | float | None = None,
        timeout: timedelta | float | None = None,
        aws_conn_id: str | None = DEFAULT_CONN_ID,
        region_name: str | None = None,
        verify: bool | str | None = None,
        botocore_config: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        success, failure = check_target_states(success_states, failure_states)
        # BaseSensorOperator's poke_interval/timeout are derived from the waiter settings so that both
        # modes wait equally long; values given the Airflow way seed them. They are parameters of this
        # signature (not read from **kwargs) so that Airflow fills them from default_args.
        if waiter_delay is None:
            waiter_delay = int(_seconds(poke_interval)) if poke_interval is not None else DEFAULT_WAITER_DELAY
        delay = check_positive_int("waiter_delay", waiter_delay)
        if waiter_max_attempts is None:
            waiter_max_attempts = (
                max(1, math.ceil(_seconds(timeout) / delay)) if timeout is not None else DEFAULT_WAITER_MAX_ATTEMPTS
            )
        attempts = check_positive_int("waiter_max_attempts", waiter_max_attempts)
        super().__init__(poke_interval=delay, timeout=delay * attempts, **kwargs)
        self.workflow_arn = workflow_arn
        self.run_id = run_id
        self.success_states = success
        self.failure_states = failure
        self.deferrable = deferrable
        self.waiter_delay = delay
        self.waiter_max_attempts = attempts
        self.events_queue_url, self.events_safety_interval = events_queue_url, events_safety_interval
        self._init_aws_params(aws_conn_id, region_name, verify, botocore_config)
        self._event_state: str | None = None  # the state a trigger event reported (OpenLineage facets)

    def execute(self, context: Context) -> Any:
        """Poke until done, or defer to the trigger at once in deferrable mode."""
        events = check_events(self.events_queue_url, self.events_safety_interval, self.deferrable, self.log)
        WorkflowRunLink.persist(context, self.workflow_arn, self.run_id)
        if not self.deferrable:
            return super().execute(context)
        from airflow_provider_mwaas.triggers.mwaa_serverless import WorkflowRunCompletedTrigger
        from airflow_provider_mwaas.watch.deadlines import wait_deadlines

        deadlines = wait_deadlines(self, context, self.waiter_delay, self.waiter_max_attempts)
        self.defer(
            trigger=WorkflowRunCompletedTrigger(
                workflow_arn=self.workflow_arn,
                run_id=self.run_id,
                waiter_delay=self.waiter_delay,
                waiter_max_attempts=self.waiter_max_attempts,
                deadline=deadlines.deadline,
                execution_deadline=deadlines.execution_deadline,
                stop_on_kill=False,  # the sensor watches a run it did not start: never stop it
                success_states=sorted(self.success_states),
                failure_states=sorted(self.failure_states),
                **events,
                **self.hook_params,
            ),
            method_name="execute_complete",
            timeout=deadlines.defer_timeout,
        )

    def _lineage_run(self) -> tuple[str | None, str | None]:
        """The run watched and the last state a poke or the trigger saw (OpenLineage facets)."""
        return self.run_id, self._event_state or watched_state(self.__dict__.get("_watch"))  # once a poke built it

    @cached_property
    def _watch(self) -> RunWatch:
        """What the pokes of this try have seen (built at the first poke, after templates are rendered)."""
        return RunWatch(self.workflow_arn, self.run_id, self.success_states, self.failure_states)

    def poke(self, context: Context) -> bool:
        """Return True in a success state; raise with diagnostics in a failure state; log progress."""
        self.hook.poll_workflow_run(self._watch, self.log.info)
        if self._watch.failure is not None:
            self.log.error("%s", self._watch.failure.description)
            raise WorkflowRunFailedError(self._watch.failure.description)
        return self._watch.verdict == "success"

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> str:
        """Resume after the trigger: return the final state or raise what the event reports.

        A wait that outlived the sensor's timeout raises ``AirflowSensorTimeout``, as in poke mode, so
        ``soft_fail=True`` skips the task.
        """
        self._event_state = event.get("state") if isinstance(event, dict) else None
        try:
            return handle_workflow_run_event(event, run_id=self.run_id, workflow_arn=self.workflow_arn, log=self.log)
        except WorkflowRunWaitTimeoutError as err:
            raise AirflowSensorTimeout(str(err)) from err


def _seconds(value: Any) -> float:
    """Seconds in a ``timeout`` given as a number or a ``timedelta``."""
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
