"""Start an Amazon MWAA Serverless workflow run, wait for it without holding a worker, then report.

Runs against the local emulator by default (the README's ``./scripts/demo`` sets it up) and against
AWS by changing only the connection:

- Connection ``mwaa_serverless_default``: for the emulator, an ``aws`` (or ``mwaa_serverless``)
  connection whose extra holds ``{"region_name": "us-east-1", "endpoint_url": "http://127.0.0.1:PORT"}``;
  for AWS, drop ``endpoint_url`` and give real credentials or a role (``role_arn``).
- Variable ``mwaas_workflow_arn``: the workflow to run.
- Variable ``mwaas_waiter_delay`` (optional, default 5): seconds between status checks.

Whether the wait is deferred to the triggerer follows ``[operators] default_deferrable``.
Retries are safe: the operator derives its ClientToken from the DAG run, so a retry re-attaches to a
run that is still in flight instead of starting a second one.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.providers.common.compat.sdk import DAG, task  # airflow.sdk on Airflow 3; 2.11: classic

from airflow_provider_mwaas.operators.mwaa_serverless import StartWorkflowRunOperator

#: The day the run was asked for: ``run_after`` on Airflow 3 (a manual run has no logical date),
#: ``execution_date`` on Airflow 2.11.
RUN_DATE = "{{ (dag_run.run_after if dag_run.run_after is defined else dag_run.execution_date) | ds }}"

with DAG(
    dag_id="example_mwaa_serverless",
    schedule=None,
    start_date=pendulum.datetime(2025, 11, 17, tz="UTC"),
    catchup=False,
    tags=["example", "mwaa-serverless"],
    default_args={"retries": 2, "retry_delay": timedelta(seconds=10)},
) as dag:
    start_workflow_run = StartWorkflowRunOperator(
        task_id="start_workflow_run",
        aws_conn_id="mwaa_serverless_default",
        workflow_arn="{{ var.value.mwaas_workflow_arn }}",
        override_parameters={"run_date": RUN_DATE, "triggered_by": "{{ dag.dag_id }}"},
        waiter_delay="{{ var.value.get('mwaas_waiter_delay', 5) }}",
        waiter_max_attempts=120,
    )

    @task
    def report(workflow_run_id: str, ti=None) -> dict:  # type: ignore[no-untyped-def]
        """Print what the run did; downstream tasks can use the same XComs."""
        status = ti.xcom_pull(task_ids="start_workflow_run", key="status")
        workflow_arn = ti.xcom_pull(task_ids="start_workflow_run", key="workflow_arn")
        print(f"MWAA Serverless run {workflow_run_id} of {workflow_arn} finished: {status}")
        return {"run_id": workflow_run_id, "status": status}

    report(start_workflow_run.output)
