"""Self-test of the e2e harness with a provider-free DAG (no emulator, no provider code).

Proves, independently of the provider, that the stack defers a task to the triggerer, that the event
log and task logs are readable over REST, and that a SIGKILLed triggerer is replaced and its trigger
resumes on the new one.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from tests.e2e.airflow_stack import AirflowStack

pytestmark = [pytest.mark.long, pytest.mark.e2e, pytest.mark.timeout(240)]

DAG_FILE = Path(__file__).parent / "dags" / "e2e_selftest_dag.py"
DAG_ID = "e2e_selftest"


@pytest.fixture(scope="module")
def stack():
    with AirflowStack([DAG_FILE]) as stack:
        stack.wait_for_dag(DAG_ID)
        yield stack


def test_deferral_and_triggerer_kill(stack: AirflowStack):
    # One run that outlives a SIGKILL of the triggerer: the new triggerer must pick up the trigger.
    run_id = stack.trigger_dag(DAG_ID, conf={"seconds": 15})
    stack.wait_for_task_state(DAG_ID, run_id, "wait", ["deferred"], timeout=60)
    first_triggerer = stack.components["triggerer"].log_path
    # Let the first triggerer take the trigger before killing it.
    stack.wait_for(lambda: "trigger starting" in stack.task_log(DAG_ID, run_id, "wait"), 30, "trigger to start")
    t_kill = time.monotonic()
    stack.stop_triggerer(signal.SIGKILL)
    new = stack.start_triggerer()
    assert new.log_path != first_triggerer

    run = stack.wait_for_run(DAG_ID, run_id, timeout=90)
    elapsed = time.monotonic() - t_kill
    assert run["state"] == "success", stack.task_states(DAG_ID, run_id)
    assert stack.task_states(DAG_ID, run_id) == {"wait": "success", "report": "success"}
    assert stack.event_logs(DAG_ID, run_id, event="deferred"), "no 'deferred' event logged"
    log = stack.task_log(DAG_ID, run_id, "wait")
    assert "resumed after trigger" in log
    print(f"run finished {elapsed:.1f}s after the SIGKILL")
