"""Secret-hygiene DAG (test-only): override parameters rendered from Variables, waited on both ways.

Every secret comes from a Variable whose name Airflow does not consider sensitive, except
``mwaas_planted_secret``, which Airflow itself masks when the template reads it. The provider must mask
the values under ``api_token`` (Airflow's key rule), ``billing_ref`` (``[core] sensitive_var_conn_names``,
set by the test) and ``customer`` (``sensitive_override_keys``), and leave ``run_date``, ``workflow`` and
``note`` readable. ``on_execute_callback`` logs the rendered parameters (as a user's own code might) so
the test can read in the task log what the masker hides.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime
from typing import Any

from airflow.sdk import DAG

from airflow_provider_mwaas.operators.mwaa_serverless import StartWorkflowRunOperator

READABLE_NOTE = "ReadableNote-3c4d5e6f"

OVERRIDES = {
    "run_date": "{{ ds }}",
    "workflow": os.environ.get("MWAAS_SECRET_ARN_WORKER", ""),
    "note": READABLE_NOTE,
    "api_token": "{{ var.value.mwaas_planted_a }}",
    "billing_ref": "{{ var.value.mwaas_planted_b }}",
    "customer": {"ref": "{{ var.value.mwaas_planted_c }}", "tags": ["{{ var.value.mwaas_planted_c }}"]},
    "target": "{{ var.value.mwaas_planted_secret }}",
}


def log_rendered_overrides(context: Any) -> None:
    logging.getLogger(__name__).info("Rendered override_parameters: %s", context["task"].override_parameters)


with DAG(dag_id="mwaas_secret_hygiene", schedule=None, start_date=datetime(2025, 1, 1), catchup=False) as dag:
    StartWorkflowRunOperator(
        task_id="worker_wait",
        workflow_arn=os.environ.get("MWAAS_SECRET_ARN_WORKER", ""),
        override_parameters=OVERRIDES,
        sensitive_override_keys=["customer"],
        aws_conn_id="mwaa_serverless_default",
        deferrable=False,
        waiter_delay=1,
        on_execute_callback=log_rendered_overrides,
    )
    StartWorkflowRunOperator(
        task_id="deferred",
        workflow_arn=os.environ.get("MWAAS_SECRET_ARN_DEFERRED", ""),
        # the JSON-string form of override_parameters, and templated sensitive_override_keys
        override_parameters='{"run_date": "{{ ds }}", "note": "' + READABLE_NOTE + '", '
        '"api_token": "{{ var.value.mwaas_planted_a }}", "customer": "{{ var.value.mwaas_planted_c }}", '
        '"target": "{{ var.value.mwaas_planted_secret }}"}',
        sensitive_override_keys='{{ ["customer"] | tojson }}',
        aws_conn_id="mwaa_serverless_default",
        deferrable=True,
        waiter_delay=1,
        on_execute_callback=log_rendered_overrides,
    )
