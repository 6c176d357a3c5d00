"""Validation generated from the service model: the module itself, then every constraint on the wire."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_mwaas.service.constraints import FieldError, summarize, validate_input
from airflow_provider_mwaas.service.model import fault_error_codes, is_known_operation

from .conftest import error_of, make_client
from .constraint_cases import Case, cases
from .wire import call_with_body

ARN = "arn:aws:airflow-serverless:us-east-1:123456789012:workflow/demo-abcdefghij"
VALID = {
    "StartWorkflowRun": {
        "WorkflowArn": ARN,
        "ClientToken": "token-1",
        "WorkflowVersion": "v1",
        "OverrideParameters": {"p": 1},
    },
    "GetWorkflowRun": {"WorkflowArn": ARN, "RunId": "run1"},
    "StopWorkflowRun": {"WorkflowArn": ARN, "RunId": "run1"},
    "ListWorkflowRuns": {"WorkflowArn": ARN, "MaxResults": 10, "WorkflowVersion": "v1"},
}
CASES = [case for operation, valid in VALID.items() for case in cases(operation, valid)]


def test_valid_parameters_pass() -> None:
    for operation, params in VALID.items():
        assert validate_input(operation, params) == []


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_generated_violation_is_reported_for_the_field(case: Case) -> None:
    errors = validate_input(case.operation, case.params)
    messages = [e.message for e in errors if e.name == case.field]
    assert any(case.message_part in m for m in messages), errors


def test_cases_cover_every_constraint_kind_of_start_workflow_run() -> None:
    kinds = {(c.field, c.constraint) for c in CASES if c.operation == "StartWorkflowRun"}
    assert {
        ("WorkflowArn", "required"),
        ("WorkflowArn", "max-length"),
        ("WorkflowArn", "pattern"),
        ("ClientToken", "max-length"),
        ("ClientToken", "pattern"),
        ("ClientToken", "min-length"),
        ("OverrideParameters", "type"),
        ("WorkflowVersion", "pattern"),
    } <= kinds


def test_nested_shapes_are_walked_with_dotted_paths() -> None:
    params = {
        "Name": "demo",
        "RoleArn": "arn:aws:iam::123456789012:role/r",
        "DefinitionS3Location": {"Bucket": "b"},
        "NetworkConfiguration": {"SubnetIds": ["subnet-1", "bad"]},
        "Tags": {"k" * 129: "v"},
        "EncryptionConfiguration": {"Type": "NOPE"},
    }
    errors = {(e.name, e.message.split(":")[0]) for e in validate_input("CreateWorkflow", params)}
    assert ("DefinitionS3Location.ObjectKey", "Member must not be null") in errors
    assert ("NetworkConfiguration.SubnetIds.1", "Member must satisfy regular expression pattern") in errors
    assert ("Tags." + "k" * 129, "Map key") in errors
    assert ("EncryptionConfiguration.Type", "Member must satisfy enum value set") in errors


def test_union_needs_exactly_one_member() -> None:
    params = {
        "Name": "demo",
        "RoleArn": "arn:aws:iam::123456789012:role/r",
        "DefinitionS3Location": {"Bucket": "b", "ObjectKey": "k"},
        "Code": {},
    }
    assert [e.name for e in validate_input("CreateWorkflow", params)] == ["Code"]


def test_list_length_bounds_are_checked() -> None:
    errors = validate_input("UntagResource", {"ResourceArn": ARN, "TagKeys": []})
    assert [(e.name, e.message) for e in errors] == [("TagKeys", "Member must have length greater than or equal to 1")]


def test_booleans_are_not_integers() -> None:
    errors = validate_input("ListWorkflowRuns", {"WorkflowArn": ARN, "MaxResults": True})
    assert [e.name for e in errors] == ["MaxResults"]


def test_sensitive_values_are_not_echoed() -> None:
    error = FieldError("OverrideParameters", "Member must be of type map", "s3cr3t", sensitive=True)
    assert "s3cr3t" not in error.describe()
    errors = validate_input("StartWorkflowRun", {"WorkflowArn": ARN, "OverrideParameters": "s3cr3t"})
    assert errors[0].sensitive and "s3cr3t" not in summarize(errors)


def test_summary_counts_errors_like_the_service() -> None:
    errors = validate_input("GetWorkflowRun", {})
    assert summarize(errors).startswith("2 validation errors detected: Value at 'WorkflowArn'")


def test_pattern_must_match_the_whole_value() -> None:
    errors = validate_input("GetWorkflowRun", {"WorkflowArn": "xx " + ARN, "RunId": "run1"})
    assert [e.name for e in errors] == ["WorkflowArn"]


def test_model_facts_used_by_the_emulator() -> None:
    assert is_known_operation("StartWorkflowRun") and not is_known_operation("LaunchRockets")
    assert fault_error_codes() >= {"InternalServerException"}
    with pytest.raises(Exception, match="LaunchRockets"):
        validate_input("LaunchRockets", {})


def test_validation_module_imports_without_moto() -> None:
    import subprocess
    import sys

    code = (
        "import sys, builtins\n"
        "real = builtins.__import__\n"
        "def guard(name, *a, **k):\n"
        "    if name == 'moto' or name.startswith('moto.'): raise ImportError('moto blocked')\n"
        "    return real(name, *a, **k)\n"
        "builtins.__import__ = guard\n"
        "from airflow_provider_mwaas.service.constraints import validate_input\n"
        "assert validate_input('GetWorkflowRun', {}) \n"
        "assert not any(m == 'moto' or m.startswith('moto.') for m in sys.modules)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- on the wire: every generated case is refused by the emulator, in-process and over HTTP ------


def _send(client: Any, case: Case) -> dict[str, Any]:
    if case.raw:
        minimal = VALID[case.operation]
        return error_of(lambda: call_with_body(client, case.operation, case.params, **minimal))
    from botocore import xform_name

    return error_of(lambda: getattr(client, xform_name(case.operation))(**case.params))


def _assert_refused(response: dict[str, Any], case: Case) -> None:
    assert response["Error"]["Code"] == "ValidationException"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert response["Reason"] == "fieldValidationFailed"
    named = [f for f in response["FieldList"] if f["Name"] == case.field]
    assert named and any(case.message_part in f["Message"] for f in named), response["FieldList"]


def test_every_generated_case_is_refused_in_process(emulator: Any) -> None:
    client = make_client(validate=False)
    for case in CASES:
        _assert_refused(_send(client, case), case)
    requests = emulator.counters()["requests"]
    assert sum(requests.values()) == len(CASES)
    assert emulator.counters()["runs_started"] == 0


def test_every_generated_case_is_refused_over_http(server: Any, remote: Any) -> None:
    client = make_client(server.url, validate=False)
    for case in CASES:
        _assert_refused(_send(client, case), case)
    assert sum(remote.counters()["requests"].values()) == len(CASES)
