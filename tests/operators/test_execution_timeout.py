"""``execution_timeout`` bounds the wait in both modes, and stops the run the operator started.

On the worker Airflow interrupts ``execute`` and calls ``on_kill`` (StopWorkflowRun). Airflow 3.3 does
not bound a deferral by it, so the trigger carries the deadline (try start + ``execution_timeout``) and
stops the run itself. Real Airflow (``dag.test``, triggers inline) against the emulator over HTTP.
"""

from __future__ import annotations

import itertools
import time
from datetime import timedelta
from typing import Any

import pendulum
import pytest

from airflow_provider_mwaas.operators.mwaa_serverless import StartWorkflowRunOperator
from tests.airflow_runs import run_dag

pytestmark = [pytest.mark.usefixtures("airflow_db"), pytest.mark.timeout(120)]
_dag_ids = itertools.count()


def _dag(workflow_arn: str, **task_kwargs: Any) -> Any:
    from airflow.sdk import DAG

    dag = DAG(
        dag_id=f"test_execution_timeout_{next(_dag_ids)}",
        schedule=None,
        start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
        default_args={"retries": 0},
    )
    with dag:
        StartWorkflowRunOperator(
            task_id="start",
            aws_conn_id="mwaa_serverless_default",
            workflow_arn=workflow_arn,
            waiter_delay=1,
            waiter_max_attempts=60,  # a minute's wait: execution_timeout must end it first
            execution_timeout=timedelta(seconds=4),
            **task_kwargs,
        )
    return dag


@pytest.mark.parametrize("deferrable", [False, True], ids=["worker", "deferred"])
def test_execution_timeout_ends_the_wait_and_stops_the_run_in_both_modes(
    emulator: Any, workflow_arn: str, aws_conn_env: str, capfd: pytest.CaptureFixture[str], deferrable: bool
) -> None:
    emulator.control.hold(workflow_arn=workflow_arn)
    began = time.monotonic()
    outcome = run_dag(_dag(workflow_arn, deferrable=deferrable))
    elapsed = time.monotonic() - began

    assert outcome.task_states["start"] == "failed"
    assert elapsed < 30, "the 60 s wait was cut short"
    out = capfd.readouterr()
    assert "AirflowTaskTimeout" in out.out + out.err
    [run] = emulator.control.runs(workflow_arn)
    assert run["Status"] in {"STOPPING", "STOPPED"}, "the run is stopped, as on_kill does on the worker"


def test_stop_on_kill_false_leaves_the_run_running_at_execution_timeout(
    emulator: Any, workflow_arn: str, aws_conn_env: str
) -> None:
    emulator.control.hold(workflow_arn=workflow_arn)
    outcome = run_dag(_dag(workflow_arn, deferrable=True, stop_on_kill=False))

    assert outcome.task_states["start"] == "failed"
    assert [run["Status"] for run in emulator.control.runs(workflow_arn)] == ["RUNNING"]
