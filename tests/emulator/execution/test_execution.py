"""Executing mode: workflow runs executed for real by a local Airflow (dag-factory + dag.test()).

Each test really runs a workflow in a subprocess (about 10-30 s each on 2 cores): marker ``long``, so they
run in ``./scripts/test-long`` (and CI) with the executed-workflow e2e, not in the README's
``./scripts/test``. The scripted mode's tests stay in tests/emulator and must not change (a run there never
executes anything).
"""

from __future__ import annotations

import time
from typing import Any

import boto3
import psutil
import pytest

from airflow_provider_mwaas.emulator import mock_mwaa_serverless

from ..test_events import drain, subscribe
from .workflows import (
    BUCKET,
    NOT_IMPORTABLE,
    REGION,
    SECOND_TASK_RAISES,
    SHOP_CODE,
    SLEEPER,
    TERMINAL,
    THREE_TASKS,
    deploy,
    executed_run,
    wait_for,
)

pytest.importorskip("dagfactory")


@pytest.fixture
def client() -> Any:
    with mock_mwaa_serverless(execute=True):
        yield boto3.client("mwaa-serverless", region_name=REGION)


def _tasks(client: Any, arn: str, run_id: str) -> dict[str, dict[str, Any]]:
    listed = client.list_task_instances(WorkflowArn=arn, RunId=run_id)["TaskInstances"]
    return {
        ti["TaskInstanceId"]: client.get_task_instance(
            WorkflowArn=arn, RunId=run_id, TaskInstanceId=ti["TaskInstanceId"]
        )
        for ti in listed
    }


@pytest.mark.long
def test_a_workflow_whose_tasks_succeed_runs_for_real(client: Any) -> None:
    arn = deploy("three_tasks", THREE_TASKS, SHOP_CODE)
    sqs, queue_url = subscribe(None)  # the run's EventBridge events
    run_id = client.start_workflow_run(WorkflowArn=arn, OverrideParameters={"who": "moto"})["RunId"]
    seen = wait_for(client, arn, run_id, TERMINAL)
    states = [d["RunState"] for d in seen]
    assert states[-1] == "SUCCESS", seen[-1]
    assert "RUNNING" in states and states.index("RUNNING") > 0
    for detail in seen:  # StartedOn only once the run runs
        assert ("StartedOn" in detail) == (detail["RunState"] not in ("STARTING", "QUEUED")), detail
    final = seen[-1]
    assert final["CompletedOn"] >= final["StartedOn"] >= final["CreatedAt"]
    assert final["Duration"] == round((final["CompletedOn"] - final["StartedOn"]).total_seconds())
    assert "ErrorMessage" not in final
    events = drain(sqs, queue_url)
    run_events = [e["detail"]["status"] for e in events if "taskId" not in e["detail"]]
    assert run_events == ["STARTING", "QUEUED", "RUNNING", "SUCCESS"]
    done = {e["detail"]["taskId"] for e in events if "taskId" in e["detail"] and e["detail"]["status"] == "SUCCESS"}
    assert done == {"write_object", "transform", "report"} and {e["detail"]["runId"] for e in events} == {run_id}

    tasks = _tasks(client, arn, run_id)
    assert set(final["TaskInstances"]) == set(tasks) == {"write_object", "transform", "report"}
    assert {t["OperatorName"] for t in tasks.values()} == {"S3CreateObjectOperator", "PythonOperator", "BashOperator"}
    for ti in tasks.values():
        assert ti["Status"] == "SUCCESS" and ti["AttemptNumber"] == 1
        assert ti["StartedAt"] <= ti["EndedAt"] and ti["DurationInSeconds"] >= 0
    assert tasks["write_object"]["EndedAt"] <= tasks["transform"]["StartedAt"]  # dependencies were honoured

    # The S3 operator inside the workflow wrote into the emulator's own moto S3 (the param rendered).
    body = boto3.client("s3", region_name=REGION).get_object(Bucket=BUCKET, Key="out/greeting.txt")["Body"].read()
    assert body == b"hello moto"
    # Task logs are exported to CloudWatch Logs (moto), one stream per task instance.
    logs = boto3.client("logs", region_name=REGION)
    report = tasks["report"]["LogStream"]
    lines = [
        e["message"]
        for e in logs.get_log_events(logGroupName="/aws/mwaa-serverless/three_tasks", logStreamName=report)["events"]
    ]
    assert any("who-from-env=moto" in line for line in lines), lines  # OverrideParameters as environment
    transform = tasks["transform"]["LogStream"]
    lines = [
        e["message"]
        for e in logs.get_log_events(logGroupName="/aws/mwaa-serverless/three_tasks", logStreamName=transform)["events"]
    ]
    assert any("transform saw moto" in line for line in lines), lines  # ...and as DAG params, code from Code


@pytest.mark.long
def test_a_second_task_that_raises_fails_the_run_with_its_message(client: Any) -> None:
    arn = deploy("second_raises", SECOND_TASK_RAISES, SHOP_CODE)
    run_id = client.start_workflow_run(WorkflowArn=arn, OverrideParameters={"who": "x"})["RunId"]
    final = wait_for(client, arn, run_id, TERMINAL)[-1]
    assert final["RunState"] == "FAILED"
    assert "transform" in final["ErrorMessage"] and "second task exploded on purpose" in final["ErrorMessage"]
    listed = {
        ti["TaskInstanceId"]: ti for ti in client.list_task_instances(WorkflowArn=arn, RunId=run_id)["TaskInstances"]
    }
    assert {k: v["Status"] for k, v in listed.items()} == {
        "write_object": "SUCCESS",
        "transform": "FAILED",
        "report": "UPSTREAM_FAILED",
    }
    failed = client.get_task_instance(WorkflowArn=arn, RunId=run_id, TaskInstanceId="transform")
    assert failed["ErrorMessage"] == "RuntimeError: second task exploded on purpose"


@pytest.mark.long
def test_stop_workflow_run_kills_the_execution(client: Any) -> None:
    arn = deploy("sleeper", SLEEPER)
    run_id = client.start_workflow_run(WorkflowArn=arn)["RunId"]
    wait_for(client, arn, run_id, ("RUNNING",))
    run = executed_run(run_id)
    tasks: dict[str, Any] = {}
    for _ in range(200):  # until the bash task really runs
        tasks = {
            t["TaskInstanceId"]: t for t in client.list_task_instances(WorkflowArn=arn, RunId=run_id)["TaskInstances"]
        }
        if tasks.get("nap", {}).get("Status") == "RUNNING" and psutil.Process(run.execution.pid).children(
            recursive=True
        ):
            break
        time.sleep(0.25)
    assert tasks["nap"]["Status"] == "RUNNING"
    processes = [psutil.Process(run.execution.pid), *psutil.Process(run.execution.pid).children(recursive=True)]
    assert any("sleep" in " ".join(p.cmdline()) for p in processes)

    assert client.stop_workflow_run(WorkflowArn=arn, RunId=run_id)["Status"] == "STOPPING"
    final = wait_for(client, arn, run_id, TERMINAL, timeout=60)[-1]
    assert final["RunState"] == "STOPPED"
    _, alive = psutil.wait_procs(processes, timeout=10)
    assert not alive, f"still running after StopWorkflowRun: {alive}"
    # The killed task ends as the local Airflow recorded it on SIGTERM (failed, with its end time).
    ti = client.get_task_instance(WorkflowArn=arn, RunId=run_id, TaskInstanceId="nap")
    assert ti["Status"] == "FAILED" and ti["EndedAt"]
    assert final["ErrorMessage"] == "Run stopped by StopWorkflowRun"


@pytest.mark.long
def test_a_workflow_that_cannot_load_fails_without_taking_the_emulator_down(client: Any) -> None:
    arn = deploy("broken", NOT_IMPORTABLE)
    run_id = client.start_workflow_run(WorkflowArn=arn)["RunId"]
    final = wait_for(client, arn, run_id, TERMINAL)[-1]
    assert final["RunState"] == "FAILED"
    assert "ghost" in final["ErrorMessage"].lower() or "nowhere" in final["ErrorMessage"]
    assert client.list_workflows()["Workflows"]  # the emulator still answers


def test_without_the_switch_runs_stay_scripted() -> None:
    with mock_mwaa_serverless():
        arn = deploy("three_tasks", THREE_TASKS)
        mwaa = boto3.client("mwaa-serverless", region_name=REGION)
        run_id = mwaa.start_workflow_run(WorkflowArn=arn)["RunId"]
        assert not hasattr(executed_run(run_id), "execution")
        assert [mwaa.get_workflow_run(WorkflowArn=arn, RunId=run_id)["RunDetail"]["RunState"] for _ in range(3)] == [
            "QUEUED",
            "RUNNING",
            "SUCCESS",
        ]


@pytest.mark.long
def test_stopping_the_emulator_kills_executions_in_flight() -> None:
    with mock_mwaa_serverless(execute=True):
        mwaa = boto3.client("mwaa-serverless", region_name=REGION)
        arn = deploy("sleeper", SLEEPER)
        run_id = mwaa.start_workflow_run(WorkflowArn=arn)["RunId"]
        wait_for(mwaa, arn, run_id, ("RUNNING",))
        runner = psutil.Process(executed_run(run_id).execution.pid)
    _, alive = psutil.wait_procs([runner], timeout=10)
    assert not alive, "an execution outlived the emulator"
