"""One DAG with one StartWorkflowRunOperator, for the operator tests that run it through ``dag.test()``."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pendulum

_dag_ids = itertools.count()


def start_dag(
    task_kwargs: dict[str, Any], *, retries: int = 0, on_retry_callback: Any = None, mapped: list | None = None
) -> Any:
    """A DAG whose task ``start`` runs ``task_kwargs`` (worker wait, no delay between polls, by default).

    :param retries: the task's retries (no delay between tries).
    :param on_retry_callback: called between tries (to move the earlier try's run where a test needs it).
    :param mapped: override parameters to map the task over.
    """
    from airflow.sdk import DAG

    from airflow_provider_mwaas.operators.mwaa_serverless import StartWorkflowRunOperator

    dag = DAG(
        dag_id=f"test_start_{next(_dag_ids)}",
        schedule=None,
        start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
        default_args={"retries": retries, "retry_delay": timedelta(seconds=0), "on_retry_callback": on_retry_callback},
    )
    with dag:
        params = {"aws_conn_id": "mwaa_serverless_default", "waiter_delay": 0, "deferrable": False, **task_kwargs}
        if mapped is not None:
            StartWorkflowRunOperator.partial(task_id="start", **params).expand(override_parameters=mapped)
        else:
            StartWorkflowRunOperator(task_id="start", **params)
    return dag
