"""Deploy the repo's YAML workflow to Amazon MWAA Serverless, run exactly that version, wait, report.

The CI/CD case: the workflow definition lives next to this DAG (``workflows/orders_pipeline.yaml``).
``deploy_workflow`` stores it in S3 under a content-addressed key and creates the workflow, or updates
it only when the file (or the role/description) changed; re-running the DAG with the same file sends
no write request and makes no new version. ``run_workflow`` then starts a run of the very version the
deploy reports, so a run never picks up a version deployed by someone else in between.

Runs against the local emulator by default and against AWS by changing only the connection and
variables:

- Connection ``mwaa_serverless_default``: an ``aws`` connection (its ``endpoint_url`` points at the
  emulator, which also serves S3); for AWS, real credentials or a role, no ``endpoint_url``.
- Variable ``mwaas_definitions_bucket``: an existing bucket for definitions (default ``mwaas-workflow-definitions``).
- Variable ``mwaas_workflow_role_arn``: the role the workflow's tasks run as.
- Variable ``mwaas_waiter_delay`` (optional, default 5): seconds between status checks.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.providers.common.compat.sdk import DAG, task  # airflow.sdk on Airflow 3; 2.11: classic

from airflow_provider_mwaas.operators.mwaa_serverless import StartWorkflowRunOperator
from airflow_provider_mwaas.operators.mwaa_serverless_workflow import DeployWorkflowOperator

with DAG(
    dag_id="example_mwaa_serverless_deploy",
    schedule=None,
    start_date=pendulum.datetime(2025, 11, 17, tz="UTC"),
    catchup=False,
    tags=["example", "mwaa-serverless"],
    default_args={"retries": 2, "retry_delay": timedelta(seconds=10)},
) as dag:
    deploy_workflow = DeployWorkflowOperator(
        task_id="deploy_workflow",
        aws_conn_id="mwaa_serverless_default",
        workflow_name="orders_pipeline",
        definition_file="workflows/orders_pipeline.yaml",  # relative to this file's folder
        s3_bucket="{{ var.value.get('mwaas_definitions_bucket', 'mwaas-workflow-definitions') }}",
        role_arn="{{ var.value.get('mwaas_workflow_role_arn', 'arn:aws:iam::123456789012:role/mwaas-orders') }}",
        description="Orders pipeline, deployed from the repo by Airflow",
    )

    run_workflow = StartWorkflowRunOperator(
        task_id="run_workflow",
        aws_conn_id="mwaa_serverless_default",
        workflow_arn=deploy_workflow.output["workflow_arn"],
        workflow_version=deploy_workflow.output["workflow_version"],
        override_parameters={"run_date": "{{ ds }}"},
        waiter_delay="{{ var.value.get('mwaas_waiter_delay', 5) }}",
        waiter_max_attempts=120,
    )

    @task
    def report(workflow_run_id: str, ti=None) -> dict:  # type: ignore[no-untyped-def]
        """Say what was deployed and how its run ended."""
        deployment = ti.xcom_pull(task_ids="deploy_workflow", key="deployment")
        version = ti.xcom_pull(task_ids="deploy_workflow", key="workflow_version")
        status = ti.xcom_pull(task_ids="run_workflow", key="status")
        print(f"Workflow {deployment} at version {version}; run {workflow_run_id} finished: {status}")
        return {"deployment": deployment, "workflow_version": version, "run_id": workflow_run_id, "status": status}

    report(run_workflow.output)
