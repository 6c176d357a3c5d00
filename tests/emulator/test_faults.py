"""Fault injection: each kind, per operation, seeded reproducibility and counters."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ConnectionClosedError

from airflow_provider_mwaas.emulator import EmulatorControl
from airflow_provider_mwaas.emulator.faults import FaultConfig, FaultInjector

from .conftest import error_of, make_client


@pytest.fixture(params=["in-process", "http"])
def setup(request: pytest.FixtureRequest) -> tuple[EmulatorControl, Any, str | None]:
    if request.param == "in-process":
        return request.getfixturevalue("emulator"), make_client(), None
    server = request.getfixturevalue("server")
    return request.getfixturevalue("remote"), make_client(server.url), server.url


def test_throttling_carries_retry_after(setup: tuple[EmulatorControl, Any, str | None]) -> None:
    control, client, _ = setup
    control.set_faults(throttle=1.0, retry_after_seconds=7)
    response = error_of(lambda: client.list_workflows())
    assert response["Error"]["Code"] == "ThrottlingException"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert response["RetryAfterSeconds"] == 7 and response["ServiceCode"] and response["QuotaCode"]
    assert response["ResponseMetadata"]["HTTPHeaders"]["retry-after"] == "7"
    counters = control.counters()
    assert counters["injected"]["throttle"] == counters["requests"]["ListWorkflows"] == 1
    assert "ListWorkflows" not in counters["served"]


def test_internal_error_is_http_500_and_retried_by_botocore(setup: tuple[EmulatorControl, Any, str | None]) -> None:
    control, _, url = setup
    control.set_faults(internal_error=1.0)
    client = make_client(url, retries=3)
    response = error_of(lambda: client.list_workflows())
    assert response["Error"]["Code"] == "InternalServerException"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert response["ResponseMetadata"]["RetryAttempts"] == 2
    assert control.counters()["injected"]["internal_error"] == 3


def test_dropped_connection_gets_no_response(setup: tuple[EmulatorControl, Any, str | None]) -> None:
    control, client, _ = setup
    control.set_faults(drop=1.0, operations=["GetWorkflow"])
    with pytest.raises(ConnectionClosedError):
        client.get_workflow(WorkflowArn="arn:aws:airflow-serverless:us-east-1:123456789012:workflow/a-abcdefghij")
    assert client.list_workflows()["Workflows"] == []
    counters = control.counters()
    assert counters["injected"]["drop"] == 1 and counters["served"] == {"ListWorkflows": 1}


def test_latency_delays_but_serves(setup: tuple[EmulatorControl, Any, str | None]) -> None:
    control, client, _ = setup
    control.set_faults(latency=1.0, latency_seconds=0.3)
    started = time.monotonic()
    assert client.list_workflows()["Workflows"] == []
    assert time.monotonic() - started >= 0.3
    counters = control.counters()
    assert counters["injected"]["latency"] == 1 and counters["served"]["ListWorkflows"] == 1


def test_faults_only_hit_the_listed_operations(setup: tuple[EmulatorControl, Any, str | None]) -> None:
    control, client, _ = setup
    arn = control.create_workflow("demo")
    control.set_faults(throttle=1.0, operations=["StartWorkflowRun"])
    assert client.get_workflow(WorkflowArn=arn)["Name"] == "demo"
    assert error_of(lambda: client.start_workflow_run(WorkflowArn=arn))["Error"]["Code"] == "ThrottlingException"
    control.clear_faults()
    assert client.start_workflow_run(WorkflowArn=arn)["Status"] == "STARTING"
    assert control.counters()["runs_started"] == 1


def _pattern(control: EmulatorControl, client: Any, seed: int) -> list[str]:
    control.set_faults(throttle=0.3, internal_error=0.3, seed=seed)
    outcome = []
    for _ in range(30):
        try:
            client.list_workflows()
            outcome.append("ok")
        except Exception as err:
            outcome.append(type(err).__name__)
    return outcome


def test_same_seed_same_faults(setup: tuple[EmulatorControl, Any, str | None]) -> None:
    control, client, _ = setup
    first, second = _pattern(control, client, seed=42), _pattern(control, client, seed=42)
    assert first == second
    assert {"ok", "ThrottlingException", "InternalServerException"} <= set(first)
    assert _pattern(control, client, seed=7) != first


def test_counters_count_refused_requests_and_reset(setup: tuple[EmulatorControl, Any, str | None]) -> None:
    control, _, url = setup
    client = make_client(url, validate=False)
    error_of(lambda: client.get_workflow_run(WorkflowArn="bad", RunId="r"))
    counters = control.counters()
    assert counters["requests"] == {"GetWorkflowRun": 1} and counters["served"] == {"GetWorkflowRun": 1}
    assert counters["injected"] == {"throttle": 0, "internal_error": 0, "latency": 0, "drop": 0}
    control.reset()
    assert control.counters()["requests"] == {}


def test_bad_fault_settings_are_refused(setup: tuple[EmulatorControl, Any, str | None]) -> None:
    control, _, _ = setup
    with pytest.raises(ValueError):
        control.set_faults(throttle=1.5)
    with pytest.raises(ValueError):
        control.set_faults(throttle=0.6, drop=0.6)
    with pytest.raises(ValueError, match="Unknown operations"):
        control.set_faults(throttle=0.1, operations=["LaunchRockets"])


def test_injector_draws_reproducibly() -> None:
    config = FaultConfig(throttle=0.2, internal_error=0.2, drop=0.2, latency=0.5, seed=3)
    a, b = FaultInjector(), FaultInjector()
    a.configure(config)
    b.configure(config)
    assert [a.decide("X") for _ in range(50)] == [b.decide("X") for _ in range(50)]
    assert FaultInjector().decide("X").error is None
