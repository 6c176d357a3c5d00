"""MwaaServerlessHook against the emulator over real HTTP (boto3, botocore retries, paginators)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import HTTPClientError

from airflow_provider_mwaas.errors import InvalidParameterError, MwaaServerlessApiError, NonRetryableApiError
from airflow_provider_mwaas.hooks.mwaa_serverless import DEFAULT_RETRIES, MwaaServerlessHook


@pytest.fixture
def hook(aws_conn_env: str) -> MwaaServerlessHook:
    return MwaaServerlessHook(aws_conn_id=aws_conn_env)


def test_start_returns_the_response_without_response_metadata(hook: MwaaServerlessHook, workflow_arn: str) -> None:
    response = hook.start_workflow_run(workflow_arn, client_token="tok-1")
    assert set(response) == {"RunId", "Status", "StartedAt"}
    assert response["Status"] == "STARTING"


def test_same_token_and_parameters_return_the_same_run(
    hook: MwaaServerlessHook, workflow_arn: str, emulator: Any
) -> None:
    first = hook.start_workflow_run(workflow_arn, client_token="tok-1", override_parameters={"a": 1})
    again = hook.start_workflow_run(workflow_arn, client_token="tok-1", override_parameters={"a": 1})
    assert first["RunId"] == again["RunId"]
    assert emulator.control.counters()["runs_started"] == 1


def test_same_token_with_other_parameters_fails_clearly_without_retry(
    hook: MwaaServerlessHook, workflow_arn: str, emulator: Any
) -> None:
    hook.start_workflow_run(workflow_arn, client_token="tok-1", override_parameters={"a": 1})
    with pytest.raises(NonRetryableApiError) as raised:
        hook.start_workflow_run(workflow_arn, client_token="tok-1", override_parameters={"a": 2})
    assert raised.value.code == "ConflictException"
    assert raised.value.request_id
    assert f"request id: {raised.value.request_id}" in str(raised.value)
    assert "different parameters" in str(raised.value)
    assert emulator.control.counters()["requests"]["StartWorkflowRun"] == 2  # not retried


def test_unknown_workflow_is_a_non_retryable_not_found(hook: MwaaServerlessHook, emulator: Any) -> None:
    missing = "arn:aws:airflow-serverless:us-east-1:123456789012:workflow/missing-abcdefghij"
    with pytest.raises(NonRetryableApiError, match="ResourceNotFoundException") as raised:
        hook.start_workflow_run(missing)
    assert "Check the workflow ARN" in str(raised.value)
    assert emulator.control.counters()["requests"]["StartWorkflowRun"] == 1


def test_get_workflow_run_reports_the_run_state(hook: MwaaServerlessHook, workflow_arn: str) -> None:
    run_id = hook.start_workflow_run(workflow_arn)["RunId"]
    run = hook.get_workflow_run(workflow_arn, run_id)
    assert run["RunId"] == run_id
    assert run["RunDetail"]["RunState"] in MwaaServerlessHook.IN_FLIGHT_STATES


def test_stop_workflow_run_stops_it(hook: MwaaServerlessHook, workflow_arn: str, emulator: Any) -> None:
    emulator.control.hold(workflow_arn=workflow_arn)
    run_id = hook.start_workflow_run(workflow_arn)["RunId"]
    assert hook.stop_workflow_run(workflow_arn, run_id)["Status"] in {"STOPPING", "STOPPED"}
    final = hook.wait_for_workflow_run(workflow_arn, run_id, waiter_delay=0, waiter_max_attempts=10)
    assert final["RunDetail"]["RunState"] == "STOPPED"


def test_list_task_instances_reads_every_page(aws_conn_env: str, emulator: Any) -> None:
    tasks = "\n".join(
        f"    t{i}:\n      operator: airflow.providers.standard.operators.empty.EmptyOperator" for i in range(130)
    )
    arn = emulator.control.create_workflow(name="wide", definition_yaml=f"wide:\n  dag_id: wide\n  tasks:\n{tasks}\n")
    hook = MwaaServerlessHook(aws_conn_id=aws_conn_env)
    run_id = hook.start_workflow_run(arn)["RunId"]
    instances = hook.list_task_instances(arn, run_id)
    assert len(instances) == 130
    assert len({ti["TaskInstanceId"] for ti in instances}) == 130
    assert emulator.control.counters()["requests"]["ListTaskInstances"] >= 2


def test_list_workflow_runs_is_newest_first_and_paged(
    hook: MwaaServerlessHook, workflow_arn: str, emulator: Any
) -> None:
    started = [hook.start_workflow_run(workflow_arn)["RunId"] for _ in range(105)]
    runs = hook.list_workflow_runs(workflow_arn)
    assert [run["RunId"] for run in runs] == list(reversed(started))
    assert emulator.control.counters()["requests"]["ListWorkflowRuns"] == 2


def test_list_workflow_runs_stops_paging_at_created_after(
    hook: MwaaServerlessHook, workflow_arn: str, emulator: Any
) -> None:
    for _ in range(105):
        hook.start_workflow_run(workflow_arn)
    newest = hook.list_workflow_runs(workflow_arn)[0]["RunDetailSummary"]["CreatedOn"]
    before = emulator.control.counters()["requests"]["ListWorkflowRuns"]
    recent = hook.list_workflow_runs(workflow_arn, created_after=newest)
    assert 1 <= len(recent) < 105
    assert emulator.control.counters()["requests"]["ListWorkflowRuns"] - before == 1


def test_throttling_and_server_errors_are_retried_by_botocore(
    hook: MwaaServerlessHook, workflow_arn: str, emulator: Any
) -> None:
    run_id = hook.start_workflow_run(workflow_arn)["RunId"]
    # Seed 107 draws a throttle for the first call, then a server error and a throttle in a row for the
    # second: both kinds, and two retries back to back, with botocore's backoff sleeps of seconds (not
    # the tens of seconds a longer streak of faults costs).
    emulator.control.set_faults(throttle=0.3, internal_error=0.2, operations=["GetWorkflowRun"], seed=107)
    for _ in range(3):
        assert hook.get_workflow_run(workflow_arn, run_id)["RunId"] == run_id
    counters = emulator.control.counters()
    injected = counters["injected"]
    assert injected["throttle"] > 0 and injected["internal_error"] > 0, injected
    # every refused request was retried: one more request per fault than calls
    assert counters["requests"]["GetWorkflowRun"] == 3 + injected["throttle"] + injected["internal_error"]


def test_exhausted_retries_surface_as_a_retryable_api_error(
    aws_conn_env: str, workflow_arn: str, emulator: Any
) -> None:
    hook = MwaaServerlessHook(aws_conn_id=aws_conn_env, config={"retries": {"mode": "standard", "max_attempts": 2}})
    emulator.control.set_faults(internal_error=1.0, operations=["StartWorkflowRun"], seed=0)
    with pytest.raises(MwaaServerlessApiError) as raised:
        hook.start_workflow_run(workflow_arn)
    assert not isinstance(raised.value, NonRetryableApiError)
    assert raised.value.code == "InternalServerException"
    # botocore's ``max_attempts`` counts retries: 1 call + 2 retries
    assert emulator.control.counters()["requests"]["StartWorkflowRun"] == 3


def test_default_retry_policy_applies_only_when_nothing_else_chose_one(aws_conn_env: str) -> None:
    assert MwaaServerlessHook(aws_conn_id=aws_conn_env).config.retries == DEFAULT_RETRIES
    chosen = {"mode": "adaptive", "max_attempts": 3}
    assert MwaaServerlessHook(aws_conn_id=aws_conn_env, config={"retries": chosen}).config.retries == chosen


def test_bad_arn_is_refused_before_any_request(hook: MwaaServerlessHook, emulator: Any) -> None:
    with pytest.raises(InvalidParameterError, match="workflow_arn"):
        hook.get_workflow_run("arn:aws:s3:::bucket", "run1")
    assert sum(emulator.control.counters()["requests"].values()) == 0


def test_a_client_without_endpoint_fails_loudly_instead_of_reaching_aws() -> None:
    client = boto3.client("mwaa-serverless", region_name="us-east-1")
    with pytest.raises(HTTPClientError, match=r"test tried to resolve .airflow-serverless\.us-east-1\.api\.aws."):
        client.list_workflows()
