"""Deploy/delete inputs and invalid YAML are refused before any request, naming the field, line and reason."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from airflow_provider_mwaas.errors import InvalidParameterError
from airflow_provider_mwaas.operators.mwaa_serverless_workflow import (
    DeleteWorkflowOperator,
    DeployWorkflowOperator,
    InvalidWorkflowDefinitionError,
)

ROLE = "arn:aws:iam::123456789012:role/mwaas-orders"
GOOD_ARN = "arn:aws:airflow-serverless:us-east-1:123456789012:workflow/orders-abcdefghij"
GOOD = "orders:\n  tasks:\n    extract:\n      operator: x.EmptyOperator\n"


def _requests(emulator: Any) -> int:
    return sum(emulator.control.counters()["requests"].values())


def _s3_buckets(emulator: Any) -> list[str]:
    s3 = boto3.client("s3", endpoint_url=emulator.url, region_name="us-east-1")
    return [b["Name"] for b in s3.list_buckets()["Buckets"]]


# (case id, YAML, line, words of the reason)
BAD_YAML: list[tuple[str, str, int | None, str]] = [
    ("unclosed_flow_list", "orders:\n  tasks:\n    a: {dependencies: [x}\n", 3, "not valid YAML"),
    ("bad_indentation", "orders:\n  tasks:\n    a:\n      operator: x\n     b: 1\n", 5, "not valid YAML"),
    ("tab_indentation", "orders:\n\ttasks: {}\n", 2, "not valid YAML"),
    ("scalar_document", "just a string\n", 1, "must be a YAML mapping"),
    ("list_document", "- a\n- b\n", 1, "must be a YAML mapping"),
    ("no_tasks", "orders:\n  dag_id: orders\n  schedule: null\n", None, "declares no tasks"),
    ("empty_tasks", "orders:\n  tasks: {}\n", 2, "declares no tasks"),
    ("task_not_a_mapping", "orders:\n  tasks:\n    a: 3\n", 3, "each task must be a mapping"),
    ("unknown_dependency", "orders:\n  tasks:\n    a: {}\n    b: {dependencies: [z]}\n", 4, "unknown task 'z'"),
    ("cycle", "orders:\n  tasks:\n    a: {dependencies: [b]}\n    b: {dependencies: [a]}\n", 3, "dependency cycle"),
    ("duplicate_task_id", "orders:\n  tasks:\n    a: {}\n    b: {}\n    a: {}\n", 5, "duplicate key 'a'"),
    ("task_id_with_space", "orders:\n  tasks:\n    my task: {}\n", 3, "not a valid Airflow task id"),
    ("list_task_without_id", "orders:\n  tasks:\n    - operator: x\n", 3, "has no task_id"),
]


@pytest.mark.parametrize(("text", "line", "reason"), [c[1:] for c in BAD_YAML], ids=[c[0] for c in BAD_YAML])
def test_invalid_definition_is_refused_before_any_call_with_line_and_reason(
    emulator: Any, aws_conn_env: str, tmp_path: Path, text: str, line: int | None, reason: str
) -> None:
    path = tmp_path / "orders.yaml"
    path.write_text(text)
    buckets = _s3_buckets(emulator)
    operator = DeployWorkflowOperator(
        task_id="deploy", workflow_name="orders", role_arn=ROLE, definition_file=str(path),
        s3_bucket="defs-bucket", aws_conn_id=aws_conn_env,
    )  # fmt: skip

    with pytest.raises(InvalidWorkflowDefinitionError) as raised:
        operator.execute({})  # refused before the context is ever used

    error = raised.value
    assert error.field == "definition_file"
    assert error.line == line
    assert reason in error.reason
    message = str(error)
    assert str(path) in message
    assert reason in message
    if line is not None:
        assert f"line {line}" in message
    assert _requests(emulator) == 0
    assert _s3_buckets(emulator) == buckets


def test_yaml_syntax_error_names_its_column_and_the_parser_reason(emulator: Any, tmp_path: Path) -> None:
    path = tmp_path / "orders.yaml"
    path.write_text("orders:\n  tasks:\n    a: {dependencies: [x}\n")
    operator = DeployWorkflowOperator(
        task_id="deploy", workflow_name="orders", role_arn=ROLE, definition_file=str(path), s3_bucket="defs-bucket"
    )
    with pytest.raises(
        InvalidWorkflowDefinitionError, match=r"line 3, column 25: not valid YAML: .*expected ',' or ']'"
    ):
        operator.execute({})


# (case id, operator kwargs over a valid deploy, field named in the error)
BAD_DEPLOY_INPUTS: list[tuple[str, dict[str, Any], str]] = [
    ("both_sources", {"definition_s3_location": "s3://defs-bucket/orders.yaml"}, "definition_file"),
    ("no_source", {"definition_file": None}, "definition_file"),
    ("empty_path", {"definition_file": " "}, "definition_file"),
    ("missing_file", {"definition_file": "/no/such/orders.yaml"}, "definition_file"),
    ("no_bucket_for_a_local_file", {"s3_bucket": None}, "s3_bucket"),
    ("bucket_with_capitals", {"s3_bucket": "My_Bucket"}, "s3_bucket"),
    ("bucket_too_short", {"s3_bucket": "ab"}, "s3_bucket"),
    ("prefix_absolute", {"s3_prefix": "/workflows/"}, "s3_prefix"),
    ("s3_uri_without_key", {"definition_file": None, "definition_s3_location": "s3://defs-bucket"}, "definition_s3"),
    ("s3_dict_without_key", {"definition_file": None, "definition_s3_location": {"Bucket": "b"}}, "definition_s3"),
    ("name_with_space", {"workflow_name": "my orders"}, "workflow_name"),
    ("name_empty", {"workflow_name": ""}, "workflow_name"),
    ("name_256_chars", {"workflow_name": "o" * 256}, "workflow_name"),
    ("role_not_an_iam_role", {"role_arn": "arn:aws:s3:::bucket"}, "role_arn"),
    ("role_missing", {"role_arn": None}, "role_arn"),
    ("description_too_long", {"description": "d" * 1025}, "description"),
    ("engine_version_text", {"engine_version": "latest"}, "engine_version"),
    ("trigger_mode_empty", {"trigger_mode": ""}, "trigger_mode"),
    ("logging_without_group", {"logging_configuration": {"Group": "x"}}, "logging_configuration"),
    ("encryption_unknown_type", {"encryption_configuration": {"Type": "ROT13"}}, "encryption_configuration"),
    ("subnets_not_a_list", {"network_configuration": {"SubnetIds": "subnet-1"}}, "network_configuration"),
    ("too_many_tags", {"tags": {f"k{i}": "v" for i in range(51)}}, "tags"),
]


@pytest.mark.parametrize(("kwargs", "field"), [c[1:] for c in BAD_DEPLOY_INPUTS], ids=[c[0] for c in BAD_DEPLOY_INPUTS])
def test_bad_deploy_input_is_refused_before_any_request(
    emulator: Any, aws_conn_env: str, tmp_path: Path, kwargs: dict[str, Any], field: str
) -> None:
    path = tmp_path / "orders.yaml"
    path.write_text(GOOD)
    params = {
        "task_id": "deploy",
        "workflow_name": "orders",
        "role_arn": ROLE,
        "definition_file": str(path),
        "s3_bucket": "defs-bucket",
        "aws_conn_id": aws_conn_env,
        **kwargs,
    }
    with pytest.raises(InvalidParameterError) as raised:
        DeployWorkflowOperator(**params).execute({})

    assert raised.value.field.startswith(field)
    assert str(raised.value).startswith(f"Invalid {field}")
    assert "Allowed:" in str(raised.value)
    assert _requests(emulator) == 0


BAD_DELETE_INPUTS: list[tuple[str, dict[str, Any], str]] = [
    ("neither_arn_nor_name", {}, "workflow_arn"),
    ("both_arn_and_name", {"workflow_arn": GOOD_ARN, "workflow_name": "orders"}, "workflow_arn"),
    ("arn_of_another_service", {"workflow_arn": "arn:aws:s3:::bucket"}, "workflow_arn"),
    ("name_with_slash", {"workflow_name": "a/b"}, "workflow_name"),
    ("version_not_32_chars", {"workflow_arn": GOOD_ARN, "workflow_version": "v2"}, "workflow_version"),
    ("version_upper_case", {"workflow_arn": GOOD_ARN, "workflow_version": "A" * 32}, "workflow_version"),
]


@pytest.mark.parametrize(("kwargs", "field"), [c[1:] for c in BAD_DELETE_INPUTS], ids=[c[0] for c in BAD_DELETE_INPUTS])
def test_bad_delete_input_is_refused_before_any_request(
    emulator: Any, aws_conn_env: str, kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidParameterError) as raised:
        DeleteWorkflowOperator(task_id="delete", aws_conn_id=aws_conn_env, **kwargs).execute({})
    assert raised.value.field.startswith(field)
    assert _requests(emulator) == 0


def test_unknown_connection_is_refused_before_any_request(emulator: Any, tmp_path: Path) -> None:
    path = tmp_path / "orders.yaml"
    path.write_text(GOOD)
    operator = DeployWorkflowOperator(
        task_id="deploy", workflow_name="orders", role_arn=ROLE, definition_file=str(path),
        s3_bucket="defs-bucket", aws_conn_id="no_such_connection",
    )  # fmt: skip
    with pytest.raises(InvalidParameterError, match="Invalid aws_conn_id: 'no_such_connection'"):
        operator.execute({})
    assert _requests(emulator) == 0


def test_importing_the_workflow_operators_loads_no_aws_sdk() -> None:
    heavy = ("boto3", "botocore", "aiobotocore", "airflow.providers.amazon.aws.hooks", "moto")
    code = (
        "import sys, json, airflow.sdk\n"
        "from airflow_provider_mwaas.operators import mwaa_serverless_workflow as m\n"
        "from airflow.sdk import DAG\n"
        "with DAG('parse_only', schedule=None) as dag:\n"
        "    m.DeployWorkflowOperator(task_id='d', workflow_name='w', role_arn='{{ var.value.r }}',\n"
        "                             definition_file='workflows/w.yaml', s3_bucket='b')\n"
        "    m.DeleteWorkflowOperator(task_id='x', workflow_name='w')\n"
        "from airflow.serialization.serialized_objects import DagSerialization\n"
        "DagSerialization.to_dict(dag)\n"
        f"print(json.dumps(sorted(n for n in sys.modules if n.startswith({heavy!r}))))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    loaded = result.stdout.strip().splitlines()[-1]
    assert loaded == "[]", loaded
