"""Asset pattern: a remote MWAA Serverless run's completion schedules a DAG in this Airflow.

Two DAGs:

- ``example_mwaa_serverless_asset_producer`` runs the workflow with ``outlets=[ORDERS_REFRESHED]``.
  When the run succeeds, Airflow emits an asset event whose extra carries the run:
  ``{"workflow_arn", "workflow_version", "run_id", "state"}``.
- ``example_mwaa_serverless_asset_consumer`` is scheduled on that asset (``schedule=[ORDERS_REFRESHED]``):
  the scheduler creates a run of it for each event, and its task reads the remote run from
  ``triggering_asset_events``.

The producer can live in another Airflow (another account or region, through its own connection):
it is the asset event, not a task dependency, that links the two. Same connection and Variables as
``example_mwaa_serverless.py`` (``mwaa_serverless_default``, ``mwaas_workflow_arn``, ``mwaas_waiter_delay``).
"""

from __future__ import annotations

import pendulum
from airflow.providers.common.compat.sdk import DAG, Asset, task  # airflow.sdk on Airflow 3; 2.11: classic

from airflow_provider_mwaas.operators.mwaa_serverless import StartWorkflowRunOperator

#: The data the remote workflow refreshes. Name it after the data, not the workflow: any producer
#: (this DAG, a DAG in another Airflow posting to the REST API, a manual event) can update it.
#: (Airflow 3 only: ``Asset(name="mwaas_orders_refreshed", uri=...)`` gives it a name other than its URI.)
ORDERS_REFRESHED = Asset(uri="mwaas://orders/refreshed")

with DAG(
    dag_id="example_mwaa_serverless_asset_producer",
    schedule=None,
    start_date=pendulum.datetime(2025, 11, 17, tz="UTC"),
    catchup=False,
    tags=["example", "mwaa-serverless", "assets"],
):
    StartWorkflowRunOperator(
        task_id="refresh_orders",
        aws_conn_id="mwaa_serverless_default",
        workflow_arn="{{ var.value.mwaas_workflow_arn }}",
        waiter_delay="{{ var.value.get('mwaas_waiter_delay', 5) }}",
        waiter_max_attempts=120,
        outlets=[ORDERS_REFRESHED],  # on success: an asset event whose extra names the remote run
    )

with DAG(
    dag_id="example_mwaa_serverless_asset_consumer",
    schedule=[ORDERS_REFRESHED],
    start_date=pendulum.datetime(2025, 11, 17, tz="UTC"),
    catchup=False,
    tags=["example", "mwaa-serverless", "assets"],
):

    @task
    def use_refreshed_orders(triggering_asset_events=None, triggering_dataset_events=None) -> list[dict]:  # type: ignore[no-untyped-def]
        """Print (and return) the remote runs that triggered this DAG run (Airflow 2.11 says "dataset")."""
        runs = []
        events = triggering_asset_events or triggering_dataset_events or {}
        for event in events.get(ORDERS_REFRESHED, events.get(ORDERS_REFRESHED.uri, [])):
            extra = event.extra or {}
            print(f"Orders refreshed by MWAA Serverless run {extra.get('run_id')} of {extra.get('workflow_arn')}")
            runs.append({"run_id": extra.get("run_id"), "workflow_arn": extra.get("workflow_arn")})
        return runs

    use_refreshed_orders()
