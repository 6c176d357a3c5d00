"""The fleet test's DAG (test-only): N mapped StartWorkflowRunOperator tasks waiting deferred.

``MWAAS_FLEET_CONFIG`` (JSON, set by ``tests/fleet/harness.py`` for every Airflow component) gives the
workflow ARN, the number of map indexes and the ``waiter_delay``.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from typing import Any

from airflow.sdk import DAG

from airflow_provider_mwaas.operators.mwaa_serverless import StartWorkflowRunOperator

CONFIG: dict[str, Any] = json.loads(os.environ.get("MWAAS_FLEET_CONFIG") or "{}")

with DAG(
    dag_id="mwaas_fleet",
    schedule=None,
    start_date=datetime(2025, 1, 1),
    catchup=False,
    max_active_tasks=1024,
    tags=["test-only"],
) as dag:
    if CONFIG:
        StartWorkflowRunOperator.partial(
            task_id="deferred",
            workflow_arn=CONFIG["arn"],
            aws_conn_id="mwaa_serverless_default",
            deferrable=True,
            waiter_delay=CONFIG["waiter_delay"],
            waiter_max_attempts=1000,
            max_active_tis_per_dag=1024,
        ).expand(override_parameters=[{"index": i} for i in range(int(CONFIG["waits"]))])
