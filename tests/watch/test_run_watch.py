"""The watch flow the worker wait, the sensor and the trigger share: progress, verdict, diagnostics."""

from __future__ import annotations

from airflow_provider_mwaas.watch.run_watch import RunWatch

ARN = "arn:aws:airflow-serverless:us-east-1:123456789012:workflow/orders-abcdef1234"


def test_a_progress_line_is_returned_only_when_it_changed() -> None:
    watch = RunWatch(ARN, "run-1")
    assert watch.progress("QUEUED", None) == "Workflow run run-1: QUEUED"
    assert watch.progress("QUEUED", None) is None
    assert (
        watch.progress("RUNNING", [{"Status": "SCHEDULED"}]) == "Workflow run run-1: RUNNING: 0/1 task instances done"
    )
    assert watch.state == "RUNNING"


def test_runs_not_started_yet_need_no_task_instance_listing() -> None:
    assert not RunWatch.wants_task_instances("STARTING")
    assert not RunWatch.wants_task_instances("QUEUED")
    assert RunWatch.wants_task_instances("RUNNING")
    assert RunWatch.wants_task_instances("FAILED")


def test_verdict_follows_the_target_states_and_any_other_terminal_state_fails() -> None:
    watch = RunWatch(ARN, "run-1", success_states=frozenset({"RUNNING"}), failure_states=frozenset({"FAILED"}))
    verdicts = {}
    for state in ("QUEUED", "RUNNING", "FAILED", "STOPPED", "SUCCESS"):
        watch.state = state
        verdicts[state] = watch.verdict
    assert verdicts == {
        "QUEUED": None,
        "RUNNING": "success",
        "FAILED": "failure",
        "STOPPED": "failure",
        "SUCCESS": "failure",
    }


def test_failure_diagnostics_carry_the_error_message_and_failed_task_instances() -> None:
    watch = RunWatch(ARN, "run-1")
    watch.progress("FAILED", None)
    run = {"RunDetail": {"RunState": "FAILED", "ErrorMessage": "load blew up"}}
    tis = [
        {"TaskInstanceId": "extract", "Status": "SUCCESS"},
        {"TaskInstanceId": "load", "OperatorName": "PythonOperator", "Status": "FAILED", "DurationInSeconds": 3},
    ]
    failure = watch.fail(run, tis)
    assert watch.failure is failure
    assert (failure.state, failure.error_message) == ("FAILED", "load blew up")
    assert [ti["TaskInstanceId"] for ti in failure.failed_task_instances] == ["load"]
    assert failure.description.startswith(f"Workflow run run-1 of {ARN} ended in state FAILED: load blew up")
    assert "  - load (PythonOperator) FAILED after 3s" in failure.description
