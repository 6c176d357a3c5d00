"""Deploy a workflow with its own code (YAML + Code package) to MWAA Serverless and run it.

The local loop of docs/workflows.md: ``workflows/sales_report.yaml`` and the ``workflows/sales_report_code``
folder live in the repo; ``deploy_workflow`` stores both in S3 under content-addressed keys and creates
or updates the workflow only when one of them changed; ``run_workflow`` runs exactly the deployed
version with the data bucket and date as OverrideParameters. Against the emulator started with
``--execute`` (``./scripts/demo --workflow``) the workflow really runs: its tasks list, read and write
S3 objects in the emulator's moto S3.

- Connection ``mwaa_serverless_default``: an ``aws`` connection (``endpoint_url`` = the emulator).
- Variables ``mwaas_definitions_bucket`` (definitions and code), ``mwaas_data_bucket`` (the sales
  data), ``mwaas_workflow_role_arn``, ``mwaas_waiter_delay`` (optional, default 5).
"""

from __future__ import annotations

import pendulum
from airflow.providers.common.compat.sdk import DAG

from airflow_provider_mwaas.operators.mwaa_serverless import StartWorkflowRunOperator
from airflow_provider_mwaas.operators.mwaa_serverless_workflow import DeployWorkflowOperator

with DAG(
    dag_id="example_mwaa_serverless_workflow",
    schedule=None,
    start_date=pendulum.datetime(2025, 11, 17, tz="UTC"),
    catchup=False,
    tags=["example", "mwaa-serverless"],
) as dag:
    deploy_workflow = DeployWorkflowOperator(
        task_id="deploy_workflow",
        aws_conn_id="mwaa_serverless_default",
        workflow_name="sales_report",
        definition_file="workflows/sales_report.yaml",  # relative to this file's folder
        code_folder="workflows/sales_report_code",  # the workflow's Code package
        s3_bucket="{{ var.value.get('mwaas_definitions_bucket', 'mwaas-workflow-definitions') }}",
        role_arn="{{ var.value.get('mwaas_workflow_role_arn', 'arn:aws:iam::123456789012:role/mwaas-sales') }}",
        description="Sales report, deployed from the repo with its code",
        tags={"team": "analytics", "deployed-by": "airflow"},
    )

    run_workflow = StartWorkflowRunOperator(
        task_id="run_workflow",
        aws_conn_id="mwaa_serverless_default",
        workflow_arn=deploy_workflow.output["workflow_arn"],
        workflow_version=deploy_workflow.output["workflow_version"],
        override_parameters={
            "data_bucket": "{{ var.value.get('mwaas_data_bucket', 'mwaas-example-sales') }}",
            # A manual run of Airflow 3 may have no logical date: then the day it was triggered for.
            "report_date": "{{ (dag_run.logical_date or dag_run.run_after).strftime('%Y-%m-%d') }}",
        },
        waiter_delay="{{ var.value.get('mwaas_waiter_delay', 5) }}",
        waiter_max_attempts=120,
    )

    deploy_workflow >> run_workflow
