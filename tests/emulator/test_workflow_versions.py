"""Workflows and versions in the emulator behave as the service documents them (in-process emulator)."""

from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest

from airflow_provider_mwaas.emulator.definitions import default_definition

ROLE = "arn:aws:iam::123456789012:role/mwaas-orders"
TWO_TASKS = "orders:\n  tasks:\n    a: {}\n    b: {dependencies: [a]}\n"


@pytest.fixture
def clients(emulator: Any) -> tuple[Any, Any]:
    return boto3.client("mwaa-serverless", region_name="us-east-1"), boto3.client("s3", region_name="us-east-1")


@pytest.fixture
def bucket(clients: tuple[Any, Any]) -> str:
    name = f"defs-{uuid.uuid4().hex[:12]}"
    clients[1].create_bucket(Bucket=name)
    return name


def _tasks(mwaas: Any, arn: str, version: str | None = None) -> list[str]:
    params = {"WorkflowArn": arn, **({"WorkflowVersion": version} if version else {})}
    run_id = mwaas.start_workflow_run(**params)["RunId"]
    return [t["TaskInstanceId"] for t in mwaas.list_task_instances(WorkflowArn=arn, RunId=run_id)["TaskInstances"]]


def test_each_update_makes_a_version_and_each_version_keeps_its_own_definition_snapshot(
    emulator: Any, clients: tuple[Any, Any], bucket: str
) -> None:
    mwaas, s3 = clients
    s3.put_object(Bucket=bucket, Key="orders.yaml", Body=default_definition("orders").encode())
    location = {"Bucket": bucket, "ObjectKey": "orders.yaml"}
    created = mwaas.create_workflow(Name="orders", DefinitionS3Location=location, RoleArn=ROLE)
    arn, v1 = created["WorkflowArn"], created["WorkflowVersion"]
    # Overwriting the object does not change version 1: the service snapshots it at create time.
    s3.put_object(Bucket=bucket, Key="orders.yaml", Body=TWO_TASKS.encode())
    assert _tasks(mwaas, arn) == ["extract", "transform", "load"]

    v2 = mwaas.update_workflow(WorkflowArn=arn, DefinitionS3Location=location, RoleArn=ROLE)["WorkflowVersion"]
    v3 = mwaas.update_workflow(WorkflowArn=arn, DefinitionS3Location=location, RoleArn=ROLE)["WorkflowVersion"]

    assert len({v1, v2, v3}) == 3
    versions = mwaas.list_workflow_versions(WorkflowArn=arn)["WorkflowVersions"]
    assert [v["WorkflowVersion"] for v in versions] == [v3, v2, v1]
    assert [v["IsLatestVersion"] for v in versions] == [True, False, False]
    assert _tasks(mwaas, arn) == ["a", "b"]
    assert _tasks(mwaas, arn, v1) == ["extract", "transform", "load"]
    assert mwaas.list_workflows()["Workflows"][0]["WorkflowVersion"] == v3


def test_update_of_an_unknown_workflow_is_not_found(clients: tuple[Any, Any], bucket: str) -> None:
    mwaas, _ = clients
    arn = "arn:aws:airflow-serverless:us-east-1:123456789012:workflow/ghost-abcdefghij"
    with pytest.raises(mwaas.exceptions.ResourceNotFoundException):
        mwaas.update_workflow(WorkflowArn=arn, DefinitionS3Location={"Bucket": bucket, "ObjectKey": "k"}, RoleArn=ROLE)


def test_deleting_the_latest_version_makes_the_previous_one_latest(emulator: Any, clients: tuple[Any, Any]) -> None:
    mwaas, _ = clients
    arn = emulator.create_workflow(name="orders")
    live = mwaas.get_workflow(WorkflowArn=arn)
    v2 = mwaas.update_workflow(
        WorkflowArn=arn, DefinitionS3Location=live["DefinitionS3Location"], RoleArn=live["RoleArn"]
    )["WorkflowVersion"]

    assert mwaas.delete_workflow(WorkflowArn=arn, WorkflowVersion=v2)["WorkflowVersion"] == v2

    assert mwaas.get_workflow(WorkflowArn=arn)["WorkflowVersion"] == live["WorkflowVersion"]
    with pytest.raises(mwaas.exceptions.ResourceNotFoundException):
        mwaas.delete_workflow(WorkflowArn=arn, WorkflowVersion=v2)


def test_deleting_the_last_version_deletes_the_workflow(emulator: Any, clients: tuple[Any, Any]) -> None:
    mwaas, _ = clients
    arn = emulator.create_workflow(name="orders")
    version = mwaas.get_workflow(WorkflowArn=arn)["WorkflowVersion"]

    mwaas.delete_workflow(WorkflowArn=arn, WorkflowVersion=version)

    assert mwaas.list_workflows()["Workflows"] == []
    # The name is free again.
    assert emulator.create_workflow(name="orders") != arn


def test_deleting_a_workflow_stops_its_in_flight_runs(emulator: Any, clients: tuple[Any, Any]) -> None:
    mwaas, _ = clients
    arn = emulator.create_workflow(name="orders")
    run_id = mwaas.start_workflow_run(WorkflowArn=arn)["RunId"]
    mwaas.get_workflow_run(WorkflowArn=arn, RunId=run_id)  # QUEUED

    mwaas.delete_workflow(WorkflowArn=arn)

    assert [r["Status"] for r in emulator.runs(arn)] == ["STOPPING"]
    with pytest.raises(mwaas.exceptions.ResourceNotFoundException):
        mwaas.get_workflow_run(WorkflowArn=arn, RunId=run_id)
