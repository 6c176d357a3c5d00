"""Property test: over any sequence of tries, retries, clears and run outcomes, the token rule starts
exactly the runs the README's table says, and each try gets the run the table says.

The task instance follows Airflow's own arithmetic: each try bumps ``try_number``; a clear sets
``max_tries = try_number + retries`` and, with ``stop_on_kill``, stops the run in flight. A retry is
only possible while ``try_number <= max_tries``. The operator's start-or-attach step runs for real
against the emulator server (boto3 over HTTP); the run's outcome is then set through the emulator.
A model of the table predicts, for every try, whether it starts a new run or takes the earlier one.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import boto3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_provider_mwaas.operators.mwaa_serverless import StartWorkflowRunOperator

RETRIES = 2
#: What happens to a try's run before the try ends: the try fails (retry), or the task is cleared.
OUTCOMES = ("SUCCESS", "FAILED", "IN_FLIGHT", "STOPPED", "STOPPING")
_dag_runs = itertools.count()


@dataclass
class _Task:
    retries: int = RETRIES


@dataclass
class _TI:
    """The attributes of a runtime task instance the rule reads (Airflow 3's RuntimeTaskInstance has them)."""

    run_id: str
    dag_id: str = "prop_dag"
    task_id: str = "start"
    map_index: int = -1
    try_number: int = 0
    max_tries: int = RETRIES
    task: _Task = field(default_factory=_Task)


def _set_outcome(client: Any, control: Any, arn: str, run_id: str, outcome: str) -> None:
    """Move a run (held RUNNING by the emulator until released) to ``outcome``; an ended run stays."""
    state = _state(client, arn, run_id)
    if outcome == "IN_FLIGHT" or state not in ("STARTING", "QUEUED", "RUNNING"):
        return
    if outcome in ("STOPPED", "STOPPING"):
        client.stop_workflow_run(WorkflowArn=arn, RunId=run_id)
        if outcome == "STOPPED":
            _state(client, arn, run_id)
        return
    if outcome == "FAILED":
        control.script_outcome(arn, status="FAILED", run_id=run_id)
    control.release(run_id=run_id)
    for _ in range(6):
        if _state(client, arn, run_id) == outcome:
            return
    raise AssertionError(f"run {run_id} did not reach {outcome}")


steps = st.lists(
    st.one_of(st.tuples(st.just("try"), st.sampled_from(OUTCOMES)), st.tuples(st.just("clear"), st.just(""))),
    min_size=1,
    max_size=7,
)


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=steps)
def test_runs_per_attempt_are_exactly_what_the_table_says(
    emulator: Any, workflow_arn: str, aws_conn_env: str, steps: list[tuple[str, str]]
) -> None:
    control = emulator.control
    client = boto3.client("mwaa-serverless", endpoint_url=emulator.url, region_name="us-east-1")
    operator = StartWorkflowRunOperator(task_id="start", workflow_arn=workflow_arn, aws_conn_id=aws_conn_env)
    ti = _TI(run_id=f"prop_{next(_dag_runs)}")
    expected_runs = 0
    current: str | None = None  # the run the latest try used
    fresh_attempt = True
    runs_before = len(control.runs(workflow_arn))
    control.hold(workflow_arn=workflow_arn)  # runs stay RUNNING (however often read) until an outcome is set

    for action, outcome in steps:
        if action == "clear":
            ti.max_tries = ti.try_number + ti.task.retries
            if current is not None and _state(client, workflow_arn, current) in ("STARTING", "QUEUED", "RUNNING"):
                client.stop_workflow_run(WorkflowArn=workflow_arn, RunId=current)  # stop_on_kill
            fresh_attempt = True
            continue
        if ti.try_number > ti.max_tries:
            continue  # out of retries: only a clear lets the task run again
        ti.try_number += 1
        earlier_state = _state(client, workflow_arn, current) if current is not None else None
        run_id, *_ = operator._start_or_attach({"ti": ti}, None)  # type: ignore[arg-type]

        if fresh_attempt or earlier_state not in ("STARTING", "QUEUED", "RUNNING", "SUCCESS"):
            expected_runs += 1
            assert run_id != current, f"try {ti.try_number} should have started a new run, steps={steps}"
        else:
            assert run_id == current, f"try {ti.try_number} should have taken {current} ({earlier_state})"
        assert len(control.runs(workflow_arn)) - runs_before == expected_runs, steps
        current, fresh_attempt = run_id, False
        _set_outcome(client, control, workflow_arn, run_id, outcome)


def _state(client: Any, arn: str, run_id: str) -> str:
    return str(client.get_workflow_run(WorkflowArn=arn, RunId=run_id)["RunDetail"]["RunState"])
