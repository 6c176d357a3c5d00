"""How :class:`~.mwaa_serverless.StartWorkflowRunOperator` waits for the run it started or re-attached to:
on the worker, or deferred to the triggerer and resumed in ``execute_complete``; and the run stopped when
the task is killed while waiting on the worker (``stop_on_kill``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_mwaas.service.run_states import SUCCESS_STATES
from airflow_provider_mwaas.version_compat import AIRFLOW_VERSION, DEFERRED_ON_KILL_SUPPORTED

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_mwaas.hooks.mwaa_serverless import MwaaServerlessHook
    from airflow_provider_mwaas.watch.run_watch import RunWatch


class StartWaitMixin:
    """:class:`~airflow_provider_mwaas.operators.mwaa_serverless.StartWorkflowRunOperator`'s wait for its run."""

    if TYPE_CHECKING:
        hook: MwaaServerlessHook
        hook_params: dict[str, Any]
        log: Any
        workflow_arn: str
        workflow_version: str | None
        wait_for_completion: bool
        deferrable: bool
        stop_on_kill: bool
        _events: dict[str, Any]
        _run_id: str | None
        _run_state: str | None
        _run_watch: RunWatch | None
        _executed_version: str | None
        defer: Any  # BaseOperator.defer

        def _add_asset_event_extra(
            self, context: Context, run_id: str, state: str, workflow_version: str | None
        ) -> None: ...

    def _wait_for_run(
        self,
        context: Context,
        run_id: str,
        run: dict[str, Any] | None,
        state: str,
        waiter_delay: int,
        waiter_max_attempts: int,
    ) -> str:
        """Adopt an earlier try's successful run, return at once (``wait_for_completion=False``), defer, or
        wait on the worker; return the run id, or raise when the run failed.

        :param run: the run as GetWorkflowRun returned it when an earlier try's run was taken over, else ``None``.
        :param state: the run's state when started or taken over.
        """
        from airflow_provider_mwaas.watch.run_watch import RunWatch

        watch = self._run_watch = RunWatch(self.workflow_arn, run_id)
        if run is not None and state in SUCCESS_STATES:
            watch.progress(state, None)
            return self._finish(context, run_id, run, watch)  # an earlier try's run succeeded: adopt it
        if not self.wait_for_completion:
            context["ti"].xcom_push(key="status", value=state)
            self._add_asset_event_extra(context, run_id, state, self.workflow_version)
            return run_id
        if self.deferrable:
            self._defer(context, run_id, waiter_delay, waiter_max_attempts)
        run = self.hook.wait_for_workflow_run(
            self.workflow_arn,
            run_id,
            waiter_delay=waiter_delay,
            waiter_max_attempts=waiter_max_attempts,
            log=self.log.info,
            watch=watch,
        )
        return self._finish(context, run_id, run, watch)

    def _defer(self, context: Context, run_id: str, waiter_delay: int, waiter_max_attempts: int) -> None:
        from airflow_provider_mwaas.triggers.mwaa_serverless import WorkflowRunCompletedTrigger
        from airflow_provider_mwaas.watch.deadlines import wait_deadlines

        deadlines = wait_deadlines(self, context, waiter_delay, waiter_max_attempts)
        if self.stop_on_kill and not DEFERRED_ON_KILL_SUPPORTED:
            self.log.warning(
                "stop_on_kill applies only while waiting on a worker on Airflow %s: killing, failing or "
                "clearing this task while it is deferred will not stop workflow run %s (needs Airflow >= 3.3)",
                AIRFLOW_VERSION,
                run_id,
            )
        self.defer(
            trigger=WorkflowRunCompletedTrigger(
                workflow_arn=self.workflow_arn,
                run_id=run_id,
                waiter_delay=waiter_delay,
                waiter_max_attempts=waiter_max_attempts,
                deadline=deadlines.deadline,
                execution_deadline=deadlines.execution_deadline,
                stop_on_kill=self.stop_on_kill,
                **self._events,  # event-woken wait (checked in execute, before StartWorkflowRun)
                **self.hook_params,
            ),
            method_name="execute_complete",
            kwargs={"run_id": run_id},
            timeout=deadlines.defer_timeout,
        )

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None, run_id: str | None = None) -> str:
        """Resume after the trigger: succeed on SUCCESS, otherwise fail with the run's diagnostics.

        :param run_id: the run this task deferred on (passed by :meth:`defer`), checked against the event.
        """
        from airflow_provider_mwaas.triggers.trigger_events import handle_workflow_run_event

        if run_id is None:  # deferred by an older release that did not pass it
            run_id = str((event or {}).get("run_id"))
        self._run_id, self._run_state = run_id, event.get("state") if isinstance(event, dict) else None
        state = handle_workflow_run_event(event, run_id=run_id, workflow_arn=self.workflow_arn, log=self.log)
        context["ti"].xcom_push(key="status", value=state)
        self._add_asset_event_extra(context, run_id, state, None)
        return run_id

    def _finish(self, context: Context, run_id: str, run: dict[str, Any], watch: RunWatch) -> str:
        self._executed_version = run.get("WorkflowVersion")
        context["ti"].xcom_push(key="status", value=watch.state)
        if watch.failure is not None:
            from airflow_provider_mwaas.errors import WorkflowRunFailedError

            self.log.error("%s", watch.failure.description)
            raise WorkflowRunFailedError(watch.failure.description)
        self.log.info("Workflow run %s succeeded", run_id)
        self._add_asset_event_extra(context, run_id, watch.state, run.get("WorkflowVersion"))
        return run_id

    def on_kill(self) -> None:
        """Stop the run when the task is killed while waiting on the worker (``stop_on_kill``)."""
        if not (self.stop_on_kill and self._run_id):
            return
        from airflow_provider_mwaas.hooks.base import ON_KILL_CONFIG

        self.log.info("Task killed: stopping workflow run %s", self._run_id)
        try:
            # Airflow SIGKILLs the task 5 s after SIGTERM: a few short attempts, not the default retries.
            response = self.hook.with_config(ON_KILL_CONFIG).stop_workflow_run(self.workflow_arn, self._run_id)
            self.log.info("Workflow run %s is now %s", self._run_id, response.get("Status"))
        except Exception:
            self.log.exception("Could not stop workflow run %s; it may still be running", self._run_id)
