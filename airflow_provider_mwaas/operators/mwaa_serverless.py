"""Operators that start and stop Amazon MWAA Serverless workflow runs.

Importing this module is cheap: no boto3, botocore or amazon hook module is imported until a task runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_mwaas.hooks.aws_params import aws_template_fields
from airflow_provider_mwaas.links.mwaa_serverless import WorkflowRunLink
from airflow_provider_mwaas.openlineage.mixin import OpenLineageMixin, inject_parent_info_default, watched_state
from airflow_provider_mwaas.operators.asset_events import AssetEventsMixin
from airflow_provider_mwaas.operators.base import MwaaServerlessBaseOperator
from airflow_provider_mwaas.operators.client_token import attempt_of
from airflow_provider_mwaas.operators.start_wait import StartWaitMixin
from airflow_provider_mwaas.operators.stop_workflow_run import StopWorkflowRunOperator  # the public path of both
from airflow_provider_mwaas.operators.token_rule import CONFLICT, MAX_EXTRA_GENERATIONS, TokenRuleMixin
from airflow_provider_mwaas.params.masking import check_sensitive_override_keys, mask_override_parameters
from airflow_provider_mwaas.params.validation import (
    DEFAULT_EVENTS_SAFETY_INTERVAL,
    check_arn_region,
    check_events,
    check_positive_int,
    check_start_request,
)
from airflow_provider_mwaas.version_compat import conf

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_mwaas.watch.run_watch import RunWatch


def _default_deferrable() -> bool:
    return conf.getboolean("operators", "default_deferrable", fallback=False)


class StartWorkflowRunOperator(
    OpenLineageMixin, TokenRuleMixin, StartWaitMixin, AssetEventsMixin, MwaaServerlessBaseOperator
):
    """Start an MWAA Serverless workflow run exactly once per task try-generation, and wait for it.

    The ClientToken is derived from (dag_id, task_id, run_id, map_index), so a retry whose earlier run
    is still in flight re-attaches to it instead of starting another; after a terminal run, the next
    try starts a fresh run (see README, "The token rule"). How it waits (on the worker, or deferred and
    resumed in ``execute_complete``) is :class:`~airflow_provider_mwaas.operators.start_wait.StartWaitMixin`'s;
    the asset event extras are :class:`~airflow_provider_mwaas.operators.asset_events.AssetEventsMixin`'s.

    AWS connection parameters (``aws_conn_id``, ``region_name``, ``verify``, ``botocore_config``, all
    templated) are :class:`~airflow_provider_mwaas.operators.base.MwaaServerlessBaseOperator`'s.

    :param workflow_arn: ARN of the workflow to run. (templated)
    :param workflow_version: version to run; the latest when ``None``. (templated)
    :param override_parameters: parameters for this run: a dict, or a string holding a JSON object.
        Never logged, stored in XCom or put in trigger kwargs by the provider. Values under a key Airflow
        considers sensitive (``api_token``, ``password``, ``[core] sensitive_var_conn_names``...) or named
        in ``sensitive_override_keys`` are masked; the others stay readable. (templated)
    :param sensitive_override_keys: more override-parameter keys whose values are masked (exact names, at
        any depth; every string under them); a list, or a string holding a JSON array. (templated)
    :param client_token: explicit idempotency token; replaces the derived one, and every try then
        returns the same run. (templated)
    :param wait_for_completion: wait until the run ends; when ``False`` the task ends once the run
        is started and ``deferrable`` does not apply.
    :param waiter_delay: seconds between polls. (templated: a rendered digit string is accepted)
    :param waiter_max_attempts: polls before giving up; the wait lasts at most
        ``waiter_delay * waiter_max_attempts`` seconds in both modes. (templated)
    :param deferrable: wait in the triggerer instead of on the worker (default
        ``[operators] default_deferrable``).
    :param stop_on_kill: stop the run when the task is killed or marked failed while waiting.
    :param events_queue_url: SQS queue of the service's EventBridge events; an event naming the run wakes a
        deferred wait at once (worker waits ignore it): docs/event-woken-waits.md. (templated)
    :param events_safety_interval: seconds between an event-woken wait's safety-net polls (default 300).
    :param openlineage_inject_parent_info: add this task's OpenLineage identity to the run's
        OverrideParameters under ``openlineage`` (see README, "OpenLineage"); default
        ``[mwaas] openlineage_inject_parent_info`` (off). Needs the ``openlineage`` extra.
    """

    template_fields: Sequence[str] = aws_template_fields(
        "workflow_arn",
        "workflow_version",
        "override_parameters",
        "sensitive_override_keys",
        "client_token",
        "waiter_delay",
        "waiter_max_attempts",
        "events_queue_url",
    )
    template_fields_renderers: ClassVar[dict[str, str]] = {"override_parameters": "json", "botocore_config": "json"}
    operator_extra_links = (WorkflowRunLink(),)

    def __init__(
        self,
        *,
        workflow_arn: str,
        workflow_version: str | None = None,
        override_parameters: dict[str, Any] | str | None = None,
        sensitive_override_keys: Iterable[str] | str | None = None,
        client_token: str | None = None,
        wait_for_completion: bool = True,
        waiter_delay: int | str = 60,
        waiter_max_attempts: int | str = 720,
        deferrable: bool | None = None,
        stop_on_kill: bool = True,
        openlineage_inject_parent_info: bool | None = None,
        events_queue_url: str | None = None,
        events_safety_interval: int | str = DEFAULT_EVENTS_SAFETY_INTERVAL,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        # the run asked for; then how to wait for it
        self.workflow_arn, self.workflow_version, self.client_token = workflow_arn, workflow_version, client_token
        self.override_parameters, self.sensitive_override_keys = override_parameters, sensitive_override_keys
        self.wait_for_completion = wait_for_completion
        self.waiter_delay, self.waiter_max_attempts = waiter_delay, waiter_max_attempts
        self.deferrable = _default_deferrable() if deferrable is None else deferrable
        self.stop_on_kill = stop_on_kill
        self.events_queue_url, self.events_safety_interval = events_queue_url, events_safety_interval
        self.openlineage_inject_parent_info = (
            inject_parent_info_default() if openlineage_inject_parent_info is None else openlineage_inject_parent_info
        )
        self._run_id: str | None = None
        self._run_state: str | None = None  # the run's last known state (OpenLineage facets)
        self._run_watch: RunWatch | None = None
        self._executed_version: str | None = None  # the version the run executed, once read (OpenLineage facets)

    def _do_render_template_fields(
        self, parent: Any, template_fields: Any, context: Context, jinja_env: Any, seen_oids: set[int]
    ) -> None:
        """Render, then mask the sensitive override parameter values at once.

        Airflow stores the rendered fields (``rendered_task_instance_fields``, redacted with the secrets
        masker) and may log them before ``execute`` runs, so masking in ``execute`` would be too late.
        This hook is the one both plain and mapped (unmapped at run time) operators render through.
        Bad ``sensitive_override_keys`` fail here, before the unmasked fields could be stored.
        """
        super()._do_render_template_fields(parent, template_fields, context, jinja_env, seen_oids)
        if parent is self:
            mask_override_parameters(
                self.override_parameters, check_sensitive_override_keys(self.sensitive_override_keys)
            )

    # -- execute -----------------------------------------------------------------------------------

    def execute(self, context: Context) -> str:
        sensitive_keys = check_sensitive_override_keys(self.sensitive_override_keys)
        override_parameters = check_start_request(
            self.workflow_arn, self.workflow_version, self.client_token, self.override_parameters
        )
        mask_override_parameters(override_parameters, sensitive_keys)
        # Everything the trigger needs is checked here, before StartWorkflowRun: a run must never be
        # started by a task that then cannot wait for it.
        deferring = self.deferrable and self.wait_for_completion
        waiter_delay = check_positive_int("waiter_delay", self.waiter_delay, minimum=1 if deferring else 0)
        waiter_max_attempts = check_positive_int("waiter_max_attempts", self.waiter_max_attempts)
        self._events = check_events(self.events_queue_url, self.events_safety_interval, deferring, self.log)
        _ = self.hook.conn_config  # resolve the connection now: an unknown id fails before any request
        check_arn_region(self.workflow_arn, self.hook.conn_region_name)  # cross-region mistakes, before any request
        # The parent run is the try that first uses the token, so that every try sends the same parameters.
        parent_try = 1 if self.client_token is not None else attempt_of(context["ti"]).first_try
        override_parameters = self._with_lineage_parent(
            context, override_parameters, parent_try, self.openlineage_inject_parent_info
        )

        run_id, token, run, state = self._start_or_attach(context, override_parameters)
        self._run_id, self._run_state = run_id, state
        ti = context["ti"]
        ti.xcom_push(key="workflow_arn", value=self.workflow_arn)
        ti.xcom_push(key="client_token", value=token)
        self._persist_link(context, run_id)
        return self._wait_for_run(context, run_id, run, state, waiter_delay, waiter_max_attempts)

    def _lineage_run(self) -> tuple[str | None, str | None]:
        """The run this try started or re-attached to, and its last known state (OpenLineage facets)."""
        return self._run_id, watched_state(self._run_watch) or self._run_state

    def _persist_link(self, context: Context, run_id: str) -> None:
        WorkflowRunLink.persist(context, self.workflow_arn, run_id)


__all__ = ["CONFLICT", "MAX_EXTRA_GENERATIONS", "StartWorkflowRunOperator", "StopWorkflowRunOperator"]
