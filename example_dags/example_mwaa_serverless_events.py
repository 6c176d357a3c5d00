"""Events: a DAG scheduled by each successful run of a remote MWAA Serverless workflow (Airflow 3).

Two DAGs:

- ``example_mwaa_serverless_events_upstream`` starts a run of the workflow and does not wait for it
  (``wait_for_completion=False``): nothing in this Airflow holds a slot while the run goes on.
- ``example_mwaa_serverless_events_downstream`` is scheduled on an asset whose watcher reads the
  service's EventBridge events from an SQS queue (``WorkflowRunEventsTrigger``): a DAG run per
  successful run of the workflow, whoever started it (this DAG, another Airflow, the console), and
  none for a failed, stopped or timed-out one. The asset event's ``extra["payload"]`` names the run.

Set up once (idempotent): ``MwaaServerlessHook("mwaa_serverless_default").ensure_events_queue(
workflow_arn, detail_types=["MWAA Serverless Workflow Run Succeeded"])`` returns the queue URL; or the
CloudFormation / CLI in docs/events.md. Then the Variables (read when the file is parsed, as an asset
watcher's trigger is built then): ``mwaas_workflow_arn`` and ``mwaas_events_queue_url``. Connection
``mwaa_serverless_default`` as in ``example_mwaa_serverless.py`` (the watcher reads SQS through it).
"""

from __future__ import annotations

import os

import pendulum

try:  # Airflow 3: asset watchers; Airflow 2.11 has none, and this file then defines no DAG
    from airflow.sdk import DAG, Asset, AssetWatcher, Variable, task
except ImportError:  # pragma: no cover - Airflow 2
    AssetWatcher = None

if AssetWatcher is not None:
    from airflow_provider_mwaas.operators.mwaa_serverless import StartWorkflowRunOperator
    from airflow_provider_mwaas.triggers.workflow_run_events import WorkflowRunEventsTrigger

    def _variable(key: str, default: str) -> str:
        """A Variable at parse time (watchers are serialized then). Airflow 3.0's ``Variable.get`` fails in a
        DagBag parsed outside the dag-processor (a test); the ``AIRFLOW_VAR_*`` environment still answers."""
        try:
            return str(Variable.get(key, default=default))
        except ImportError:
            return os.environ.get(f"AIRFLOW_VAR_{key.upper()}", default)

    WORKFLOW_ARN = _variable(
        "mwaas_workflow_arn", "arn:aws:airflow-serverless:us-east-1:123456789012:workflow/orders-EXAMPLE"
    )
    QUEUE_URL = _variable(
        "mwaas_events_queue_url", "https://sqs.us-east-1.amazonaws.com/123456789012/mwaa-serverless-events"
    )

    #: Updated by every successful run of the workflow. A plain name: a URI scheme (``s3://``...) would make
    #: Airflow load every provider's URI handlers at each parse.
    ORDERS_RUN_SUCCEEDED = Asset(
        "mwaas_orders_run_succeeded",
        watchers=[
            AssetWatcher(
                name="mwaas_orders_run_succeeded",
                trigger=WorkflowRunEventsTrigger(
                    queue_url=QUEUE_URL, workflow_arn=WORKFLOW_ARN, aws_conn_id="mwaa_serverless_default"
                ),
            )
        ],
    )

    with DAG(
        dag_id="example_mwaa_serverless_events_upstream",
        schedule=None,
        start_date=pendulum.datetime(2025, 11, 17, tz="UTC"),
        catchup=False,
        tags=["example", "mwaa-serverless", "events"],
    ):
        StartWorkflowRunOperator(
            task_id="start_orders_run",
            aws_conn_id="mwaa_serverless_default",
            workflow_arn="{{ var.value.mwaas_workflow_arn }}",
            wait_for_completion=False,  # the downstream DAG is woken by the run's event
        )

    with DAG(
        dag_id="example_mwaa_serverless_events_downstream",
        schedule=[ORDERS_RUN_SUCCEEDED],
        start_date=pendulum.datetime(2025, 11, 17, tz="UTC"),
        catchup=False,
        tags=["example", "mwaa-serverless", "events"],
    ):

        @task
        def use_orders(triggering_asset_events=None) -> list[dict]:  # type: ignore[no-untyped-def]
            """Print (and return) the remote runs whose success scheduled this DAG run."""
            runs = []
            for event in (triggering_asset_events or {}).get(ORDERS_RUN_SUCCEEDED, []):
                payload = (event.extra or {}).get("payload") or {}
                print(f"MWAA Serverless run {payload.get('run_id')} of {payload.get('workflow_arn')} succeeded")
                runs.append({"run_id": payload.get("run_id"), "workflow_arn": payload.get("workflow_arn")})
            return runs

        use_orders()
