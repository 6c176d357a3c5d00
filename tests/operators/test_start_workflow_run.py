"""StartWorkflowRunOperator through real Airflow (dag.test) against the emulator over HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from tests.airflow_runs import run_dag
from tests.operators.start_dag import start_dag

pytestmark = pytest.mark.usefixtures("airflow_db")


_dag = start_dag


def test_starts_a_run_and_waits_for_success(emulator: Any, workflow_arn: str, aws_conn_env: str) -> None:
    outcome = run_dag(_dag({"workflow_arn": workflow_arn, "override_parameters": {"day": "2025-01-01"}}))

    assert outcome.state == "success"
    runs = emulator.control.runs(workflow_arn)
    assert len(runs) == 1
    assert outcome.xcom("start") == runs[0]["RunId"]
    assert outcome.xcom("start", "status") == "SUCCESS"
    assert outcome.xcom("start", "workflow_arn") == workflow_arn
    assert outcome.xcom("start", "client_token") == runs[0]["ClientToken"]
    assert runs[0]["ClientToken"].endswith("-g0")


def test_failed_run_fails_the_task_with_message_and_failed_task_instances(
    emulator: Any, workflow_arn: str, aws_conn_env: str, capfd: pytest.CaptureFixture[str]
) -> None:
    emulator.control.script_outcome(
        workflow_arn, status="FAILED", error_message="Task transform failed: KeyError 'id'", failed_tasks=["transform"]
    )
    outcome = run_dag(_dag({"workflow_arn": workflow_arn}))

    assert outcome.state == "failed"
    assert outcome.task_states["start"] == "failed"
    assert outcome.xcom("start", "status") == "FAILED"
    out = capfd.readouterr()
    text = out.out + out.err
    assert "WorkflowRunFailedError" in text
    assert "ended in state FAILED: Task transform failed: KeyError 'id'" in text
    assert "transform" in text.split("Failed task instances")[1]
    assert len(emulator.control.runs(workflow_arn)) == 1


def test_timeout_run_state_fails_the_task(emulator: Any, workflow_arn: str, aws_conn_env: str) -> None:
    emulator.control.script_outcome(workflow_arn, status="TIMEOUT", error_message="Run exceeded its timeout")
    outcome = run_dag(_dag({"workflow_arn": workflow_arn}))
    assert outcome.task_states["start"] == "failed"
    assert outcome.xcom("start", "status") == "TIMEOUT"


def test_waiting_out_of_attempts_fails_with_how_long_and_last_state(
    emulator: Any, workflow_arn: str, aws_conn_env: str, capfd: pytest.CaptureFixture[str]
) -> None:
    emulator.control.hold(workflow_arn=workflow_arn)
    outcome = run_dag(_dag({"workflow_arn": workflow_arn, "waiter_max_attempts": 4}))

    assert outcome.task_states["start"] == "failed"
    text = "".join(capfd.readouterr())
    assert "WorkflowRunWaitTimeoutError" in text
    assert "after 4 attempts x 0s" in text
    assert "was still RUNNING" in text


def test_retry_while_the_run_is_in_flight_reattaches_instead_of_starting_another(
    emulator: Any, workflow_arn: str, aws_conn_env: str
) -> None:
    # Each state lasts 3 GetWorkflowRun calls; the first try gives up after 3 polls, still in flight.
    emulator.control.configure_transitions(mode="call", calls_per_state=3)
    dag = _dag(
        {"workflow_arn": workflow_arn, "waiter_max_attempts": "{{ 3 if ti.try_number == 1 else 30 }}"}, retries=1
    )
    outcome = run_dag(dag)

    assert outcome.state == "success"
    assert outcome.try_numbers["start"] == 2
    runs = emulator.control.runs(workflow_arn)
    assert len(runs) == 1, runs
    assert outcome.xcom("start") == runs[0]["RunId"]
    assert outcome.xcom("start", "client_token").endswith("-g0")


def test_retry_after_a_terminal_run_starts_a_fresh_run_under_the_next_generation(
    emulator: Any, workflow_arn: str, aws_conn_env: str
) -> None:
    emulator.control.script_outcome(workflow_arn, status="FAILED", error_message="flaky", count=1)
    outcome = run_dag(_dag({"workflow_arn": workflow_arn}, retries=1))

    assert outcome.state == "success"
    assert outcome.try_numbers["start"] == 2
    runs = emulator.control.runs(workflow_arn)
    assert len(runs) == 2
    tokens = sorted(run["ClientToken"] for run in runs)
    assert tokens[0][:-3] == tokens[1][:-3]
    assert {token[-3:] for token in tokens} == {"-g0", "-g1"}
    assert outcome.xcom("start", "client_token").endswith("-g1")


def test_mapped_tasks_start_distinct_runs(emulator: Any, workflow_arn: str, aws_conn_env: str) -> None:
    outcome = run_dag(_dag({"workflow_arn": workflow_arn}, mapped=[{"part": 1}, {"part": 2}, {"part": 3}]))

    assert outcome.state == "success"
    runs = emulator.control.runs(workflow_arn)
    assert len(runs) == 3
    assert len({run["ClientToken"] for run in runs}) == 3
    assert {outcome.xcom("start", map_index=i) for i in range(3)} == {run["RunId"] for run in runs}


def test_two_dag_runs_never_share_a_run(emulator: Any, workflow_arn: str, aws_conn_env: str) -> None:
    dag = _dag({"workflow_arn": workflow_arn})
    first = run_dag(dag)
    second = run_dag(dag)
    assert first.xcom("start") != second.xcom("start")
    assert len(emulator.control.runs(workflow_arn)) == 2


def test_explicit_client_token_is_honoured(emulator: Any, workflow_arn: str, aws_conn_env: str) -> None:
    outcome = run_dag(_dag({"workflow_arn": workflow_arn, "client_token": "nightly-{{ ds_nodash }}"}))
    runs = emulator.control.runs(workflow_arn)
    assert len(runs) == 1
    assert runs[0]["ClientToken"].startswith("nightly-")
    assert outcome.xcom("start", "client_token") == runs[0]["ClientToken"]


def test_fire_and_forget_returns_once_started(emulator: Any, workflow_arn: str, aws_conn_env: str) -> None:
    outcome = run_dag(_dag({"workflow_arn": workflow_arn, "wait_for_completion": False, "deferrable": True}))
    assert outcome.state == "success"
    assert outcome.xcom("start", "status") == "STARTING"
    assert emulator.control.counters()["requests"].get("GetWorkflowRun", 0) == 0


def test_templated_override_parameters_json_string_is_accepted(
    emulator: Any, workflow_arn: str, aws_conn_env: str
) -> None:
    outcome = run_dag(_dag({"workflow_arn": workflow_arn, "override_parameters": '{"day": "{{ ds }}"}'}))
    assert outcome.state == "success"
