"""The wire: every operation of the installed model is served, and errors have the AWS shape."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from botocore import xform_name

from airflow_provider_mwaas.emulator import EmulatorControl
from airflow_provider_mwaas.emulator.responses import MWAAServerlessResponse
from airflow_provider_mwaas.service.model import service_model

from .conftest import error_of, make_client
from .wire import call_with_body

AUTH = (
    "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/airflow-serverless/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=0000"
)


def valid_calls(control: EmulatorControl, client: Any) -> dict[str, dict[str, Any]]:
    """Valid parameters for every operation we know; operations missing here get ``{}``."""
    arn = control.create_workflow("demo")
    run_id = client.start_workflow_run(WorkflowArn=arn)["RunId"]
    location = client.get_workflow(WorkflowArn=arn)["DefinitionS3Location"]
    role = client.get_workflow(WorkflowArn=arn)["RoleArn"]
    doomed = control.create_workflow("doomed")
    return {
        "CreateWorkflow": {"Name": "other", "DefinitionS3Location": location, "RoleArn": role},
        "GetWorkflow": {"WorkflowArn": arn},
        "UpdateWorkflow": {"WorkflowArn": arn, "DefinitionS3Location": location, "RoleArn": role},
        "DeleteWorkflow": {"WorkflowArn": doomed},
        "ListWorkflows": {},
        "ListWorkflowVersions": {"WorkflowArn": arn},
        "StartWorkflowRun": {"WorkflowArn": arn},
        "GetWorkflowRun": {"WorkflowArn": arn, "RunId": run_id},
        "StopWorkflowRun": {"WorkflowArn": arn, "RunId": run_id},
        "ListWorkflowRuns": {"WorkflowArn": arn},
        "ListTaskInstances": {"WorkflowArn": arn, "RunId": run_id},
        "GetTaskInstance": {"WorkflowArn": arn, "RunId": run_id, "TaskInstanceId": "extract"},
        "TagResource": {"ResourceArn": arn, "Tags": {"k": "v"}},
        "UntagResource": {"ResourceArn": arn, "TagKeys": ["k"]},
        "ListTagsForResource": {"ResourceArn": arn},
    }


def _serve_every_operation(control: EmulatorControl, client: Any) -> None:
    calls = valid_calls(control, client)
    not_served = []
    for operation in service_model().operation_names:
        if xform_name(operation) not in dir(MWAAServerlessResponse):
            not_served.append(f"{operation}: no handler")
            continue
        try:
            response = getattr(client, xform_name(operation))(**calls.get(operation, {}))
        except Exception as err:
            not_served.append(f"{operation}: {err}")
            continue
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert not not_served, "operations of the installed model not served:\n" + "\n".join(not_served)
    assert set(control.counters()["served"]) >= set(service_model().operation_names)


def test_every_operation_of_the_model_is_served_in_process(emulator: EmulatorControl, client: Any) -> None:
    _serve_every_operation(emulator, client)


def test_every_operation_of_the_model_is_served_over_http(server: Any, remote: EmulatorControl) -> None:
    _serve_every_operation(remote, make_client(server.url))


def test_validation_error_wire_shape(server: Any, remote: EmulatorControl) -> None:
    body = {"WorkflowArn": "nope", "ClientToken": "has space"}
    response = requests.post(
        server.url,
        data=json.dumps(body),
        timeout=10,
        headers={
            "X-Amz-Target": "AmazonMWAAServerless.StartWorkflowRun",
            "Authorization": AUTH,
            "Content-Type": "application/x-amz-json-1.0",
        },
    )
    assert response.status_code == 400
    payload = response.json()
    assert payload["__type"].split("#")[-1] == "ValidationException"
    assert response.headers["X-Amzn-Errortype"].endswith("ValidationException")
    assert payload["Reason"] == "fieldValidationFailed"
    assert payload["Message"].startswith("2 validation errors detected")
    assert [f["Name"] for f in payload["FieldList"]] == ["WorkflowArn", "ClientToken"]


@pytest.mark.parametrize("target", ["AmazonMWAAServerless.LaunchRockets", "SomeOtherService.StartWorkflowRun", None])
def test_unknown_operation_over_http(server: Any, remote: EmulatorControl, target: str | None) -> None:
    headers = {"Authorization": AUTH, "Content-Type": "application/x-amz-json-1.0"}
    if target:
        headers["X-Amz-Target"] = target
    response = requests.post(server.url, data="{}", headers=headers, timeout=10)
    assert response.status_code == 400
    assert response.json()["Reason"] == "unknownOperation"
    assert sum(remote.counters()["requests"].values()) == 1


def test_unknown_operation_in_process_on_the_real_host(emulator: EmulatorControl) -> None:
    response = requests.post(
        "https://airflow-serverless.us-east-1.api.aws/",
        data="{}",
        timeout=10,
        headers={
            "X-Amz-Target": "AmazonMWAAServerless.LaunchRockets",
            "Authorization": AUTH,
            "Content-Type": "application/x-amz-json-1.0",
        },
    )
    assert response.status_code == 400 and response.json()["Reason"] == "unknownOperation"


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"string"'])
def test_unparsable_body_is_cannot_parse(emulator: EmulatorControl, body: bytes) -> None:
    client = make_client()
    response = error_of(lambda: call_with_body(client, "ListWorkflows", body))
    assert response["Error"]["Code"] == "ValidationException" and response["Reason"] == "cannotParse"


def test_resource_not_found_wire_shape(emulator: EmulatorControl, client: Any) -> None:
    arn = "arn:aws:airflow-serverless:us-east-1:123456789012:workflow/ghost-abcdefghij"
    response = error_of(lambda: client.get_workflow_run(WorkflowArn=arn, RunId="r1"))
    assert response["Error"]["Code"] == "ResourceNotFoundException"
    assert response["ResourceType"] == "Workflow" and response["ResourceId"] == arn
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_requests_go_to_the_real_host_and_are_intercepted(emulator: EmulatorControl, client: Any) -> None:
    seen: list[str] = []
    client.meta.events.register("before-send.mwaa-serverless", lambda request, **_: seen.append(request.url))
    client.list_workflows()
    assert seen == ["https://airflow-serverless.us-east-1.api.aws/"]
