"""The workflow example (YAML + code package) deploys and really runs against the executing emulator."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.airflow_runs import run_dag

pytest.importorskip("dagfactory")
EXAMPLE_DAGS = Path(__file__).resolve().parent.parent / "example_dags"
RAW = "region,amount\neu,10.5\nus,4\neu,1.25\n"


@pytest.fixture(scope="module")
def executing_emulator() -> Iterator[Any]:
    from airflow_provider_mwaas.emulator import EmulatorServer

    with EmulatorServer(transitions="call", extra_args=("--execute",)) as server:
        yield server


def _dag() -> Any:
    from airflow.dag_processing.dagbag import DagBag

    dagbag = DagBag(dag_folder=str(EXAMPLE_DAGS / "example_mwaa_serverless_workflow.py"))
    assert dagbag.import_errors == {}
    return dagbag.get_dag("example_mwaa_serverless_workflow")


def test_the_workflow_example_runs_its_code_on_s3_objects(
    airflow_db: Path, executing_emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = executing_emulator.url
    conn = {"conn_type": "aws", "login": "testing", "password": "testing", "extra": {"endpoint_url": url}}
    monkeypatch.setenv(
        "AIRFLOW_CONN_MWAA_SERVERLESS_DEFAULT",
        json.dumps({**conn, "extra": {**conn["extra"], "region_name": "us-east-1"}}),
    )
    definitions, data = f"defs-{uuid.uuid4().hex[:10]}", f"sales-{uuid.uuid4().hex[:10]}"
    s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1")
    for bucket in (definitions, data):
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=data, Key="raw/day1.csv", Body=RAW.encode())
    s3.put_object(Bucket=data, Key="raw/day2.csv", Body=b"region,amount\nus,1\n")
    for name, value in {"DEFINITIONS_BUCKET": definitions, "DATA_BUCKET": data, "WAITER_DELAY": "1"}.items():
        monkeypatch.setenv(f"AIRFLOW_VAR_MWAAS_{name}", value)

    outcome = run_dag(_dag())

    assert outcome.state == "success", outcome.task_states
    assert outcome.xcom("deploy_workflow", "deployment") == "created"
    arn, run_id = outcome.xcom("deploy_workflow", "workflow_arn"), outcome.xcom("run_workflow")
    mwaas = boto3.client("mwaa-serverless", endpoint_url=url, region_name="us-east-1")
    detail = mwaas.get_workflow_run(WorkflowArn=arn, RunId=run_id)["RunDetail"]
    assert detail["RunState"] == "SUCCESS"
    tasks = mwaas.list_task_instances(WorkflowArn=arn, RunId=run_id)["TaskInstances"]
    assert {t["TaskInstanceId"]: t["Status"] for t in tasks} == {
        "list_raw_sales": "SUCCESS",
        "summarise_sales": "SUCCESS",
        "report_ready": "SUCCESS",
    }
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=data, Prefix="reports/")["Contents"]]
    assert len(keys) == 1
    summary = json.loads(s3.get_object(Bucket=data, Key=keys[0])["Body"].read())
    assert summary["files"] == 2 and summary["rows"] == 4
    assert summary["totals"] == {"eu": 11.75, "us": 5.0}
    assert mwaas.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"team": "analytics", "deployed-by": "airflow"}
