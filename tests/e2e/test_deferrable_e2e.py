"""End to end: the example DAG in deferrable mode on a real Airflow stack against the emulator.

One module-scoped ``AirflowStack`` (api-server, scheduler, triggerer, dag-processor on SQLite with the
LocalExecutor) and one ``EmulatorServer`` (time-driven, 0.5 s per state) are shared by the tests. Each
test creates its own emulator workflow and points the DAG at it through the ``mwaas_workflow_arn``
Variable (set over REST, so run counts are per test), which keeps the tests independent of order.

The triggerer fault scenarios (a triggerer stopped by SIGTERM or SIGKILL mid-wait, a trigger moved off a
late triggerer) wait out the triggerer health threshold and restart triggerers: marker ``long``, so they run
in ``./scripts/test-long`` (and CI), not in the README's ``./scripts/test``.

On failure the component log tails, the task logs and the emulator's counters are printed.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.e2e.airflow_stack import REPO_ROOT, AirflowStack
from tests.emulator_conn import emulator_conn_env

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

emulator_mod = pytest.importorskip("airflow_provider_mwaas.emulator", reason="emulator not available")
EmulatorServer = emulator_mod.EmulatorServer

#: MWAAS_E2E_EXAMPLE_DAG points the tests at another copy of the DAG file (same dag_id and task ids).
EXAMPLE_DAG = Path(os.environ.get("MWAAS_E2E_EXAMPLE_DAG") or REPO_ROOT / "example_dags" / "example_mwaa_serverless.py")
DAG_ID = "example_mwaa_serverless"
START_TASK = "start_workflow_run"
REPORT_TASK = "report"
TRIGGER_CLASS = "WorkflowRunCompletedTrigger"
SECONDS_PER_STATE = 0.5
RUN_TIMEOUT = 120.0
#: A cluster policy (``task_policy``): the example DAG's ``retry_delay`` (10 s) becomes 2 s on this stack.
#: The tests check what each try does, never when it starts; the DAG file itself is the one users get.
RETRY_DELAY_POLICY = """\
from datetime import timedelta


def task_policy(task):
    task.retry_delay = timedelta(seconds=2)
"""


# ---------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def emulator() -> Iterator:
    with EmulatorServer(host="127.0.0.1", port=0, transitions="time") as server:
        server.control.configure_transitions(mode="time", seconds_per_state=SECONDS_PER_STATE)
        yield server


@pytest.fixture(scope="module")
def stack(emulator) -> Iterator[AirflowStack]:
    if not EXAMPLE_DAG.exists():
        pytest.skip(f"{EXAMPLE_DAG} not written yet")
    env = {
        **emulator_conn_env(emulator.url),
        "AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE": "True",
        # mwaas_workflow_arn is set per test through the REST API (see module docstring).
        "AIRFLOW_VAR_MWAAS_WAITER_DELAY": "1",
    }
    with AirflowStack([EXAMPLE_DAG], extra_env=env, local_settings=RETRY_DELAY_POLICY) as stack:
        stack.wait_for_dag(DAG_ID)
        yield stack


@pytest.fixture
def diagnose(request, stack: AirflowStack, emulator):
    """Collects (dag run ids, workflow arns) of a test; prints logs and emulator state if it failed."""
    seen: dict[str, list[str]] = {"runs": [], "workflows": []}
    yield seen
    report = getattr(request.node, "rep_call", None)
    if report is None or not report.failed:
        return
    stack.dump_logs(lines=80)
    for run_id in seen["runs"]:
        print(f"===== task states of {run_id}: {stack.task_states(DAG_ID, run_id)}")
        for task_id in (START_TASK, REPORT_TASK):
            try:
                print(f"===== log of {task_id} in {run_id}\n{stack.task_log(DAG_ID, run_id, task_id)}")
            except Exception as exc:
                print(f"===== log of {task_id}: unavailable ({exc!r})")
    try:
        print(f"===== emulator counters: {emulator.control.counters()}")
        for arn in seen["workflows"]:
            print(f"===== emulator runs of {arn}: {emulator.control.runs(arn)}")
    except Exception as exc:
        print(f"===== emulator state unavailable ({exc!r})")


# ----------------------------------------------------------------------------------------- helpers


def new_workflow(stack: AirflowStack, emulator, diagnose, name: str) -> str:
    arn = emulator.control.create_workflow(name=name)
    diagnose["workflows"].append(arn)
    stack.set_variable("mwaas_workflow_arn", arn)
    return arn


def run_ids_of(runs: list) -> list[str]:
    """Emulator run ids, whatever casing the control API uses for the key."""
    ids = []
    for run in runs:
        for key in ("RunId", "run_id", "runId", "id"):
            if isinstance(run, dict) and key in run:
                ids.append(str(run[key]))
                break
    return ids


def failed_task_instance_ids(runs: list) -> set[str]:
    """TaskInstanceIds of failed task instances, if the control API lists them with the runs."""
    ids = set()
    for run in runs:
        for ti in (run.get("TaskInstances") or run.get("task_instances") or []) if isinstance(run, dict) else []:
            status = ti.get("Status") or ti.get("status")
            tid = ti.get("TaskInstanceId") or ti.get("task_instance_id")
            if status in {"FAILED", "UPSTREAM_FAILED"} and tid:
                ids.add(str(tid))
    return ids


def assert_deferred(stack: AirflowStack, run_id: str) -> None:
    events = stack.event_logs(DAG_ID, run_id, event="deferred")
    assert any(e["task_id"] == START_TASK for e in events), f"no 'deferred' event for {START_TASK}: {events}"


# ------------------------------------------------------------------------------------------- tests


def test_success_defers_and_starts_exactly_one_run(stack: AirflowStack, emulator, diagnose):
    arn = new_workflow(stack, emulator, diagnose, "e2e-success")
    started_before = emulator.control.counters()["runs_started"]

    run_id = stack.trigger_dag(DAG_ID)
    diagnose["runs"].append(run_id)
    run = stack.wait_for_run(DAG_ID, run_id, timeout=RUN_TIMEOUT)

    assert run["state"] == "success", stack.task_states(DAG_ID, run_id)
    assert stack.task_states(DAG_ID, run_id) == {START_TASK: "success", REPORT_TASK: "success"}
    assert_deferred(stack, run_id)

    log = stack.task_log(DAG_ID, run_id, START_TASK)
    assert "Pausing task as DEFERRED" in log or "deferred" in log.lower()
    assert TRIGGER_CLASS in log, "the provider's trigger did not run for this task"
    assert "Trigger fired event" in log and "trigger completed" in log
    # The trigger logs the state it first sees ("Waiting for workflow run X of ARN (poll ...): STATE", which
    # is already SUCCESS on a busy machine) and each change while it waits ("Workflow run X: RUNNING: 2/3 ...").
    progress = re.findall(r"[Ww]orkflow run \S+(?: of \S+ \([^)]*\))?: (STARTING|QUEUED|RUNNING|SUCCESS)\b", log)
    assert progress and progress[-1] == "SUCCESS", f"no progress lines from the trigger: {progress}"
    assert stack.trigger_log_files(DAG_ID, run_id, START_TASK), "no trigger log file written"

    emulator_runs = emulator.control.runs(arn)
    assert len(emulator_runs) == 1, emulator_runs
    assert emulator.control.counters()["runs_started"] - started_before == 1
    for emulator_run_id in run_ids_of(emulator_runs):
        assert emulator_run_id in log, "the operator's log does not name the service run id"
        assert emulator_run_id in stack.task_log(DAG_ID, run_id, REPORT_TASK), "report did not print it"


def test_failure_names_failed_task_instances(stack: AirflowStack, emulator, diagnose):
    """Every try's run fails; the task ends failed, one run per try, each try's log names the culprits.

    The example DAG has ``retries=2``: after a terminal run the next try starts a fresh run (the token
    rule), so every run of this workflow is scripted to fail.
    """
    arn = new_workflow(stack, emulator, diagnose, "e2e-failure")
    # The emulator's default definition is extract >> transform >> load.
    emulator.control.script_outcome(
        arn, status="FAILED", error_message="e2e scripted failure", failed_tasks=["transform"], count=None
    )

    run_id = stack.trigger_dag(DAG_ID)
    diagnose["runs"].append(run_id)
    run = stack.wait_for_run(DAG_ID, run_id, timeout=RUN_TIMEOUT)

    assert run["state"] == "failed"
    states = stack.task_states(DAG_ID, run_id)
    assert states[START_TASK] == "failed", states
    assert states[REPORT_TASK] == "upstream_failed", states
    assert_deferred(stack, run_id)

    ti = stack.task_instance(DAG_ID, run_id, START_TASK)
    tries = int(ti["try_number"])
    assert tries == int(ti["max_tries"]) + 1, ti
    emulator_runs = emulator.control.runs(arn)
    assert len(emulator_runs) == tries, f"expected one service run per try: {emulator_runs}"

    for n in range(1, tries + 1):
        log = stack.task_log(DAG_ID, run_id, START_TASK, try_number=n)
        assert "ended in state FAILED" in log, f"try {n} log does not report the failed run"
        assert "e2e scripted failure" in log, f"try {n} log lacks the service's error message"
        assert "transform" in log, f"try {n} log does not name the failed task instance"
    for failed_id in failed_task_instance_ids(emulator_runs):
        assert failed_id in stack.task_log(DAG_ID, run_id, START_TASK), failed_id


@pytest.mark.long  # a triggerer fault scenario: ./scripts/test-long (module docstring)
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_triggerer_killed_while_deferred(stack: AirflowStack, emulator, diagnose, sig):
    """Stop the triggerer mid-wait (graceful SIGTERM, or SIGKILL of its whole process group): a new
    triggerer resumes the trigger, the run is not stopped, and there is still exactly one run."""
    arn = new_workflow(stack, emulator, diagnose, f"e2e-triggerer-{sig.name.lower()}")
    emulator.control.hold(workflow_arn=arn)

    run_id = stack.trigger_dag(DAG_ID)
    diagnose["runs"].append(run_id)
    stack.wait_for_task_state(DAG_ID, run_id, START_TASK, ["deferred"], timeout=60)
    # The first triggerer has taken the trigger and is polling the service.
    stack.wait_for(lambda: len(stack.trigger_log_files(DAG_ID, run_id, START_TASK)) == 1, 30, "trigger to start")
    polls = _status_polls(emulator)
    stack.wait_for(lambda: _status_polls(emulator) > polls, 30, "the trigger to poll the run's status")

    stops_before = emulator.control.counters()["requests"].get("StopWorkflowRun", 0)
    t_kill = time.monotonic()
    stack.stop_triggerer(sig)
    stack.start_triggerer()
    # After SIGTERM the old job is marked finished and the trigger moves at once; after SIGKILL only
    # once the dead job's heartbeat is older than the health threshold.
    stack.wait_for(
        lambda: len(stack.trigger_log_files(DAG_ID, run_id, START_TASK)) >= 2,
        stack.triggerer_health_threshold + 45,
        "the new triggerer to take the trigger",
    )
    assert stack.task_instance(DAG_ID, run_id, START_TASK)["state"] == "deferred"
    moved_after = time.monotonic() - t_kill

    runs = emulator.control.runs(arn)
    assert len(runs) == 1, runs
    # A triggerer shutting down must not stop the run (the trigger's on_kill is for user kills only).
    assert runs[0]["Status"] in {"STARTING", "QUEUED", "RUNNING"}, runs
    stops = emulator.control.counters()["requests"].get("StopWorkflowRun", 0) - stops_before
    assert stops == 0, "the run was asked to stop"
    emulator.control.release(workflow_arn=arn)
    run = stack.wait_for_run(DAG_ID, run_id, timeout=RUN_TIMEOUT)

    assert run["state"] == "success", stack.task_states(DAG_ID, run_id)
    assert stack.task_states(DAG_ID, run_id)[START_TASK] == "success"
    assert len(emulator.control.runs(arn)) == 1, "a second workflow run was started"
    print(f"trigger moved to the new triggerer {moved_after:.1f}s after {sig.name}")


def _status_polls(emulator: Any) -> int:
    """Requests that read a run's status: coalesced listings (ListWorkflowRuns) and GetWorkflowRun."""
    requests = emulator.control.counters()["requests"]
    return requests.get("ListWorkflowRuns", 0) + requests.get("GetWorkflowRun", 0)


@pytest.mark.long  # a triggerer fault scenario: ./scripts/test-long (module docstring)
def test_a_trigger_moved_off_a_late_triggerer_leaves_its_run_running(stack: AirflowStack, emulator, diagnose):
    """Airflow 3.3 calls ``on_kill`` for a trigger its triggerer lost to another one (a late heartbeat),
    on the same path as a user's clear. Freeze the triggerer (SIGSTOP, its whole tree) past the health
    threshold: a second triggerer takes the trigger. Thaw it: it cancels its copy and calls ``on_kill``,
    which must see the task still deferred on this run and leave the run alone; the task then succeeds on
    the second triggerer with exactly one run and no StopWorkflowRun. (Last in the module: it leaves the
    stack with one triggerer again.)"""
    arn = new_workflow(stack, emulator, diagnose, "e2e-trigger-moved")
    emulator.control.hold(workflow_arn=arn)
    run_id = stack.trigger_dag(DAG_ID)
    diagnose["runs"].append(run_id)
    stack.wait_for_task_state(DAG_ID, run_id, START_TASK, ["deferred"], timeout=60)
    stack.wait_for(lambda: len(stack.trigger_log_files(DAG_ID, run_id, START_TASK)) == 1, 30, "trigger to start")
    stops_before = emulator.control.counters()["requests"].get("StopWorkflowRun", 0)

    stack.start_triggerer(name="triggerer-2")
    frozen = [psutil.Process(stack.components["triggerer"].pid)]  # the supervisor: its heartbeat stops
    _freeze_holding_no_db_lock(frozen[0], stack.home / "airflow.db")
    try:
        stack.wait_for(
            lambda: len(stack.trigger_log_files(DAG_ID, run_id, START_TASK)) >= 2,
            stack.triggerer_health_threshold + 45,
            "the second triggerer to take the trigger",
        )
    finally:
        for proc in frozen:
            with contextlib.suppress(psutil.Error):
                proc.send_signal(signal.SIGCONT)

    def moved_line_logged() -> bool:
        # the trigger's own log, or the triggerer's (where Airflow may route a cancelled trigger's lines)
        paths = [*stack.trigger_log_files(DAG_ID, run_id, START_TASK), stack.component_log_dir / "triggerer.log"]
        return any("the trigger moved to another triggerer" in path.read_text(errors="replace") for path in paths)

    # The thawed triggerer finds the trigger no longer its own and calls on_kill (Airflow >= 3.3).
    stack.wait_for(moved_line_logged, 60, "the thawed triggerer's on_kill to recognise the move")
    runs = emulator.control.runs(arn)
    assert len(runs) == 1 and runs[0]["Status"] in {"STARTING", "QUEUED", "RUNNING"}, runs
    assert emulator.control.counters()["requests"].get("StopWorkflowRun", 0) == stops_before, "the run was stopped"

    emulator.control.release(workflow_arn=arn)
    run = stack.wait_for_run(DAG_ID, run_id, timeout=RUN_TIMEOUT)
    assert run["state"] == "success", stack.task_states(DAG_ID, run_id)
    assert len(emulator.control.runs(arn)) == 1, "a second workflow run was started"
    stack.stop_triggerer(signal.SIGTERM, name="triggerer-2")


def _freeze_holding_no_db_lock(proc: psutil.Process, db: Path, attempts: int = 100) -> None:
    """SIGSTOP ``proc`` at a moment it is not writing the SQLite metadata DB (/proc/locks): a process frozen
    inside a write transaction locks every other component out of the DB (a frozen heartbeat write made the
    second triggerer die of "database is locked"), which is not the late heartbeat this test is about."""
    for _ in range(attempts):
        proc.send_signal(signal.SIGSTOP)
        time.sleep(0.05)
        if not _writing(proc.pid, db):
            return
        proc.send_signal(signal.SIGCONT)
        time.sleep(0.1)
    held = [line for line in Path("/proc/locks").read_text().splitlines() if f" {proc.pid} " in line]
    raise AssertionError(f"pid {proc.pid} was writing {db} at each of {attempts} tries: {held}")


def _writing(pid: int, db: Path) -> bool:
    """Whether ``pid`` holds SQLite's write lock on ``db``: in WAL mode a WRITE lock on the ``-shm`` file's
    bytes 120-122 (write, checkpoint, recover); in rollback mode one on the DB file from ``PENDING_BYTE``
    (every WAL connection keeps a SHARED lock on the DB file itself, which blocks no writer)."""
    shm = db.with_name(db.name + "-shm")
    wal = shm.exists()
    target = _file_id(shm if wal else db)
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if len(fields) < 8 or fields[1] == "->" or fields[4] != str(pid) or fields[5].lower() != target:
            continue
        start = int(fields[6])
        if (wal and fields[3] == "WRITE" and 120 <= start <= 122) or (not wal and start >= SQLITE_PENDING_BYTE):
            return True
    return False


def _file_id(path: Path) -> str:
    """``path`` as /proc/locks names it: "MAJOR:MINOR:INODE" (device numbers in hex)."""
    stat = path.stat()
    return f"{os.major(stat.st_dev):02x}:{os.minor(stat.st_dev):02x}:{stat.st_ino}"


#: The first byte of SQLite's rollback-mode lock range (``PENDING_BYTE``, os_unix.c).
SQLITE_PENDING_BYTE = 0x40000000
