"""``mock_mwaa_serverless`` as a context manager and a decorator (sync and async)."""

from __future__ import annotations

import pytest
from moto import mock_aws

from airflow_provider_mwaas.emulator import EmulatorControl, MockMWAAServerless, mock_mwaa_serverless

from .conftest import make_client


@mock_mwaa_serverless
def test_bare_decorator() -> None:
    arn = EmulatorControl().create_workflow("demo")
    assert make_client().get_workflow(WorkflowArn=arn)["Name"] == "demo"


@mock_mwaa_serverless(transitions="time", seconds_per_state=0)
def test_decorator_with_arguments() -> None:
    control = EmulatorControl()
    arn = control.create_workflow("demo")
    client = make_client()
    run_id = client.start_workflow_run(WorkflowArn=arn)["RunId"]
    assert client.get_workflow_run(WorkflowArn=arn, RunId=run_id)["RunDetail"]["RunState"] == "SUCCESS"
    assert control.transitions()["mode"] == "time"


@mock_mwaa_serverless
async def test_async_decorator() -> None:
    assert make_client().list_workflows()["Workflows"] == []


def test_state_is_forgotten_between_mocks() -> None:
    with mock_mwaa_serverless():
        control = EmulatorControl()
        control.create_workflow("demo")
        control.set_faults(throttle=0.5)
    with mock_mwaa_serverless():
        control = EmulatorControl()
        assert control.faults()["throttle"] == 0.0 and control.counters()["requests"] == {}
        assert make_client().list_workflows()["Workflows"] == []


def test_nests_inside_mock_aws_without_losing_data() -> None:
    with mock_aws():
        import boto3

        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="kept")
        with mock_mwaa_serverless():
            assert make_client().list_workflows()["Workflows"] == []
            names = [b["Name"] for b in boto3.client("s3", region_name="us-east-1").list_buckets()["Buckets"]]
            assert "kept" in names


def test_start_stop_without_with() -> None:
    mock = mock_mwaa_serverless()
    assert isinstance(mock, MockMWAAServerless)
    mock.start()
    try:
        assert make_client().list_workflows()["Workflows"] == []
    finally:
        mock.stop()


def test_bad_transition_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="mode"), mock_mwaa_serverless(transitions="never"):
        pass
