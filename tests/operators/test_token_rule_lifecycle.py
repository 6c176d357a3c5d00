"""The token rule through retries that real Airflow (``dag.test()``) drives, against the emulator over HTTP.

Each row of the README's token-rule table that a retry can reach without a scheduler (clears and marks
are in tests/e2e/test_task_lifecycle_e2e.py). Between two tries, ``on_retry_callback`` moves the
earlier try's run where the row needs it, with real boto3 calls to the emulator (in call mode each
GetWorkflowRun read advances a run by one state).
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from airflow_provider_mwaas.operators.client_token import DERIVED_TOKEN
from tests.airflow_runs import run_dag
from tests.operators.start_dag import start_dag

pytestmark = pytest.mark.usefixtures("airflow_db")


def _dag(task_kwargs: dict[str, Any], *, retries: int = 1, on_retry_callback: Any = None) -> Any:
    return start_dag(task_kwargs, retries=retries, on_retry_callback=on_retry_callback)


def _varying_dag(workflow_arn: str, **task_kwargs: Any) -> Any:
    """Parameters that render differently per try; try 1 gives up after one poll (the run still in flight)."""
    params = {"attempt": "{{ ti.try_number }}"}
    return _dag(
        {
            "workflow_arn": workflow_arn,
            "waiter_max_attempts": ONE_POLL_THEN_PATIENT,
            "override_parameters": params,
            **task_kwargs,
        }
    )


def _client(emulator: Any) -> Any:
    return boto3.client("mwaa-serverless", endpoint_url=emulator.url, region_name="us-east-1")


def _read_until(emulator: Any, arn: str, state: str) -> None:
    """GetWorkflowRun the workflow's only run until it is ``state`` (call mode: one state per read)."""
    (run,) = emulator.control.runs(arn)
    client = _client(emulator)
    for _ in range(10):
        if client.get_workflow_run(WorkflowArn=arn, RunId=run["RunId"])["RunDetail"]["RunState"] == state:
            return
    raise AssertionError(f"run {run['RunId']} never reached {state}")


def _generations(runs: list[dict[str, Any]]) -> list[int]:
    return [int(DERIVED_TOKEN.fullmatch(run["ClientToken"])["generation"]) for run in runs]  # type: ignore[index]


# First try: gives up after one poll (the run is still in flight), so Airflow retries the task.
ONE_POLL_THEN_PATIENT = "{{ 1 if ti.try_number == 1 else 30 }}"


def test_retry_after_the_earlier_run_succeeded_adopts_it_without_a_new_run(
    emulator: Any, workflow_arn: str, aws_conn_env: str
) -> None:
    # The worker lost the run (its wait gave up) and the run then succeeded before the retry.
    outcome = run_dag(
        _dag(
            {"workflow_arn": workflow_arn, "waiter_max_attempts": ONE_POLL_THEN_PATIENT},
            on_retry_callback=lambda context: _read_until(emulator, workflow_arn, "SUCCESS"),
        )
    )

    assert outcome.state == "success"
    assert outcome.try_numbers["start"] == 2
    runs = emulator.control.runs(workflow_arn)
    assert [run["Status"] for run in runs] == ["SUCCESS"]
    assert outcome.xcom("start") == runs[0]["RunId"]
    assert outcome.xcom("start", "status") == "SUCCESS"
    assert outcome.xcom("start", "client_token") == runs[0]["ClientToken"]
    assert emulator.control.counters()["runs_started"] == 1


def test_retry_while_the_earlier_run_is_stopping_starts_a_new_run(
    emulator: Any, workflow_arn: str, aws_conn_env: str
) -> None:
    emulator.control.configure_transitions(mode="call", calls_per_state=3)  # STOPPING lasts 3 reads

    def stop_the_run(context: Any) -> None:
        (run,) = emulator.control.runs(workflow_arn)
        _client(emulator).stop_workflow_run(WorkflowArn=workflow_arn, RunId=run["RunId"])

    outcome = run_dag(
        _dag(
            {"workflow_arn": workflow_arn, "waiter_max_attempts": ONE_POLL_THEN_PATIENT}, on_retry_callback=stop_the_run
        )
    )

    assert outcome.state == "success"
    runs = emulator.control.runs(workflow_arn)
    assert [run["Status"] for run in runs][1] == "SUCCESS"
    assert runs[0]["Status"] in ("STOPPING", "STOPPED")
    assert _generations(runs) == [0, 1]
    assert outcome.xcom("start") == runs[1]["RunId"]


def test_retry_with_other_rendered_parameters_reattaches_to_the_run_in_flight(
    emulator: Any, workflow_arn: str, aws_conn_env: str
) -> None:
    outcome = run_dag(_varying_dag(workflow_arn))

    assert outcome.state == "success"
    runs = emulator.control.runs(workflow_arn)
    assert len(runs) == 1, runs
    assert runs[0]["OverrideParameters"] == {"attempt": "1"}
    assert outcome.xcom("start") == runs[0]["RunId"]


def test_retry_with_other_rendered_parameters_after_a_failed_run_starts_one_with_the_new_parameters(
    emulator: Any, workflow_arn: str, aws_conn_env: str
) -> None:
    emulator.control.script_outcome(workflow_arn, status="FAILED", error_message="flaky", count=1)
    outcome = run_dag(_dag({"workflow_arn": workflow_arn, "override_parameters": {"attempt": "{{ ti.try_number }}"}}))

    assert outcome.state == "success"
    runs = emulator.control.runs(workflow_arn)
    assert [run["Status"] for run in runs] == ["FAILED", "SUCCESS"]
    assert [run["OverrideParameters"] for run in runs] == [{"attempt": "1"}, {"attempt": "2"}]
    assert _generations(runs) == [0, 1]


def test_retry_with_other_parameters_after_success_adopts_the_run(
    emulator: Any, workflow_arn: str, aws_conn_env: str
) -> None:
    outcome = run_dag(
        _dag(
            {
                "workflow_arn": workflow_arn,
                "waiter_max_attempts": ONE_POLL_THEN_PATIENT,
                "override_parameters": {"attempt": "{{ ti.try_number }}"},
            },
            on_retry_callback=lambda context: _read_until(emulator, workflow_arn, "SUCCESS"),
        )
    )

    assert outcome.state == "success"
    assert [run["Status"] for run in emulator.control.runs(workflow_arn)] == ["SUCCESS"]


def test_explicit_client_token_returns_the_same_run_on_every_try(
    emulator: Any, workflow_arn: str, aws_conn_env: str
) -> None:
    emulator.control.script_outcome(workflow_arn, status="FAILED", error_message="flaky", count=1)
    outcome = run_dag(_dag({"workflow_arn": workflow_arn, "client_token": "nightly-{{ ds_nodash }}"}))

    assert outcome.state == "failed"
    assert outcome.try_numbers["start"] == 2
    runs = emulator.control.runs(workflow_arn)
    assert [run["Status"] for run in runs] == ["FAILED"]


def test_a_retry_needs_no_list_workflow_runs(emulator: Any, workflow_arn: str, aws_conn_env: str) -> None:
    emulator.control.script_outcome(workflow_arn, status="FAILED", error_message="flaky", count=1)
    outcome = run_dag(_dag({"workflow_arn": workflow_arn}))

    assert outcome.state == "success"
    assert emulator.control.counters()["requests"].get("ListWorkflowRuns", 0) == 0


# -- when the service differs from the emulator's default assumptions (docs/guarantees.md) ---------------


def test_listing_order_does_not_matter_to_the_rule(emulator: Any, workflow_arn: str, aws_conn_env: str) -> None:
    emulator.control.set_assumptions(listing_order="shuffled")
    emulator.control.script_outcome(workflow_arn, status="FAILED", error_message="flaky", count=2)
    outcome = run_dag(_dag({"workflow_arn": workflow_arn}, retries=2))

    assert outcome.state == "success"
    assert _generations(emulator.control.runs(workflow_arn)) == [0, 1, 2]


def test_conflict_without_the_run_named_degrades_to_a_second_run_with_a_warning(
    emulator: Any, workflow_arn: str, aws_conn_env: str, capfd: pytest.CaptureFixture[str]
) -> None:
    emulator.control.set_assumptions(conflict_names_run=False)
    outcome = run_dag(_varying_dag(workflow_arn))

    # Not a permanent failure; but the earlier run (still in flight) cannot be found: a second run.
    assert outcome.state == "success"
    runs = emulator.control.runs(workflow_arn)
    assert _generations(runs) == [0, 1]
    assert "did not say which run it started" in "".join(capfd.readouterr())


def test_forgotten_token_of_a_run_in_flight_degrades_to_a_second_run(
    emulator: Any, workflow_arn: str, aws_conn_env: str
) -> None:
    emulator.control.set_assumptions(token_memory_seconds=0)

    outcome = run_dag(
        _dag(
            {"workflow_arn": workflow_arn, "waiter_max_attempts": ONE_POLL_THEN_PATIENT},
            on_retry_callback=lambda context: emulator.control.age_runs(60, workflow_arn=workflow_arn),
        )
    )

    assert outcome.state == "success"
    runs = emulator.control.runs(workflow_arn)
    assert len(runs) == 2  # the documented limit: the service forgot the token while its run was in flight
    assert _generations(runs) == [0, 0]


def test_service_that_does_not_replay_ended_runs_reruns_after_success(
    emulator: Any, workflow_arn: str, aws_conn_env: str
) -> None:
    emulator.control.set_assumptions(replay_ended_runs=False)
    outcome = run_dag(
        _dag(
            {"workflow_arn": workflow_arn, "waiter_max_attempts": ONE_POLL_THEN_PATIENT},
            on_retry_callback=lambda context: _read_until(emulator, workflow_arn, "SUCCESS"),
        )
    )

    assert outcome.state == "success"
    assert [run["Status"] for run in emulator.control.runs(workflow_arn)] == ["SUCCESS", "SUCCESS"]


def test_service_that_does_not_replay_ended_runs_still_reruns_after_failure_once(
    emulator: Any, workflow_arn: str, aws_conn_env: str
) -> None:
    emulator.control.set_assumptions(replay_ended_runs=False)
    emulator.control.script_outcome(workflow_arn, status="FAILED", error_message="flaky", count=1)
    outcome = run_dag(_dag({"workflow_arn": workflow_arn}))

    assert outcome.state == "success"
    assert [run["Status"] for run in emulator.control.runs(workflow_arn)] == ["FAILED", "SUCCESS"]


def test_deferrable_with_zero_waiter_delay_is_refused_before_any_request(
    emulator: Any, workflow_arn: str, aws_conn_env: str, capfd: pytest.CaptureFixture[str]
) -> None:
    outcome = run_dag(_dag({"workflow_arn": workflow_arn, "deferrable": True}, retries=0))

    assert outcome.state == "failed"
    assert "Invalid waiter_delay: 0. Allowed: an integer >= 1" in "".join(capfd.readouterr())
    assert emulator.control.runs(workflow_arn) == []
    assert emulator.control.counters()["requests"] == {}
