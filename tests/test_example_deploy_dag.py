"""The deploy example DAG runs to success against the emulator: deploy the repo's YAML, run that version."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

from airflow_provider_mwaas.service.workflow_definition import read_definition
from tests.airflow_runs import run_dag

EXAMPLE_DAGS = Path(__file__).resolve().parent.parent / "example_dags"
WORKFLOW_YAML = EXAMPLE_DAGS / "workflows" / "orders_pipeline.yaml"


def _dag() -> Any:
    from airflow.dag_processing.dagbag import DagBag

    dagbag = DagBag(dag_folder=str(EXAMPLE_DAGS / "example_mwaa_serverless_deploy.py"))
    assert dagbag.import_errors == {}
    return dagbag.get_dag("example_mwaa_serverless_deploy")


def test_deploy_example_dag_deploys_the_repo_workflow_and_runs_exactly_that_version(
    airflow_db: Path, emulator: Any, aws_conn_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = f"definitions-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=emulator.url, region_name="us-east-1").create_bucket(Bucket=bucket)
    monkeypatch.setenv("AIRFLOW_VAR_MWAAS_DEFINITIONS_BUCKET", bucket)
    monkeypatch.setenv("AIRFLOW_VAR_MWAAS_WAITER_DELAY", "0")

    first = run_dag(_dag())

    assert first.state == "success", first.task_states
    arn = first.xcom("deploy_workflow", "workflow_arn")
    version = first.xcom("deploy_workflow", "workflow_version")
    runs = emulator.control.runs(arn)
    assert [(r["WorkflowVersion"], r["Status"]) for r in runs] == [(version, "SUCCESS")]
    assert first.xcom("report") == {
        "deployment": "created",
        "workflow_version": version,
        "run_id": runs[0]["RunId"],
        "status": "SUCCESS",
    }
    mwaas = boto3.client("mwaa-serverless", endpoint_url=emulator.url, region_name="us-east-1")
    tasks = mwaas.list_task_instances(WorkflowArn=arn, RunId=runs[0]["RunId"])["TaskInstances"]
    assert [t["TaskInstanceId"] for t in tasks] == read_definition(WORKFLOW_YAML.read_bytes()).task_ids

    # The DAG is safe to re-run: the same file deploys nothing and the run uses the same version.
    second = run_dag(_dag())

    assert second.state == "success", second.task_states
    assert second.xcom("report")["deployment"] == "unchanged"
    assert second.xcom("deploy_workflow", "workflow_version") == version
    assert len(mwaas.list_workflow_versions(WorkflowArn=arn)["WorkflowVersions"]) == 1
    assert emulator.control.counters()["requests"].get("UpdateWorkflow", 0) == 0
