"""DAGs for tests/e2e/test_task_lifecycle_e2e.py: one StartWorkflowRunOperator waiting deferred, one on
the worker. Each DAG run says through its conf which workflow to run and how the tries behave:

- ``workflow_arn``: the emulator workflow of the test;
- ``vary``: render ``{"try": "<try number>"}`` as override parameters (else ``{"try": "0"}`` every try);
- ``first_try_attempts``: ``waiter_max_attempts`` of try 1 (later tries: 120);
- ``crash_after_success`` (deferred DAG): the process resuming try 1 from the trigger dies before it
  records anything, as Airflow 3.3.2's scheduler race leaves a try that deferred on a run that then
  succeeded (docs/guarantees.md). A test-only subclass; nothing in the product.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import DAG

from airflow_provider_mwaas.operators.mwaa_serverless import StartWorkflowRunOperator


class CrashOnResumeOperator(StartWorkflowRunOperator):
    """Dies while resuming try 1 when the DAG run's conf asks for it (a crash at an exact point)."""

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None, run_id: str | None = None) -> str:
        conf = context["dag_run"].conf or {}
        if conf.get("crash_after_success") and context["ti"].try_number == 1:
            os._exit(17)
        return super().execute_complete(context, event=event, run_id=run_id)


COMMON: dict[str, Any] = {
    "task_id": "start",
    "aws_conn_id": "mwaa_serverless_default",
    "workflow_arn": "{{ dag_run.conf['workflow_arn'] }}",
    "override_parameters": '{"try": "{{ ti.try_number if dag_run.conf.get(\'vary\') else 0 }}"}',
    "waiter_delay": 1,
    "waiter_max_attempts": "{{ dag_run.conf.get('first_try_attempts', 120) if ti.try_number == 1 else 120 }}",
}
DEFAULT_ARGS = {"retries": 2, "retry_delay": timedelta(seconds=2)}

for dag_id, deferrable in (("mwaas_lifecycle_deferred", True), ("mwaas_lifecycle_worker", False)):
    with DAG(
        dag_id,
        schedule=None,
        start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
        default_args=DEFAULT_ARGS,
        is_paused_upon_creation=False,
        render_template_as_native_obj=False,
    ) as dag:
        operator = CrashOnResumeOperator if deferrable else StartWorkflowRunOperator
        operator(deferrable=deferrable, **COMMON)
    globals()[dag_id] = dag
