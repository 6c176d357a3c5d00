"""End to end: our operators on a real Airflow stack drive the emulator's executing mode.

The workflow example DAG (``example_mwaa_serverless_workflow``: DeployWorkflowOperator with a Code
package, then StartWorkflowRunOperator deferred to the triggerer) runs on the scheduler + triggerer
stack against ``python -m airflow_provider_mwaas.emulator --execute``: the sales_report workflow is
really executed by a second, local Airflow, reading and writing S3 objects in the emulator's moto S3.
Prints how long the three-task workflow took end to end (docs/workflows.md quotes it).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from tests.e2e.airflow_stack import REPO_ROOT, AirflowStack
from tests.emulator_conn import emulator_conn_env

pytestmark = [pytest.mark.long, pytest.mark.e2e, pytest.mark.timeout(420)]
pytest.importorskip("dagfactory")
DAG_ID = "example_mwaa_serverless_workflow"
EXAMPLES = REPO_ROOT / "example_dags"


@pytest.fixture(scope="module")
def emulator() -> Iterator[Any]:
    from airflow_provider_mwaas.emulator import EmulatorServer

    with EmulatorServer(transitions="time", extra_args=("--execute",)) as server:
        yield server


@pytest.fixture(scope="module")
def buckets(emulator: Any) -> dict[str, str]:
    s3 = boto3.client("s3", endpoint_url=emulator.url, region_name="us-east-1")
    names = {"definitions": "e2e-definitions", "data": "e2e-sales"}
    for bucket in names.values():
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=names["data"], Key="raw/day1.csv", Body=b"region,amount\neu,2\nus,3\neu,5\n")
    return names


@pytest.fixture(scope="module")
def stack(emulator: Any, buckets: dict[str, str]) -> Iterator[AirflowStack]:
    env = {
        **emulator_conn_env(emulator.url),
        "AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE": "True",
        "AIRFLOW_VAR_MWAAS_WAITER_DELAY": "1",
        "AIRFLOW_VAR_MWAAS_DEFINITIONS_BUCKET": buckets["definitions"],
        "AIRFLOW_VAR_MWAAS_DATA_BUCKET": buckets["data"],
    }
    files = [EXAMPLES / "example_mwaa_serverless_workflow.py", EXAMPLES / "workflows"]
    with AirflowStack(files, extra_env=env) as stack:
        stack.wait_for_dag(DAG_ID)
        yield stack


def test_our_operators_deploy_and_run_an_executed_workflow(stack: AirflowStack, emulator: Any, buckets: Any) -> None:
    started = time.monotonic()
    run_id = stack.trigger_dag(DAG_ID)
    run = stack.wait_for_run(DAG_ID, run_id, timeout=300)
    wall = time.monotonic() - started

    states = stack.task_states(DAG_ID, run_id)
    if run["state"] != "success":
        stack.dump_logs(lines=80)
        for task_id in states:
            print(f"===== {task_id}\n{stack.task_log(DAG_ID, run_id, task_id)}")
    assert run["state"] == "success", states
    assert states == {"deploy_workflow": "success", "run_workflow": "success"}
    assert any(e["task_id"] == "run_workflow" for e in stack.event_logs(DAG_ID, run_id, event="deferred"))

    arn = stack.xcom(DAG_ID, run_id, "deploy_workflow", key="workflow_arn")
    workflow_run_id = stack.xcom(DAG_ID, run_id, "run_workflow")
    mwaas = boto3.client("mwaa-serverless", endpoint_url=emulator.url, region_name="us-east-1")
    detail = mwaas.get_workflow_run(WorkflowArn=arn, RunId=workflow_run_id)["RunDetail"]
    assert detail["RunState"] == "SUCCESS"
    tasks = mwaas.list_task_instances(WorkflowArn=arn, RunId=workflow_run_id)["TaskInstances"]
    assert sorted((t["TaskInstanceId"], t["Status"]) for t in tasks) == [
        ("list_raw_sales", "SUCCESS"),
        ("report_ready", "SUCCESS"),
        ("summarise_sales", "SUCCESS"),
    ]
    s3 = boto3.client("s3", endpoint_url=emulator.url, region_name="us-east-1")
    (summary_key,) = [o["Key"] for o in s3.list_objects_v2(Bucket=buckets["data"], Prefix="reports/")["Contents"]]
    summary = json.loads(s3.get_object(Bucket=buckets["data"], Key=summary_key)["Body"].read())
    assert summary["totals"] == {"eu": 7.0, "us": 3.0}

    workflow_seconds = (detail["CompletedOn"] - detail["CreatedAt"]).total_seconds()
    print(
        f"\nMEASURED three-task workflow, executing emulator: StartWorkflowRun -> SUCCESS {workflow_seconds:.1f} s "
        f"(of which RUNNING {(detail['CompletedOn'] - detail['StartedOn']).total_seconds():.1f} s); "
        f"DAG run (deploy + run, deferred) {wall:.1f} s"
    )
