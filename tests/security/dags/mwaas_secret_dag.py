"""Secret-hygiene DAG (test-only): override parameters rendered from a Variable, waited on both ways."""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_mwaas.operators.mwaa_serverless import StartWorkflowRunOperator

# A non-sensitive key name on purpose: Airflow would mask a "password" key by its name alone; the
# provider must mask override parameter values whatever they are called.
OVERRIDES = {"target": "{{ var.value.mwaas_planted }}", "day": "{{ run_id }}"}

with DAG(dag_id="mwaas_secret_hygiene", schedule=None, start_date=datetime(2025, 1, 1), catchup=False) as dag:
    StartWorkflowRunOperator(
        task_id="worker_wait",
        workflow_arn=os.environ.get("MWAAS_SECRET_ARN_WORKER", ""),
        override_parameters=OVERRIDES,
        aws_conn_id="mwaa_serverless_default",
        deferrable=False,
        waiter_delay=1,
    )
    StartWorkflowRunOperator(
        task_id="deferred",
        workflow_arn=os.environ.get("MWAAS_SECRET_ARN_DEFERRED", ""),
        # the JSON-string form of override_parameters
        override_parameters='{"target": "{{ var.value.mwaas_planted }}", "note": "deferred"}',
        aws_conn_id="mwaa_serverless_default",
        deferrable=True,
        waiter_delay=1,
    )
