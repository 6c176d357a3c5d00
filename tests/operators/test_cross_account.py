"""Cross-account and cross-region runs: role assumption through the connection, per-task region_name.

The emulator keeps one backend per (account, region) and serves moto's STS on the same endpoint;
moto ties the credentials AssumeRole returns to the role's account. So a workflow created in account
222222222222 is invisible to the caller's own identity (123456789012) and reachable only through a
role in 222222222222: these tests prove role assumption really happened, in the worker and in the
triggerer path, without any mock.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.airflow_runs import run_dag

OTHER_ACCOUNT = "222222222222"
ROLE_ARN = f"arn:aws:iam::{OTHER_ACCOUNT}:role/airflow-mwaas"


def _set_connection(monkeypatch: pytest.MonkeyPatch, conn_id: str, conn_type: str, extra: dict[str, Any]) -> str:
    conn = {"conn_type": conn_type, "login": "testing", "password": "testing", "extra": extra}
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
    return conn_id


@pytest.fixture
def role_connection(emulator: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """A ``mwaa_serverless`` connection (form fields) assuming a role in the other account, in us-east-1."""
    return _set_connection(
        monkeypatch,
        "mwaas_cross_account",
        "mwaa_serverless",
        {
            "region_name": "us-east-1",
            "endpoint_url": emulator.url,
            "role_arn": ROLE_ARN,
            "external_id": "orders-team",
            "sts_endpoint_url": emulator.url,
            "aws_session_token": None,  # an empty form field
        },
    )


def _start_dag(dag_id: str, conn_id: str, *tasks: dict[str, Any]) -> Any:
    from airflow.sdk import DAG

    from airflow_provider_mwaas.operators.mwaa_serverless import StartWorkflowRunOperator

    with DAG(dag_id, schedule=None) as dag:
        for kwargs in tasks:
            StartWorkflowRunOperator(aws_conn_id=conn_id, waiter_delay=kwargs.pop("waiter_delay", 0), **kwargs)
    return dag


@pytest.mark.usefixtures("airflow_db")
@pytest.mark.parametrize("deferrable", [False, True], ids=["worker_wait", "deferred"])
def test_a_role_in_another_account_and_a_task_region_reach_that_accounts_workflow(
    emulator: Any, role_connection: str, deferrable: bool
) -> None:
    arn = emulator.control.create_workflow(name="orders", region="eu-west-1", account_id=OTHER_ACCOUNT)
    dag = _start_dag(
        f"mwaas_cross_account_{deferrable}",
        role_connection,
        {
            "task_id": "start",
            "workflow_arn": arn,
            "region_name": "eu-west-1",
            "deferrable": deferrable,
            "waiter_delay": 1,
        },
    )

    outcome = run_dag(dag)

    assert outcome.state == "success", outcome.task_states
    [run] = emulator.control.runs(arn)
    assert outcome.xcom("start") == run["RunId"]
    assert outcome.xcom("start", "status") == "SUCCESS"


@pytest.mark.usefixtures("airflow_db")
def test_without_the_role_the_other_accounts_workflow_is_not_found(
    emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    arn = emulator.control.create_workflow(name="orders", region="eu-west-1", account_id=OTHER_ACCOUNT)
    conn_id = _set_connection(
        monkeypatch, "mwaas_own_account", "mwaa_serverless", {"region_name": "eu-west-1", "endpoint_url": emulator.url}
    )

    outcome = run_dag(_start_dag("mwaas_no_role", conn_id, {"task_id": "start", "workflow_arn": arn}))

    assert outcome.task_states["start"] == "failed"
    assert emulator.control.runs(arn) == []


@pytest.mark.usefixtures("airflow_db")
def test_one_connection_serves_tasks_in_two_regions(
    emulator: Any, aws_conn_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = emulator.control.create_workflow(name="orders", region="us-east-1")
    away = emulator.control.create_workflow(name="orders", region="ap-southeast-2")
    dag = _start_dag(
        "mwaas_two_regions",
        aws_conn_env,  # an ``aws`` connection in us-east-1
        {"task_id": "home", "workflow_arn": home},
        {"task_id": "away", "workflow_arn": away, "region_name": "ap-southeast-2"},
    )

    outcome = run_dag(dag)

    assert outcome.state == "success", outcome.task_states
    assert [r["RunId"] for r in emulator.control.runs(home)] == [outcome.xcom("home")]
    assert [r["RunId"] for r in emulator.control.runs(away)] == [outcome.xcom("away")]


@pytest.mark.usefixtures("airflow_db")
def test_an_arn_in_another_region_than_the_client_fails_before_any_request(
    emulator: Any, aws_conn_env: str, capfd: pytest.CaptureFixture[str]
) -> None:
    arn = emulator.control.create_workflow(name="orders", region="eu-west-1")
    before = sum(emulator.control.counters()["requests"].values())

    outcome = run_dag(
        _start_dag("mwaas_region_mismatch", aws_conn_env, {"task_id": "start", "workflow_arn": arn, "retries": 2})
    )

    assert outcome.task_states["start"] == "failed"
    assert outcome.try_numbers["start"] == 1  # InvalidParameterError: no retry can fix it
    assert sum(emulator.control.counters()["requests"].values()) == before
    out = capfd.readouterr()
    text = out.out + out.err
    assert "this ARN is in eu-west-1" in text
    assert "client's region us-east-1" in text
    assert "region_name='eu-west-1'" in text


# -- the check itself ------------------------------------------------------------------------------

ARN_EU = "arn:aws:airflow-serverless:eu-west-1:123456789012:workflow/orders-abcdef1234"


def test_the_region_check_accepts_the_arns_own_region() -> None:
    from airflow_provider_mwaas.params.validation import check_arn_region

    check_arn_region(ARN_EU, "eu-west-1")
    check_arn_region("arn:aws-cn:airflow-serverless:cn-north-1:123456789012:workflow/orders-abcdef1234", "cn-north-1")


def test_the_region_check_names_both_regions_and_the_fix() -> None:
    from airflow_provider_mwaas.errors import InvalidParameterError
    from airflow_provider_mwaas.params.validation import check_arn_region

    with pytest.raises(InvalidParameterError) as info:
        check_arn_region(ARN_EU, "us-east-1")
    assert info.value.field == "workflow_arn"
    assert "client's region us-east-1" in str(info.value) and "this ARN is in eu-west-1" in str(info.value)


def test_the_region_check_catches_a_partition_that_does_not_match_the_region() -> None:
    from airflow_provider_mwaas.errors import InvalidParameterError
    from airflow_provider_mwaas.params.validation import check_arn_region

    wrong_partition = "arn:aws-cn:airflow-serverless:us-east-1:123456789012:workflow/orders-abcdef1234"
    with pytest.raises(InvalidParameterError, match=r"partition 'aws'.*this ARN says 'aws-cn'"):
        check_arn_region(wrong_partition, "us-east-1")


def test_without_any_region_the_check_defers_to_boto3(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_provider_mwaas.errors import InvalidParameterError
    from airflow_provider_mwaas.params.validation import check_arn_region

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with pytest.raises(InvalidParameterError):
        check_arn_region(ARN_EU, None)  # boto3 would use AWS_DEFAULT_REGION: so do we
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    check_arn_region(ARN_EU, None)
