"""The official amazon provider's MWAA Serverless operators against our emulator.

The flow mirrors apache/airflow's system test for the service
(providers/amazon/tests/system/amazon/aws/example_mwaa_serverless.py: bucket, YAML upload, create,
start, sensor, update, second start, stop, delete), written here with the operators of the installed
apache-airflow-providers-amazon, plus a second CreateWorkflow of the same name with
``if_exists="skip"`` (which builds the ARN from the ConflictException's ResourceId). It runs through
``dag.test()`` against the emulator over HTTP (scripted runs: the executing mode's own tests, and the
e2e test of our operators, run workflows for real; this one is about the API the official operators see).
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import boto3
import pendulum
import pytest

from tests.airflow_runs import run_dag

official = pytest.importorskip("airflow.providers.amazon.aws.operators.mwaa_serverless")
pytestmark = pytest.mark.usefixtures("airflow_db")
_dag_ids = itertools.count()
ROLE = "arn:aws:iam::123456789012:role/official-flow"
DEFINITION = """\
official_flow:
  schedule: null
  tasks:
    check_file:
      operator: airflow.providers.amazon.aws.sensors.s3.S3KeySensor
      bucket_name: {bucket}
      bucket_key: workflow.yaml
      poke_interval: 1
      timeout: 60
"""


@pytest.fixture
def endpoint(emulator: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    conn = {"conn_type": "aws", "extra": {"region_name": "us-east-1", "endpoint_url": emulator.url}}
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", json.dumps(conn))
    return str(emulator.url)


def _official_dag(bucket: str) -> Any:
    from airflow.providers.amazon.aws.operators.s3 import (
        S3CreateBucketOperator,
        S3CreateObjectOperator,
        S3DeleteBucketOperator,
    )
    from airflow.providers.amazon.aws.sensors.mwaa_serverless import MwaaServerlessWorkflowRunSensor
    from airflow.sdk import DAG, TriggerRule, chain

    location = {"Bucket": bucket, "ObjectKey": "workflow.yaml"}
    with DAG(f"official_flow_{next(_dag_ids)}", schedule=None, start_date=pendulum.datetime(2025, 1, 1)) as dag:
        create_bucket = S3CreateBucketOperator(task_id="create_bucket", bucket_name=bucket)
        upload = S3CreateObjectOperator(
            task_id="upload", s3_bucket=bucket, s3_key="workflow.yaml", data=DEFINITION.format(bucket=bucket)
        )
        create = official.MwaaServerlessCreateWorkflowOperator(
            task_id="create_workflow", workflow_name=bucket, definition_s3_location=location, role_arn=ROLE
        )
        create_again = official.MwaaServerlessCreateWorkflowOperator(
            task_id="create_again", workflow_name=bucket, definition_s3_location=location, role_arn=ROLE,
            if_exists="skip",
        )  # fmt: skip
        start = official.MwaaServerlessStartWorkflowRunOperator(task_id="start", workflow_arn=create.output)
        wait = MwaaServerlessWorkflowRunSensor(
            task_id="wait", workflow_arn=create.output, run_id=start.output, poke_interval=1, timeout=240
        )
        update = official.MwaaServerlessUpdateWorkflowOperator(
            task_id="update", workflow_arn=create.output, definition_s3_location=location, role_arn=ROLE,
            description="Updated by the official operator",
        )  # fmt: skip
        start_2 = official.MwaaServerlessStartWorkflowRunOperator(task_id="start_2", workflow_arn=create.output)
        stop = official.MwaaServerlessStopWorkflowRunOperator(
            task_id="stop", workflow_arn=create.output, run_id=start_2.output
        )
        delete_bucket = S3DeleteBucketOperator(
            task_id="delete_bucket", bucket_name=bucket, force_delete=True, trigger_rule=TriggerRule.ALL_DONE
        )
        chain(create_bucket, upload, create, create_again, start, wait, update, start_2, stop, delete_bucket)
    return dag


def test_the_official_system_test_flow_runs_against_the_emulator(endpoint: str) -> None:
    bucket = f"official-{next(_dag_ids)}-flow"
    outcome = run_dag(_official_dag(bucket))

    assert outcome.state == "success", outcome.task_states
    assert set(outcome.task_states.values()) == {"success"}
    arn = outcome.xcom("create_workflow")
    assert outcome.xcom("create_again") == arn  # the ARN built from ResourceId is the workflow's
    mwaas = boto3.client("mwaa-serverless", region_name="us-east-1", endpoint_url=endpoint)
    live = mwaas.get_workflow(WorkflowArn=arn)
    assert live["Description"] == "Updated by the official operator"
    assert len(mwaas.list_workflow_versions(WorkflowArn=arn)["WorkflowVersions"]) == 2
    runs = {
        r["RunId"]: r["RunDetailSummary"]["Status"] for r in mwaas.list_workflow_runs(WorkflowArn=arn)["WorkflowRuns"]
    }
    assert runs[outcome.xcom("start")] == "SUCCESS"
    assert runs[outcome.xcom("start_2")] in ("STOPPING", "STOPPED")
