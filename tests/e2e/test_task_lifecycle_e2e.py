"""End to end: the token rule through the task lifecycle a user lives in, on a real Airflow stack.

Retries, clears (of the task and of the DAG run, long after the run ended and while it is in flight,
deferred and on the worker), a retry after the run succeeded (the effect of Airflow 3.3.2's scheduler
race), parameters that render differently per try, mark success and mark failed. One module-scoped
stack (api-server, scheduler, triggerer, dag-processor) and emulator server (time-driven, 0.5 s per
state); each test has its own emulator workflow, so run counts are per test. DAGs:
tests/e2e/dags/mwaas_lifecycle_dag.py.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_mwaas.operators.client_token import DERIVED_TOKEN
from tests.e2e.airflow_stack import REPO_ROOT, AirflowStack
from tests.emulator_conn import emulator_conn_env

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

emulator_mod = pytest.importorskip("airflow_provider_mwaas.emulator", reason="emulator not available")

DAG_FILE = REPO_ROOT / "tests" / "e2e" / "dags" / "mwaas_lifecycle_dag.py"
DEFERRED, WORKER = "mwaas_lifecycle_deferred", "mwaas_lifecycle_worker"
TASK = "start"
ENDED = ("STOPPING", "STOPPED")
_workflow_numbers = itertools.count()


@pytest.fixture(scope="module")
def emulator() -> Iterator[Any]:
    with emulator_mod.EmulatorServer(host="127.0.0.1", port=0, transitions="time") as server:
        server.control.configure_transitions(mode="time", seconds_per_state=0.5)
        yield server


@pytest.fixture(scope="module")
def stack(emulator: Any) -> Iterator[AirflowStack]:
    with AirflowStack([DAG_FILE], extra_env=emulator_conn_env(emulator.url)) as stack:
        stack.wait_for_dag(DEFERRED)
        stack.wait_for_dag(WORKER)
        yield stack


@pytest.fixture
def arn(request: Any, emulator: Any, stack: AirflowStack) -> Iterator[str]:
    """A fresh workflow for this test; on failure, the component logs and the emulator's runs."""
    emulator.control.set_assumptions(token_memory_seconds=None)  # defaults
    name = re.sub(r"[^a-zA-Z0-9]+", "-", request.node.name.removeprefix("test_"))[:36].strip("-")
    name = f"{name}-{next(_workflow_numbers)}"
    workflow_arn = emulator.control.create_workflow(name=name)
    yield workflow_arn
    emulator.control.release(workflow_arn=workflow_arn)
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        stack.dump_logs(lines=80)
        print("emulator runs:", json.dumps(emulator.control.runs(workflow_arn), indent=1))


def _trigger(stack: AirflowStack, dag_id: str, arn: str, **conf: Any) -> str:
    return stack.trigger_dag(dag_id, conf={"workflow_arn": arn, **conf})


def _finish(stack: AirflowStack, dag_id: str, run_id: str) -> dict[str, Any]:
    stack.wait_for_run(dag_id, run_id, timeout=150)
    return stack.task_instance(dag_id, run_id, TASK)


def _runs(emulator: Any, arn: str, count: int | None = None, timeout: float = 60.0) -> list[dict[str, Any]]:
    """The workflow's runs (oldest first), once there are at least ``count``."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        runs = emulator.control.runs(arn)
        if count is None or len(runs) >= count or time.monotonic() > deadline:
            return runs
        time.sleep(0.5)


def _attempt(run: dict[str, Any]) -> tuple[int, int]:
    """(first try of the attempt, generation) of a run's derived token."""
    match = DERIVED_TOKEN.fullmatch(run["ClientToken"])
    assert match, run["ClientToken"]
    return int(match["first_try"] or 1), int(match["generation"])


def _clear_task(stack: AirflowStack, dag_id: str, run_id: str) -> None:
    body = {"dry_run": False, "task_ids": [TASK], "dag_run_id": run_id, "only_failed": False, "reset_dag_runs": True}
    stack.api("POST", f"/api/v2/dags/{dag_id}/clearTaskInstances", json=body)


def _wait_waiting(stack: AirflowStack, dag_id: str, run_id: str) -> None:
    """Wait until the task waits: on the worker (running), or deferred with its trigger running in the
    triggerer (a trigger the triggerer never started gets no on_kill from Airflow; docs/guarantees.md)."""
    if dag_id == WORKER:
        stack.wait_for_task_state(dag_id, run_id, TASK, ["running"])
        return
    stack.wait_for_task_state(dag_id, run_id, TASK, ["deferred"])

    def trigger_runs() -> bool:
        files = stack.trigger_log_files(dag_id, run_id, TASK)
        return any("Waiting for workflow run" in path.read_text(errors="replace") for path in files)

    stack.wait_for(trigger_runs, 60, "the trigger to run in the triggerer")


def _wait_state(emulator: Any, arn: str, run_id: str, states: tuple[str, ...], timeout: float = 30.0) -> str:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = next(r["Status"] for r in emulator.control.runs(arn) if r["RunId"] == run_id)
        if status in states:
            return str(status)
        time.sleep(0.3)
    raise AssertionError(f"run {run_id} never reached {states}")


# -- clears ------------------------------------------------------------------------------------------


def test_clearing_a_succeeded_task_hours_later_starts_a_new_run(stack: AirflowStack, emulator: Any, arn: str) -> None:
    run_id = _trigger(stack, DEFERRED, arn)
    assert _finish(stack, DEFERRED, run_id)["state"] == "success"
    emulator.control.age_runs(2 * 3600, workflow_arn=arn)  # the service still remembers the old token

    _clear_task(stack, DEFERRED, run_id)
    ti = _finish(stack, DEFERRED, run_id)

    runs = emulator.control.runs(arn)
    assert ti["state"] == "success"
    assert [r["Status"] for r in runs] == ["SUCCESS", "SUCCESS"]
    assert [_attempt(r)[1] for r in runs] == [0, 0]
    assert _attempt(runs[1])[0] == ti["try_number"] > 1
    assert stack.xcom(DEFERRED, run_id, TASK) == runs[1]["RunId"]


def test_clearing_a_failed_dag_run_hours_later_starts_a_new_run(stack: AirflowStack, emulator: Any, arn: str) -> None:
    emulator.control.script_outcome(arn, status="FAILED", error_message="bad input", count=3)
    run_id = _trigger(stack, WORKER, arn)
    assert _finish(stack, WORKER, run_id)["state"] == "failed"
    assert [r["Status"] for r in emulator.control.runs(arn)] == ["FAILED"] * 3  # one per try
    emulator.control.age_runs(2 * 3600, workflow_arn=arn)

    stack.api("POST", f"/api/v2/dags/{WORKER}/dagRuns/{run_id}/clear", json={"dry_run": False})
    ti = _finish(stack, WORKER, run_id)

    runs = emulator.control.runs(arn)
    assert ti["state"] == "success"
    assert [r["Status"] for r in runs] == ["FAILED", "FAILED", "FAILED", "SUCCESS"]
    assert _attempt(runs[3]) == (4, 0)


@pytest.mark.parametrize("dag_id", [DEFERRED, WORKER])
def test_clearing_a_task_while_its_run_is_in_flight_stops_it_and_starts_a_new_one(
    stack: AirflowStack, emulator: Any, arn: str, dag_id: str
) -> None:
    emulator.control.hold(workflow_arn=arn)
    run_id = _trigger(stack, dag_id, arn)
    _wait_waiting(stack, dag_id, run_id)
    (first,) = _runs(emulator, arn, 1)

    _clear_task(stack, dag_id, run_id)
    _wait_state(emulator, arn, first["RunId"], ENDED)
    second = _runs(emulator, arn, 2)[1]
    emulator.control.release(run_id=second["RunId"])
    ti = _finish(stack, dag_id, run_id)

    runs = emulator.control.runs(arn)
    assert ti["state"] == "success"
    assert len(runs) == 2
    assert runs[0]["Status"] in ENDED
    assert runs[1]["Status"] == "SUCCESS"
    assert stack.xcom(dag_id, run_id, TASK) == runs[1]["RunId"]


# -- retries -----------------------------------------------------------------------------------------


def test_retry_after_the_run_succeeded_adopts_it_scheduler_race(stack: AirflowStack, emulator: Any, arn: str) -> None:
    # Try 1 defers; the run succeeds; the process resuming try 1 dies (what the 3.3.2 race leaves).
    run_id = _trigger(stack, DEFERRED, arn, crash_after_success=True)
    ti = _finish(stack, DEFERRED, run_id)

    runs = emulator.control.runs(arn)
    assert ti["state"] == "success"
    assert ti["try_number"] == 2
    assert [r["Status"] for r in runs] == ["SUCCESS"]
    assert stack.xcom(DEFERRED, run_id, TASK) == runs[0]["RunId"]
    assert stack.xcom(DEFERRED, run_id, TASK, key="status") == "SUCCESS"


def test_retry_with_other_parameters_reattaches_to_the_run_in_flight(
    stack: AirflowStack, emulator: Any, arn: str
) -> None:
    emulator.control.hold(workflow_arn=arn)
    run_id = _trigger(stack, WORKER, arn, vary=True, first_try_attempts=2)
    stack.wait_for(
        lambda: stack.task_instance(WORKER, run_id, TASK)["try_number"] == 2, 90, "try 2 of the task", interval=1.0
    )
    emulator.control.release(workflow_arn=arn)
    ti = _finish(stack, WORKER, run_id)

    runs = emulator.control.runs(arn)
    assert ti["state"] == "success"
    assert [(r["Status"], r["OverrideParameters"]) for r in runs] == [("SUCCESS", {"try": "1"})]


def test_retry_with_other_parameters_after_a_failed_run_starts_one_with_them(
    stack: AirflowStack, emulator: Any, arn: str
) -> None:
    emulator.control.script_outcome(arn, status="FAILED", error_message="flaky", count=1)
    run_id = _trigger(stack, DEFERRED, arn, vary=True)
    ti = _finish(stack, DEFERRED, run_id)

    runs = emulator.control.runs(arn)
    assert ti["state"] == "success"
    assert [(r["Status"], r["OverrideParameters"]) for r in runs] == [
        ("FAILED", {"try": "1"}),
        ("SUCCESS", {"try": "2"}),
    ]
    assert [_attempt(r) for r in runs] == [(1, 0), (1, 1)]


# -- mark success / mark failed while waiting (docs/guarantees.md, "Mark success, mark failed") -----------


@pytest.mark.parametrize(("dag_id", "mark"), [(DEFERRED, "success"), (WORKER, "failed"), (DEFERRED, "failed")])
def test_marking_the_task_while_it_waits_stops_the_run(
    stack: AirflowStack, emulator: Any, arn: str, dag_id: str, mark: str
) -> None:
    emulator.control.hold(workflow_arn=arn)
    run_id = _trigger(stack, dag_id, arn)
    _wait_waiting(stack, dag_id, run_id)
    (run,) = _runs(emulator, arn, 1)

    stack.api("PATCH", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{TASK}", json={"new_state": mark})

    assert _wait_state(emulator, arn, run["RunId"], ENDED) in ENDED
    assert stack.task_instance(dag_id, run_id, TASK)["state"] == mark
    assert len(emulator.control.runs(arn)) == 1
