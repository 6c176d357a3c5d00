"""Bad input is refused before any request reaches the emulator, with an error naming the field; the
service's own refusals fail the task at once, unretried, with the AWS request id."""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pendulum
import pytest

from airflow_provider_mwaas.errors import InvalidParameterError
from airflow_provider_mwaas.operators.mwaa_serverless import StartWorkflowRunOperator
from tests.airflow_runs import run_dag

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


# -- templated values that render to the wrong type (real rendering through dag.test) ----------------

_dag_ids = itertools.count()


def _dag(task_kwargs: dict[str, Any], *, retries: int = 2, native: bool = False, deferrable: bool = False) -> Any:
    from airflow.sdk import DAG

    dag = DAG(
        dag_id=f"test_bad_input_{next(_dag_ids)}",
        schedule=None,
        start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
        render_template_as_native_obj=native,
        default_args={"retries": retries, "retry_delay": timedelta(seconds=0)},
        params={"count": 3, "ids": [1, 2], "name": "orders"},
    )
    with dag:
        params = {"aws_conn_id": "mwaa_serverless_default", "waiter_delay": 0, "deferrable": deferrable}
        StartWorkflowRunOperator(task_id="start", **{**params, **task_kwargs})
    return dag


# (case id, operator kwargs holding templates, render as native objects, field named in the error)
TEMPLATED_BAD_INPUTS: list[tuple[str, dict[str, Any], bool, str]] = [
    ("arn_renders_to_a_number", {"workflow_arn": "{{ params.count }}"}, True, "workflow_arn"),
    ("arn_renders_to_text_of_a_number", {"workflow_arn": "{{ params.count }}"}, False, "workflow_arn"),
    ("overrides_render_to_a_list", {"override_parameters": "{{ params.ids }}"}, True, "override_parameters"),
    ("overrides_render_to_text_of_a_list", {"override_parameters": "{{ params.ids }}"}, False, "override_parameters"),
    ("overrides_render_to_a_word", {"override_parameters": "{{ params.name }}"}, False, "override_parameters"),
    ("version_renders_to_a_number", {"workflow_version": "{{ params.count }}"}, True, "workflow_version"),
    ("token_renders_with_a_space", {"client_token": "run {{ params.name }}"}, False, "client_token"),
    ("max_attempts_render_to_a_word", {"waiter_max_attempts": "{{ params.name }}"}, False, "waiter_max_attempts"),
    ("max_attempts_render_to_a_list", {"waiter_max_attempts": "{{ params.ids }}"}, True, "waiter_max_attempts"),
]


@pytest.mark.usefixtures("airflow_db")
@pytest.mark.parametrize(
    ("kwargs", "native", "field"), [c[1:] for c in TEMPLATED_BAD_INPUTS], ids=[c[0] for c in TEMPLATED_BAD_INPUTS]
)
def test_templated_value_rendering_to_the_wrong_type_fails_at_once_before_any_request(
    emulator: Any,
    workflow_arn: str,
    aws_conn_env: str,
    capfd: pytest.CaptureFixture[str],
    kwargs: dict,
    native: bool,
    field: str,
) -> None:
    outcome = run_dag(_dag({"workflow_arn": workflow_arn, **kwargs}, native=native))

    assert outcome.task_states["start"] == "failed"
    assert outcome.try_numbers["start"] == 1  # retries=2, yet no retry: a retry renders the same value
    out = capfd.readouterr()
    assert f"InvalidParameterError: Invalid {field}" in out.out + out.err
    assert emulator.control.counters()["requests"].get("StartWorkflowRun", 0) == 0


# -- service-side refusals: a clear failure, not retried (by botocore or Airflow), with the request id -----

REQUEST_ID = re.compile(r"\(request id: (?!unknown)([0-9A-Za-z-]{8,})\)")


def _refuse_by_script(code: str) -> Callable[[Any, str], dict[str, Any]]:
    def arrange(emulator: Any, workflow_arn: str) -> dict[str, Any]:
        emulator.control.script_refusal(code, operations=["StartWorkflowRun"], count=None)
        return {"workflow_arn": workflow_arn}

    return arrange


def _unknown_workflow(emulator: Any, workflow_arn: str) -> dict[str, Any]:
    return {"workflow_arn": workflow_arn.rsplit("-", 1)[0] + "-Zz9Zz9Zz9Z"}  # well-formed, never created


def _token_reused_with_other_parameters(emulator: Any, workflow_arn: str) -> dict[str, Any]:
    import boto3

    client = boto3.client("mwaa-serverless", endpoint_url=emulator.url, region_name="us-east-1")
    client.start_workflow_run(WorkflowArn=workflow_arn, ClientToken="orders-2025-01-01", OverrideParameters={"a": 1})
    return {"workflow_arn": workflow_arn, "client_token": "orders-2025-01-01", "override_parameters": {"a": 2}}


# (case id, arrange -> operator kwargs, the AWS error code, words the failure must carry)
SERVICE_REFUSALS: list[tuple[str, Callable[[Any, str], dict[str, Any]], str, str]] = [
    ("access_denied", _refuse_by_script("AccessDeniedException"), "AccessDeniedException", "IAM action"),
    ("resource_not_found", _unknown_workflow, "ResourceNotFoundException", "Check the workflow ARN"),
    ("quota_exceeded", _refuse_by_script("ServiceQuotaExceededException"), "ServiceQuotaExceededException", "quota"),
    ("validation", _refuse_by_script("ValidationException"), "ValidationException", "refused a parameter"),
    ("conflict", _token_reused_with_other_parameters, "ConflictException", "different parameters"),
]


@pytest.mark.usefixtures("airflow_db")
@pytest.mark.parametrize(
    ("arrange", "code", "hint"), [c[1:] for c in SERVICE_REFUSALS], ids=[c[0] for c in SERVICE_REFUSALS]
)
def test_service_refusal_fails_the_task_once_with_code_hint_and_request_id(
    emulator: Any,
    workflow_arn: str,
    aws_conn_env: str,
    capfd: pytest.CaptureFixture[str],
    arrange: Callable[[Any, str], dict[str, Any]],
    code: str,
    hint: str,
) -> None:
    kwargs = arrange(emulator, workflow_arn)
    before = emulator.control.counters()["requests"].get("StartWorkflowRun", 0)

    outcome = run_dag(_dag(kwargs, retries=2))

    assert outcome.task_states["start"] == "failed"
    assert outcome.try_numbers["start"] == 1  # not retried by Airflow ...
    assert emulator.control.counters()["requests"].get("StartWorkflowRun", 0) - before == 1  # ... nor botocore
    out = capfd.readouterr()
    text = out.out + out.err
    assert f"NonRetryableApiError: StartWorkflowRun failed with {code}" in text
    assert REQUEST_ID.search(text), "the failure must carry the AWS request id"
    assert hint in text
    assert outcome.xcom("start") is None


@pytest.mark.usefixtures("airflow_db")
def test_refusal_while_deferred_fails_the_task_once_with_the_request_id(
    emulator: Any, workflow_arn: str, aws_conn_env: str, capfd: pytest.CaptureFixture[str]
) -> None:
    # The trigger reads the run with GetWorkflowRun or ListWorkflowRuns: refuse both.
    reads = ["GetWorkflowRun", "ListWorkflowRuns"]
    emulator.control.script_refusal("AccessDeniedException", operations=reads, count=None)

    outcome = run_dag(_dag({"workflow_arn": workflow_arn, "waiter_delay": 1}, retries=2, deferrable=True))

    assert outcome.task_states["start"] == "failed"
    assert outcome.try_numbers["start"] == 1
    requests = emulator.control.counters()["requests"]
    # each read was refused once and not retried (the trigger may fall back from one read to the other)
    assert sum(requests.get(op, 0) for op in reads) >= 1 and all(requests.get(op, 0) <= 1 for op in reads)
    out = capfd.readouterr()
    text = out.out + out.err
    assert re.search(r"NonRetryableApiError: \w+ failed with AccessDeniedException", text)
    assert REQUEST_ID.search(text)
    assert len(emulator.control.runs(workflow_arn)) == 1


def test_the_refusal_table_covers_every_non_retryable_service_error() -> None:
    from airflow_provider_mwaas.hooks.base import NON_RETRYABLE_HINTS

    assert {case[2] for case in SERVICE_REFUSALS} == set(NON_RETRYABLE_HINTS)


def test_scripted_refusal_rejects_an_unknown_code(emulator: Any) -> None:
    with pytest.raises(ValueError, match="code must be one of"):
        emulator.control.script_refusal("ThrottlingException")
