"""The operator that stops an Amazon MWAA Serverless workflow run.

Public path: :mod:`airflow_provider_mwaas.operators.mwaa_serverless` (re-exported there).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_mwaas.hooks.aws_params import aws_template_fields
from airflow_provider_mwaas.operators.base import MwaaServerlessBaseOperator
from airflow_provider_mwaas.params.validation import check_positive_int, check_start_request
from airflow_provider_mwaas.service.run_states import TERMINAL_STATES
from airflow_provider_mwaas.watch.diagnostics import run_state

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context


class StopWorkflowRunOperator(MwaaServerlessBaseOperator):
    """Stop an MWAA Serverless workflow run (a no-op for a run that already ended).

    :param workflow_arn: ARN of the workflow. (templated)
    :param run_id: the run to stop, e.g. ``{{ ti.xcom_pull('start') }}``. (templated)
    :param wait_for_completion: wait until the run reaches a terminal state.
    :param waiter_delay: seconds between polls.
    :param waiter_max_attempts: polls before giving up.
    """

    template_fields: Sequence[str] = aws_template_fields("workflow_arn", "run_id")

    def __init__(
        self,
        *,
        workflow_arn: str,
        run_id: str,
        wait_for_completion: bool = True,
        waiter_delay: int = 10,
        waiter_max_attempts: int = 60,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.workflow_arn, self.run_id = workflow_arn, run_id
        self.wait_for_completion = wait_for_completion
        self.waiter_delay, self.waiter_max_attempts = waiter_delay, waiter_max_attempts

    def execute(self, context: Context) -> str:
        from airflow_provider_mwaas.params.validation import check_run_id

        check_start_request(self.workflow_arn, None, None, None)
        check_run_id(self.run_id)
        state = run_state(self.hook.get_workflow_run(self.workflow_arn, self.run_id))
        if state in TERMINAL_STATES:
            self.log.info("Workflow run %s already ended in %s: nothing to stop", self.run_id, state)
            return state
        state = str(self.hook.stop_workflow_run(self.workflow_arn, self.run_id).get("Status", state))
        self.log.info("Asked to stop workflow run %s: %s", self.run_id, state)
        if self.wait_for_completion:
            run = self.hook.wait_for_workflow_run(
                self.workflow_arn,
                self.run_id,
                waiter_delay=check_positive_int("waiter_delay", self.waiter_delay, minimum=0),
                waiter_max_attempts=check_positive_int("waiter_max_attempts", self.waiter_max_attempts),
                log=self.log.info,
            )
            state = run_state(run)
        return state
