"""Scripted outcomes (FAILED, TIMEOUT) and holds, through the control API in-process and over HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_mwaas.emulator import EmulatorControl
from airflow_provider_mwaas.emulator.outcomes import OutcomeBook, ScriptedOutcome

from .conftest import make_client


def finish(client: Any, arn: str, run_id: str, limit: int = 10) -> dict[str, Any]:
    for _ in range(limit):
        detail = client.get_workflow_run(WorkflowArn=arn, RunId=run_id)["RunDetail"]
        if detail["RunState"] in ("SUCCESS", "FAILED", "TIMEOUT", "STOPPED"):
            return dict(detail)
    raise AssertionError(f"run {run_id} still {detail['RunState']} after {limit} reads")


def task_states(client: Any, arn: str, run_id: str) -> dict[str, str]:
    tis = client.list_task_instances(WorkflowArn=arn, RunId=run_id)["TaskInstances"]
    return {t["TaskInstanceId"]: t["Status"] for t in tis}


@pytest.fixture(params=["in-process", "http"])
def setup(request: pytest.FixtureRequest) -> tuple[EmulatorControl, Any]:
    if request.param == "in-process":
        control = request.getfixturevalue("emulator")
        return control, make_client()
    server = request.getfixturevalue("server")
    return request.getfixturevalue("remote"), make_client(server.url)


def test_scripted_failure_ends_the_next_run_failed(setup: tuple[EmulatorControl, Any]) -> None:
    control, client = setup
    arn = control.create_workflow("demo")
    control.script_outcome(arn, status="FAILED", error_message="boom in transform", failed_tasks=["transform"])
    failed = client.start_workflow_run(WorkflowArn=arn)["RunId"]
    detail = finish(client, arn, failed)
    assert detail["RunState"] == "FAILED" and detail["ErrorMessage"] == "boom in transform"
    assert detail["CompletedOn"] and "Duration" in detail
    assert task_states(client, arn, failed) == {"extract": "SUCCESS", "transform": "FAILED", "load": "UPSTREAM_FAILED"}
    ti = client.get_task_instance(WorkflowArn=arn, RunId=failed, TaskInstanceId="transform")
    assert ti["ErrorMessage"] == "boom in transform"
    following = client.start_workflow_run(WorkflowArn=arn)["RunId"]
    assert finish(client, arn, following)["RunState"] == "SUCCESS"


def test_scripted_timeout_for_every_future_run(setup: tuple[EmulatorControl, Any]) -> None:
    control, client = setup
    arn = control.create_workflow("demo")
    control.script_outcome(arn, status="TIMEOUT", error_message="took too long", count=None)
    for _ in range(3):
        run_id = client.start_workflow_run(WorkflowArn=arn)["RunId"]
        detail = finish(client, arn, run_id)
        assert (detail["RunState"], detail["ErrorMessage"]) == ("TIMEOUT", "took too long")
        assert task_states(client, arn, run_id)["load"] == "TIMEOUT"


def test_count_limits_how_many_runs_are_scripted(setup: tuple[EmulatorControl, Any]) -> None:
    control, client = setup
    arn = control.create_workflow("demo")
    control.script_outcome(arn, count=2)
    ends = [finish(client, arn, client.start_workflow_run(WorkflowArn=arn)["RunId"])["RunState"] for _ in range(3)]
    assert ends == ["FAILED", "FAILED", "SUCCESS"]


def test_script_one_existing_run(setup: tuple[EmulatorControl, Any]) -> None:
    control, client = setup
    arn = control.create_workflow("demo")
    first = client.start_workflow_run(WorkflowArn=arn)["RunId"]
    second = client.start_workflow_run(WorkflowArn=arn)["RunId"]
    control.script_outcome(arn, status="FAILED", error_message="only this one", run_id=second)
    assert finish(client, arn, first)["RunState"] == "SUCCESS"
    assert finish(client, arn, second)["ErrorMessage"] == "only this one"
    with pytest.raises(ValueError, match="already"):
        control.script_outcome(arn, run_id=second)
    with pytest.raises(LookupError):
        control.script_outcome(arn, run_id="nosuchrun")


def test_bad_scripts_are_refused(setup: tuple[EmulatorControl, Any]) -> None:
    control, _ = setup
    arn = control.create_workflow("demo")
    with pytest.raises(ValueError):
        control.script_outcome(arn, status="EXPLODED")
    with pytest.raises(ValueError):
        control.script_outcome(arn, count=0)
    with pytest.raises(LookupError):
        control.script_outcome(arn[:-10] + "ZZZZZZZZZZ")


def test_unknown_failed_task_is_refused_when_the_run_starts(emulator: EmulatorControl, client: Any) -> None:
    arn = emulator.create_workflow("demo")
    run_id = client.start_workflow_run(WorkflowArn=arn)["RunId"]
    with pytest.raises(ValueError, match="Unknown task"):
        emulator.script_outcome(arn, failed_tasks=["nope"], run_id=run_id)


def test_hold_keeps_runs_running_until_released(setup: tuple[EmulatorControl, Any]) -> None:
    control, client = setup
    arn = control.create_workflow("demo")
    control.hold(workflow_arn=arn)
    run_id = client.start_workflow_run(WorkflowArn=arn)["RunId"]
    states = [client.get_workflow_run(WorkflowArn=arn, RunId=run_id)["RunDetail"]["RunState"] for _ in range(6)]
    assert states == ["QUEUED", "RUNNING", "RUNNING", "RUNNING", "RUNNING", "RUNNING"]
    assert [r["Held"] for r in control.runs(arn)] == [True]
    assert control.release(workflow_arn=arn)["Released"] == [run_id]
    assert finish(client, arn, run_id)["RunState"] == "SUCCESS"
    later = client.start_workflow_run(WorkflowArn=arn)["RunId"]
    assert finish(client, arn, later)["RunState"] == "SUCCESS"


def test_hold_and_release_one_run(setup: tuple[EmulatorControl, Any]) -> None:
    control, client = setup
    arn = control.create_workflow("demo")
    held = client.start_workflow_run(WorkflowArn=arn)["RunId"]
    free = client.start_workflow_run(WorkflowArn=arn)["RunId"]
    control.hold(run_id=held)
    assert finish(client, arn, free)["RunState"] == "SUCCESS"
    with pytest.raises(AssertionError, match="still RUNNING"):
        finish(client, arn, held)
    control.release(run_id=held)
    assert finish(client, arn, held)["RunState"] == "SUCCESS"
    with pytest.raises(ValueError, match="already ended"):
        control.hold(run_id=held)


def test_held_run_can_still_be_stopped_and_scripted(setup: tuple[EmulatorControl, Any]) -> None:
    control, client = setup
    arn = control.create_workflow("demo")
    control.hold()
    stopped = client.start_workflow_run(WorkflowArn=arn)["RunId"]
    scripted = client.start_workflow_run(WorkflowArn=arn)["RunId"]
    client.stop_workflow_run(WorkflowArn=arn, RunId=stopped)
    assert finish(client, arn, stopped)["RunState"] == "STOPPED"
    control.script_outcome(arn, status="FAILED", run_id=scripted)
    control.release()
    assert finish(client, arn, scripted)["RunState"] == "FAILED"


def test_outcome_book_consumes_scripts_in_order() -> None:
    book = OutcomeBook()
    book.add_script("arn", ScriptedOutcome("TIMEOUT", remaining=1))
    book.add_script("arn", ScriptedOutcome("FAILED", remaining=None))
    taken = [book.take_script("arn") for _ in range(3)]
    assert [t.status for t in taken if t] == ["TIMEOUT", "FAILED", "FAILED"]
    assert book.take_script("other") is None
