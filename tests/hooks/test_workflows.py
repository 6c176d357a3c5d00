"""The hook's workflow calls against the emulator over real HTTP: model checks first, errors as for runs."""

from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest

from airflow_provider_mwaas.emulator.definitions import default_definition
from airflow_provider_mwaas.errors import InvalidParameterError, NonRetryableApiError
from airflow_provider_mwaas.hooks.mwaa_serverless import MwaaServerlessHook

ROLE = "arn:aws:iam::123456789012:role/mwaas-orders"


@pytest.fixture
def hook(aws_conn_env: str) -> MwaaServerlessHook:
    return MwaaServerlessHook(aws_conn_id=aws_conn_env)


@pytest.fixture
def location(hook: MwaaServerlessHook) -> dict[str, str]:
    """A definition in the emulator's S3, uploaded through the hook's own S3 client."""
    s3 = hook.s3_client()
    bucket = f"defs-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="orders.yaml", Body=default_definition("orders").encode())
    return {"Bucket": bucket, "ObjectKey": "orders.yaml"}


def _requests(emulator: Any) -> int:
    return sum(emulator.control.counters()["requests"].values())


def test_create_get_update_and_list_versions(hook: MwaaServerlessHook, location: dict[str, str]) -> None:
    created = hook.create_workflow("orders", location, ROLE, description="first", engine_version=1)
    arn, v1 = created["WorkflowArn"], created["WorkflowVersion"]
    assert "ResponseMetadata" not in created

    updated = hook.update_workflow(arn, location, ROLE, description="second")
    v2 = updated["WorkflowVersion"]

    assert v2 != v1
    assert hook.get_workflow(arn)["Description"] == "second"
    assert hook.get_workflow(arn, v1)["Description"] == "first"
    assert [(v["WorkflowVersion"], v["IsLatestVersion"]) for v in hook.list_workflow_versions(arn)] == [
        (v2, True),
        (v1, False),
    ]
    assert [w["WorkflowArn"] for w in hook.list_workflows()] == [arn]
    assert hook.find_workflow("orders")["WorkflowArn"] == arn
    assert hook.find_workflow("nope") is None


def test_list_workflows_and_versions_read_every_page(
    hook: MwaaServerlessHook, emulator: Any, location: dict[str, str]
) -> None:
    arns = [emulator.control.create_workflow(name=f"wf{i:03d}") for i in range(102)]
    for _ in range(101):
        hook.update_workflow(arns[0], location, ROLE)

    assert [w["WorkflowArn"] for w in hook.list_workflows()] == arns
    assert len(hook.list_workflow_versions(arns[0])) == 102
    assert emulator.control.counters()["requests"]["ListWorkflows"] == 2
    assert emulator.control.counters()["requests"]["ListWorkflowVersions"] == 2


def test_delete_one_version_then_the_whole_workflow(hook: MwaaServerlessHook, location: dict[str, str]) -> None:
    created = hook.create_workflow("orders", location, ROLE)
    arn, v1 = created["WorkflowArn"], created["WorkflowVersion"]
    v2 = hook.update_workflow(arn, location, ROLE)["WorkflowVersion"]

    assert hook.delete_workflow(arn, v2) == {"WorkflowArn": arn, "WorkflowVersion": v2}
    assert [v["WorkflowVersion"] for v in hook.list_workflow_versions(arn)] == [v1]
    assert hook.delete_workflow(arn) == {"WorkflowArn": arn}
    with pytest.raises(NonRetryableApiError, match="GetWorkflow failed with ResourceNotFoundException"):
        hook.get_workflow(arn)


def test_service_errors_translate_like_the_run_calls(hook: MwaaServerlessHook, location: dict[str, str]) -> None:
    hook.create_workflow("orders", location, ROLE)
    with pytest.raises(NonRetryableApiError) as conflict:
        hook.create_workflow("orders", location, ROLE)
    assert conflict.value.code == "ConflictException"
    assert conflict.value.request_id

    missing = {**location, "ObjectKey": "missing.yaml"}
    with pytest.raises(NonRetryableApiError) as invalid:
        hook.create_workflow("other", missing, ROLE)
    assert invalid.value.code == "ValidationException"
    assert "missing.yaml" in str(invalid.value)


def test_an_invalid_definition_is_refused_by_the_emulator_with_its_line(
    hook: MwaaServerlessHook, location: dict[str, str]
) -> None:
    hook.s3_client().put_object(Bucket=location["Bucket"], Key="bad.yaml", Body=b"orders:\n  tasks:\n    a: [\n")
    with pytest.raises(NonRetryableApiError, match=r"line 4.*not valid YAML") as raised:
        hook.create_workflow("orders", {**location, "ObjectKey": "bad.yaml"}, ROLE)
    assert raised.value.code == "ValidationException"


# (case id, call, parameter named in the error)
BAD_CALLS: list[tuple[str, Any, str]] = [
    ("create_name_with_space", lambda h, loc: h.create_workflow("my orders", loc, ROLE), "workflow_name"),
    ("create_bad_role", lambda h, loc: h.create_workflow("o", loc, "arn:aws:s3:::b"), "role_arn"),
    ("create_no_key", lambda h, loc: h.create_workflow("o", {"Bucket": "b"}, ROLE), "definition_s3_location.ObjectKey"),
    (
        "create_long_description",
        lambda h, loc: h.create_workflow("o", loc, ROLE, description="d" * 1025),
        "description",
    ),
    (
        "create_bad_encryption",
        lambda h, loc: h.create_workflow("o", loc, ROLE, encryption_configuration={"Type": "X"}),
        "encryption_configuration.Type",
    ),
    ("update_bad_arn", lambda h, loc: h.update_workflow("arn:aws:s3:::b", loc, ROLE), "workflow_arn"),
    ("get_short_version", lambda h, loc: h.get_workflow("arn:aws:s3:::b"), "workflow_arn"),
    (
        "delete_short_version",
        lambda h, loc: h.delete_workflow(
            "arn:aws:airflow-serverless:us-east-1:123456789012:workflow/o-abcdefghij", "v2"
        ),
        "workflow_version",
    ),
    ("find_bad_name", lambda h, loc: h.find_workflow("a/b"), "workflow_name"),
]


@pytest.mark.parametrize(("call", "field"), [c[1:] for c in BAD_CALLS], ids=[c[0] for c in BAD_CALLS])
def test_bad_input_is_refused_before_any_request(
    hook: MwaaServerlessHook, emulator: Any, call: Any, field: str
) -> None:
    location = {"Bucket": "defs", "ObjectKey": "orders.yaml"}
    with pytest.raises(InvalidParameterError) as raised:
        call(hook, location)
    assert raised.value.field == field
    assert "Allowed:" in str(raised.value)
    assert _requests(emulator) == 0


def test_s3_client_reaches_the_connection_endpoint(hook: MwaaServerlessHook, emulator: Any) -> None:
    s3 = hook.s3_client()
    assert s3.meta.endpoint_url == emulator.url
    bucket = f"defs-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    assert bucket in [b["Name"] for b in boto3.client("s3", endpoint_url=emulator.url).list_buckets()["Buckets"]]
