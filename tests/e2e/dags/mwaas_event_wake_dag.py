"""The event-woken waits e2e's DAG (test-only): N mapped StartWorkflowRunOperator tasks waiting deferred,
woken by events from an SQS queue.

``MWAAS_EVENT_WAKE_CONFIG`` (JSON, set by ``tests/e2e/event_wake_harness.py`` for every component) gives
the number of map indexes, ``waiter_delay`` and ``events_safety_interval``; each DAG run's conf gives the
workflow ARN and the queue URL (templated), so each phase of the run has its own workflow and queue.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from typing import Any

from airflow.sdk import DAG

from airflow_provider_mwaas.operators.mwaa_serverless import StartWorkflowRunOperator

CONFIG: dict[str, Any] = json.loads(os.environ.get("MWAAS_EVENT_WAKE_CONFIG") or "{}")

with DAG(
    dag_id="mwaas_event_wake",
    schedule=None,
    start_date=datetime(2025, 1, 1),
    catchup=False,
    max_active_tasks=1024,
    tags=["test-only"],
) as dag:
    if CONFIG:
        StartWorkflowRunOperator.partial(
            task_id="deferred",
            workflow_arn="{{ dag_run.conf['workflow_arn'] }}",
            events_queue_url="{{ dag_run.conf['queue_url'] }}",
            events_safety_interval=CONFIG["safety_interval"],
            aws_conn_id="mwaa_serverless_default",
            deferrable=True,
            waiter_delay=CONFIG["waiter_delay"],
            waiter_max_attempts=1000,
            max_active_tis_per_dag=1024,
        ).expand(override_parameters=[{"index": i} for i in range(int(CONFIG["waits"]))])
