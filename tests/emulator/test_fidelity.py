"""Fidelity found by driving the emulator with clients we did not write (the official amazon operators,
the AWS CLI): what the service's documentation and those clients expect."""

from __future__ import annotations

import io
import time
import zipfile
from typing import Any

import boto3
import pytest

from airflow_provider_mwaas.emulator import EmulatorControl, mock_mwaa_serverless

from .conftest import error_of, make_client
from .test_models import upload

ROLE = "arn:aws:iam::123456789012:role/r"


def test_create_on_an_existing_name_names_the_workflow_id(emulator: EmulatorControl, client: Any) -> None:
    location = upload("demo:\n  tasks:\n    a: {}\n")
    arn = client.create_workflow(Name="demo", DefinitionS3Location=location, RoleArn=ROLE)["WorkflowArn"]
    response = error_of(lambda: client.create_workflow(Name="demo", DefinitionS3Location=location, RoleArn=ROLE))
    assert response["Error"]["Code"] == "ConflictException"
    # The id the official operator turns back into the ARN: <name>-<10 characters>.
    assert response["ResourceId"] == arn.rsplit("/", 1)[1]
    assert response["ResourceId"].startswith("demo-") and len(response["ResourceId"]) == len("demo-") + 10


def test_update_keeps_encryption_and_the_settings_it_is_not_given(emulator: EmulatorControl, client: Any) -> None:
    location = upload("demo:\n  tasks:\n    a: {}\n")
    encryption = {"Type": "CUSTOMER_MANAGED_KEY", "KmsKeyId": "alias/mine"}
    arn = client.create_workflow(
        Name="demo", DefinitionS3Location=location, RoleArn=ROLE, Description="first",
        EncryptionConfiguration=encryption, LoggingConfiguration={"LogGroupName": "wf-logs"}, Tags={"a": "1"},
    )["WorkflowArn"]  # fmt: skip
    client.update_workflow(WorkflowArn=arn, DefinitionS3Location=location, RoleArn=ROLE, Description="second")
    live = client.get_workflow(WorkflowArn=arn)
    assert live["Description"] == "second"
    assert live["EncryptionConfiguration"] == encryption  # not an UpdateWorkflow member: the workflow's
    assert live["LoggingConfiguration"] == {"LogGroupName": "wf-logs"}  # not given: kept
    assert client.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"a": "1"}


def test_update_without_code_keeps_the_code_snapshot(emulator: EmulatorControl, client: Any) -> None:
    location = upload("demo:\n  tasks:\n    a: {}\n")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("m.py", "X = 1\n")
    code = {"S3Location": upload_bytes(archive.getvalue(), location["Bucket"], "code.zip")}
    arn = client.create_workflow(Name="demo", DefinitionS3Location=location, RoleArn=ROLE, Code=code)["WorkflowArn"]
    first = client.get_workflow(WorkflowArn=arn)
    assert first["Code"] == code and first["CodeSnapshottedAt"]
    boto3.client("s3", region_name="us-east-1").delete_object(Bucket=location["Bucket"], Key="code.zip")
    client.update_workflow(WorkflowArn=arn, DefinitionS3Location=location, RoleArn=ROLE)  # the copy is kept
    second = client.get_workflow(WorkflowArn=arn)
    assert second["Code"] == code and second["CodeSnapshottedAt"] == first["CodeSnapshottedAt"]
    assert "a: {}" in second["WorkflowDefinition"]


def upload_bytes(body: bytes, bucket: str, key: str) -> dict[str, str]:
    boto3.client("s3", region_name="us-east-1").put_object(Bucket=bucket, Key=key, Body=body)
    return {"Bucket": bucket, "ObjectKey": key}


def test_get_workflow_created_at_is_the_workflows_not_the_versions(emulator: EmulatorControl, client: Any) -> None:
    location = upload("demo:\n  tasks:\n    a: {}\n")
    created = client.create_workflow(Name="demo", DefinitionS3Location=location, RoleArn=ROLE)
    time.sleep(0.05)
    updated = client.update_workflow(WorkflowArn=created["WorkflowArn"], DefinitionS3Location=location, RoleArn=ROLE)
    live = client.get_workflow(WorkflowArn=created["WorkflowArn"])
    assert live["CreatedAt"] == created["CreatedAt"]
    assert live["ModifiedAt"] == updated["ModifiedAt"] > live["CreatedAt"]
    old = client.get_workflow(WorkflowArn=created["WorkflowArn"], WorkflowVersion=created["WorkflowVersion"])
    assert old["CreatedAt"] == created["CreatedAt"]


def test_a_run_has_no_start_time_while_starting_or_queued(emulator: EmulatorControl, client: Any) -> None:
    arn = emulator.create_workflow("demo")
    run_id = client.start_workflow_run(WorkflowArn=arn)["RunId"]
    # Each read advances a call-driven run one state: alternate the two views of it.
    detail = client.get_workflow_run(WorkflowArn=arn, RunId=run_id)["RunDetail"]
    assert detail["RunState"] == "QUEUED" and "StartedOn" not in detail
    summary = client.list_workflow_runs(WorkflowArn=arn)["WorkflowRuns"][0]["RunDetailSummary"]
    assert summary["Status"] == "RUNNING" and summary["StartedAt"] >= summary["CreatedOn"]
    detail = client.get_workflow_run(WorkflowArn=arn, RunId=run_id)["RunDetail"]
    assert detail["RunState"] == "SUCCESS" and detail["StartedOn"] == summary["StartedAt"]


def test_duration_is_rounded_not_truncated() -> None:
    with mock_mwaa_serverless(transitions="time", seconds_per_state=0.7):
        arn = EmulatorControl().create_workflow("demo")
        client = make_client()
        run_id = client.start_workflow_run(WorkflowArn=arn)["RunId"]
        time.sleep(2.4)
        detail = client.get_workflow_run(WorkflowArn=arn, RunId=run_id)["RunDetail"]
        assert detail["RunState"] == "SUCCESS"
        exact = (detail["CompletedOn"] - detail["StartedOn"]).total_seconds()  # RUNNING lasted 0.7 s
        assert exact == pytest.approx(0.7, abs=0.05)
        assert detail["Duration"] == 1  # truncation would say 0


@pytest.mark.parametrize("operation", ["list_workflows", "list_workflow_runs"])
def test_a_bad_next_token_is_a_plain_validation_error(emulator: EmulatorControl, client: Any, operation: str) -> None:
    kwargs = {"WorkflowArn": emulator.create_workflow("demo")} if operation == "list_workflow_runs" else {}
    response = error_of(lambda: getattr(client, operation)(NextToken="not-a-token", **kwargs))
    assert response["Error"]["Code"] == "ValidationException"
    message = response["Error"]["Message"]
    assert message.startswith("Invalid NextToken") and "{" not in message and "__type" not in message
