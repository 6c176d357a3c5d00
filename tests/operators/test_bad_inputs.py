"""Bad input is refused before any request reaches the emulator, with an error naming the field."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import pytest

from airflow_provider_mwaas.operators.mwaa_serverless import StartWorkflowRunOperator
from airflow_provider_mwaas.utils.errors import InvalidParameterError

GOOD_ARN = "arn:aws:airflow-serverless:us-east-1:123456789012:workflow/orders-abcdefghij"
SECRET = "s3cr3t-p4ssw0rd"

# (case id, operator kwargs, field named in the error)
BAD_INPUTS: list[tuple[str, dict[str, Any], str]] = [
    ("arn_of_another_service", {"workflow_arn": "arn:aws:s3:::my-bucket"}, "workflow_arn"),
    ("arn_unknown_partition", {"workflow_arn": GOOD_ARN.replace("arn:aws:", "arn:aws-mars:")}, "workflow_arn"),
    ("arn_bad_region", {"workflow_arn": GOOD_ARN.replace("us-east-1", "useast1")}, "workflow_arn"),
    ("arn_short_account", {"workflow_arn": GOOD_ARN.replace("123456789012", "1234")}, "workflow_arn"),
    ("arn_missing_suffix", {"workflow_arn": GOOD_ARN.replace("-abcdefghij", "")}, "workflow_arn"),
    ("arn_empty", {"workflow_arn": ""}, "workflow_arn"),
    ("arn_none", {"workflow_arn": None}, "workflow_arn"),
    ("arn_not_a_string", {"workflow_arn": 42}, "workflow_arn"),
    ("arn_over_long", {"workflow_arn": GOOD_ARN + "x" * 2100}, "workflow_arn"),
    ("version_empty", {"workflow_version": ""}, "workflow_version"),
    ("version_2049_chars", {"workflow_version": "v" * 2049}, "workflow_version"),
    ("version_not_a_string", {"workflow_version": 3}, "workflow_version"),
    ("overrides_list", {"override_parameters": [1, 2]}, "override_parameters"),
    ("overrides_set", {"override_parameters": {"a", "b"}}, "override_parameters"),
    ("overrides_datetime", {"override_parameters": {"when": datetime(2025, 1, 1)}}, "override_parameters"),
    ("overrides_bytes", {"override_parameters": {"blob": b"\x00"}}, "override_parameters"),
    ("overrides_nan", {"override_parameters": {"ratio": math.nan}}, "override_parameters"),
    ("overrides_non_string_key", {"override_parameters": {1: "one"}}, "override_parameters"),
    ("overrides_nested_non_string_key", {"override_parameters": {"a": {2: "b"}}}, "override_parameters"),
    ("overrides_json_string_of_list", {"override_parameters": "[1, 2]"}, "override_parameters"),
    ("overrides_invalid_json_string", {"override_parameters": "{not json"}, "override_parameters"),
    ("token_with_space", {"client_token": "my token"}, "client_token"),
    ("token_129_chars", {"client_token": "t" * 129}, "client_token"),
    ("token_empty", {"client_token": ""}, "client_token"),
    ("token_non_ascii", {"client_token": "jeton-été"}, "client_token"),
    ("waiter_delay_negative", {"waiter_delay": -1}, "waiter_delay"),
    ("waiter_max_attempts_zero", {"waiter_max_attempts": 0}, "waiter_max_attempts"),
    ("waiter_max_attempts_text", {"waiter_max_attempts": "many"}, "waiter_max_attempts"),
]


@pytest.mark.parametrize(("kwargs", "field"), [case[1:] for case in BAD_INPUTS], ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_is_refused_before_any_request(emulator: Any, aws_conn_env: str, kwargs: dict, field: str) -> None:
    params = {"task_id": "start", "workflow_arn": GOOD_ARN, "aws_conn_id": aws_conn_env, **kwargs}
    operator = StartWorkflowRunOperator(**params)

    with pytest.raises(InvalidParameterError) as raised:
        operator.execute({})  # validation comes first: the context is never reached

    assert raised.value.field.startswith(field)
    message = str(raised.value)
    assert message.startswith(f"Invalid {field}")
    assert "Allowed:" in message
    assert sum(emulator.control.counters()["requests"].values()) == 0


def test_the_table_covers_at_least_25_cases() -> None:
    assert len(BAD_INPUTS) >= 25


def test_override_parameter_values_never_appear_in_the_error(emulator: Any, aws_conn_env: str) -> None:
    operator = StartWorkflowRunOperator(
        task_id="start",
        workflow_arn=GOOD_ARN,
        aws_conn_id=aws_conn_env,
        override_parameters={"password": SECRET, "when": datetime(2025, 1, 1)},
    )
    with pytest.raises(InvalidParameterError) as raised:
        operator.execute({})
    assert SECRET not in str(raised.value)
    assert "2025" not in str(raised.value)
    assert "'when'" in str(raised.value)


def test_error_shows_the_refused_value_for_non_secret_fields() -> None:
    operator = StartWorkflowRunOperator(task_id="start", workflow_arn="arn:aws:s3:::my-bucket")
    with pytest.raises(InvalidParameterError, match=r"Invalid workflow_arn: 'arn:aws:s3:::my-bucket'.*pattern"):
        operator.execute({})


def test_bad_input_is_not_retried_by_airflow() -> None:
    from airflow.sdk.exceptions import AirflowFailException

    assert issubclass(InvalidParameterError, AirflowFailException)


def test_unknown_connection_id_is_refused_before_any_request(emulator: Any, aws_conn_env: str) -> None:
    operator = StartWorkflowRunOperator(task_id="start", workflow_arn=GOOD_ARN, aws_conn_id="no_such_connection")
    with pytest.raises(InvalidParameterError, match="Invalid aws_conn_id: 'no_such_connection'"):
        operator.execute({"ti": None})
    assert sum(emulator.control.counters()["requests"].values()) == 0
