"""The soak's DAG (test-only): mapped StartWorkflowRunOperator tasks in every mode the soak measures.

Configured by the JSON in ``MWAAS_SOAK_CONFIG`` (set by ``tests/soak/harness.py`` for every Airflow
component): the workflow ARNs and how many map indexes each task gets. Tasks, per DAG run:

* ``deferred``: waits in the triggerer (the triggerer is restarted while most are deferred, their runs
  held RUNNING by the emulator until then; some are cleared while they wait);
* ``worker_wait``: waits on the worker, on a workflow of its own (some are cleared while they wait);
* ``crash``: :class:`CrashAfterStartOperator` kills its own task process right after StartWorkflowRun
  returned, before the task recorded anything, on try 1; try 2 must re-attach to that run;
* ``failing``: the workflow's runs all fail; each try starts its own run (a new token generation)
  and the task ends ``failed``.

The crash hook exists only in this file and only fires when ``MWAAS_SOAK_CRASH=1``.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG

from airflow_provider_mwaas.operators.mwaa_serverless import StartWorkflowRunOperator

CONFIG: dict[str, Any] = json.loads(os.environ.get("MWAAS_SOAK_CONFIG") or "{}")
#: Exit status of a deliberately crashed task process (anything non-zero would do).
CRASH_EXIT_CODE = 17


class CrashAfterStartOperator(StartWorkflowRunOperator):
    """Test-only: on try 1, ``os._exit`` right after StartWorkflowRun returned (a worker crash)."""

    def execute(self, context: Any) -> str:
        self._soak_try_number = int(context["ti"].try_number)
        return super().execute(context)

    def _start(self, token: str, override_parameters: dict[str, Any] | None) -> dict[str, Any]:
        response = super()._start(token, override_parameters)
        if os.environ.get("MWAAS_SOAK_CRASH") == "1" and getattr(self, "_soak_try_number", 1) == 1:
            print(f"MWAAS SOAK CRASH: exiting after StartWorkflowRun returned {response['RunId']}", file=sys.stderr)
            sys.stderr.flush()
            os._exit(CRASH_EXIT_CODE)
        return response


def _indexes(kind: str) -> list[dict[str, Any]]:
    return [{"soak_kind": kind, "index": i} for i in range(int(CONFIG.get(kind, 0)))]


common: dict[str, Any] = {
    "aws_conn_id": "mwaa_serverless_default",
    "waiter_delay": 1,
    "waiter_max_attempts": 600,
}

with DAG(
    dag_id="mwaas_soak",
    schedule=None,
    start_date=datetime(2025, 1, 1),
    catchup=False,
    max_active_runs=16,
    max_active_tasks=64,
    default_args={"retries": 3, "retry_delay": timedelta(seconds=1)},
    tags=["test-only"],
) as dag:
    if CONFIG:
        StartWorkflowRunOperator.partial(
            task_id="deferred", workflow_arn=CONFIG["arn_ok"], deferrable=True, **common
        ).expand(override_parameters=_indexes("deferred"))
        StartWorkflowRunOperator.partial(
            task_id="worker_wait", workflow_arn=CONFIG.get("arn_worker", CONFIG["arn_ok"]), deferrable=False, **common
        ).expand(override_parameters=_indexes("worker_wait"))
        CrashAfterStartOperator.partial(
            task_id="crash", workflow_arn=CONFIG["arn_crash"], deferrable=True, **common
        ).expand(override_parameters=_indexes("crash"))
        StartWorkflowRunOperator.partial(
            task_id="failing", workflow_arn=CONFIG["arn_fail"], deferrable=True, retries=1, **common
        ).expand(override_parameters=_indexes("failing"))
