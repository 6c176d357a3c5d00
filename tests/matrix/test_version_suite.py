"""The version suite: what every supported Airflow must do with the provider, against the emulator.

``scripts/test-matrix`` runs this module (marker ``matrix``) in one venv per Airflow version, with the
provider installed from its built wheel, and prints a table of version x check; each test is one check
(its name after ``test_``). The main suite runs it too, on the pinned Airflow. Only
``airflow.providers.common.compat`` and ``tests.airflow_runs`` are used to reach Airflow, so the same
test runs on 2.11 and on 3.x.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pendulum
import pytest

from airflow_provider_mwaas.operators.mwaa_serverless import StartWorkflowRunOperator
from airflow_provider_mwaas.sensors.mwaa_serverless import WorkflowRunSensor
from airflow_provider_mwaas.triggers.mwaa_serverless import WorkflowRunCompletedTrigger
from tests.airflow_runs import dagbag, run_dag

pytestmark = [pytest.mark.matrix, pytest.mark.timeout(240)]

EXAMPLE_DAGS = Path(__file__).resolve().parents[2] / "example_dags"
PROVIDER = "airflow-provider-mwaas"
_dag_ids = itertools.count()


def _dag(*, retries: int = 0) -> Any:
    from airflow.providers.common.compat.sdk import DAG

    return DAG(
        dag_id=f"matrix_{next(_dag_ids)}",
        schedule=None,
        start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
        default_args={"retries": retries, "retry_delay": timedelta(seconds=0)},
    )


def _start(workflow_arn: str, **kwargs: Any) -> StartWorkflowRunOperator:
    params = {"aws_conn_id": "mwaa_serverless_default", "waiter_delay": 0, "deferrable": False, **kwargs}
    return StartWorkflowRunOperator(task_id="start", workflow_arn=workflow_arn, **params)


@pytest.fixture
def count_trigger_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Run ids the trigger waited on in this process (``dag.test()`` runs triggers inline)."""
    seen: list[str] = []
    original = WorkflowRunCompletedTrigger.run

    def run(self: WorkflowRunCompletedTrigger) -> Any:
        seen.append(self.run_id)
        return original(self)

    monkeypatch.setattr(WorkflowRunCompletedTrigger, "run", run)
    return seen


def _airflow_json(*commands: tuple[str, ...]) -> list[Any]:
    """Run ``airflow <command> -o json`` for each command, in parallel (each CLI start takes seconds)."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "airflow", *command, "-o", "json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=os.environ.copy(),
        )
        for command in commands
    ]
    outputs = []
    for command, proc in zip(commands, procs, strict=True):
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, (command, err[-3000:])
        outputs.append(_last_json(out))
    return outputs


def _last_json(out: str) -> Any:
    """The JSON document that ends ``out`` (some releases log lines before it on stdout)."""
    lines = out.splitlines()
    for start in range(len(lines)):
        if lines[start].lstrip().startswith(("[{", "[]", "{")):
            try:
                return json.loads("\n".join(lines[start:]))
            except ValueError:
                continue
    raise AssertionError(f"no JSON in the output: {out[-2000:]}")


# -- the checks, in the table's column order ---------------------------------------------------------------


@pytest.mark.skipif(not os.environ.get("MWAAS_MATRIX"), reason="scripts/test-matrix only (the main suite is editable)")
def test_wheel() -> None:
    """The provider under test is the installed wheel, not the source tree."""
    import airflow_provider_mwaas

    assert "site-packages" in Path(airflow_provider_mwaas.__file__).parts, airflow_provider_mwaas.__file__
    assert (Path(airflow_provider_mwaas.__file__).parent / "py.typed").is_file()


def test_discovery() -> None:
    """``airflow providers get/hooks/links/triggers`` list the provider and what it declares."""
    get, hooks, links, triggers = _airflow_json(
        ("providers", "get", PROVIDER), ("providers", "hooks"), ("providers", "links"), ("providers", "triggers")
    )
    assert PROVIDER in json.dumps(get)
    assert any(h.get("connection_type") == "mwaa_serverless" and "MwaaServerlessHook" in json.dumps(h) for h in hooks)
    assert "airflow_provider_mwaas.links.mwaa_serverless.WorkflowRunLink" in json.dumps(links)
    assert "airflow_provider_mwaas.triggers.mwaa_serverless" in json.dumps(triggers)


@pytest.mark.usefixtures("airflow_db", "aws_conn_env")
def test_start_worker_wait(emulator: Any, workflow_arn: str) -> None:
    """Start a run and wait for it on the worker."""
    with _dag() as dag:
        _start(workflow_arn)
    outcome = run_dag(dag)

    assert outcome.state == "success", outcome.task_states
    (run,) = emulator.control.runs(workflow_arn)
    assert outcome.xcom("start") == run["RunId"]
    assert outcome.xcom("start", "status") == "SUCCESS"


@pytest.mark.usefixtures("airflow_db", "aws_conn_env")
def test_start_deferred(emulator: Any, workflow_arn: str, count_trigger_runs: list[str]) -> None:
    """Start a run and wait for it in the trigger (``dag.test()`` runs it inline)."""
    with _dag() as dag:
        _start(workflow_arn, deferrable=True, waiter_delay=1)
    outcome = run_dag(dag)

    assert outcome.state == "success", outcome.task_states
    (run,) = emulator.control.runs(workflow_arn)
    assert count_trigger_runs == [run["RunId"]]
    assert outcome.xcom("start", "status") == "SUCCESS"


def _sensor_dag(emulator: Any, workflow_arn: str, **kwargs: Any) -> tuple[Any, str]:
    client = boto3.client("mwaa-serverless", region_name="us-east-1", endpoint_url=emulator.url)
    run_id = str(client.start_workflow_run(WorkflowArn=workflow_arn)["RunId"])
    with _dag() as dag:
        WorkflowRunSensor(
            task_id="wait",
            workflow_arn=workflow_arn,
            run_id=run_id,
            aws_conn_id="mwaa_serverless_default",
            waiter_delay=1,
            waiter_max_attempts=30,
            **kwargs,
        )
    return dag, run_id


@pytest.mark.usefixtures("airflow_db", "aws_conn_env")
def test_sensor_poke(emulator: Any, workflow_arn: str) -> None:
    """The sensor pokes on the worker until the run succeeds."""
    dag, _ = _sensor_dag(emulator, workflow_arn, mode="poke", deferrable=False)
    outcome = run_dag(dag)

    assert outcome.state == "success", outcome.task_states


def _parse_reschedule_date_as_the_task_runner_does(monkeypatch: pytest.MonkeyPatch) -> bool:
    """Airflow 3.0's ``dag.test()`` hands a sensor the first reschedule date as an unparsed string.

    Its API client builds the reply with ``model_construct`` (no validation); a real task process
    receives it through the supervisor's JSON channel, which parses it, but ``dag.test()`` runs the task
    in-process and skips that step, so ``BaseSensorOperator`` subtracts a string from a datetime.
    Parse it as the channel does. Returns whether the patch was needed (fixed in Airflow 3.1).
    """
    try:
        from airflow.sdk.api.client import TaskInstanceOperations
        from airflow.sdk.execution_time.comms import TaskRescheduleStartDate
    except ImportError:  # Airflow 2: no Task SDK
        return False
    original = TaskInstanceOperations.get_reschedule_start_date
    if "model_construct" not in getattr(original, "__code__", None).co_names:  # type: ignore[union-attr]
        return False

    def parsed(self: Any, *args: Any, **kwargs: Any) -> Any:
        reply = original(self, *args, **kwargs)
        return TaskRescheduleStartDate.model_validate({"start_date": reply.start_date})

    monkeypatch.setattr(TaskInstanceOperations, "get_reschedule_start_date", parsed)
    return True


@pytest.mark.usefixtures("airflow_db", "aws_conn_env")
def test_sensor_reschedule(
    emulator: Any, workflow_arn: str, monkeypatch: pytest.MonkeyPatch, record_property: Any
) -> None:
    """The sensor gives its slot back between pokes (``mode="reschedule"``) until the run succeeds."""
    from airflow.models.taskreschedule import TaskReschedule
    from airflow.utils.session import create_session

    if _parse_reschedule_date_as_the_task_runner_does(monkeypatch):
        record_property(
            "note", "dag.test() on Airflow 3.0 leaves the reschedule date unparsed: the test parses it as a task does"
        )
    dag, _ = _sensor_dag(emulator, workflow_arn, mode="reschedule", deferrable=False)
    outcome = run_dag(dag)

    assert outcome.state == "success", outcome.task_states
    with create_session() as session:
        assert session.query(TaskReschedule).count() >= 1


@pytest.mark.usefixtures("airflow_db", "aws_conn_env")
def test_sensor_deferred(emulator: Any, workflow_arn: str, count_trigger_runs: list[str]) -> None:
    """The sensor defers to the trigger at once and resumes with the final state."""
    dag, run_id = _sensor_dag(emulator, workflow_arn, deferrable=True)
    outcome = run_dag(dag)

    assert outcome.state == "success", outcome.task_states
    assert count_trigger_runs == [run_id]
    assert outcome.xcom("wait") == "SUCCESS"


@pytest.mark.usefixtures("airflow_db")
def test_trigger_roundtrip() -> None:
    """The trigger survives Airflow's own storage of triggers (kwargs encrypted in the DB and back)."""
    import importlib

    from airflow.models.trigger import Trigger

    trigger = WorkflowRunCompletedTrigger(
        workflow_arn="arn:aws:airflow-serverless:us-east-1:123456789012:workflow/orders-AbCdEfGhIj",
        run_id="run-1",
        waiter_delay=5,
        waiter_max_attempts=3,
        deadline=1_800_000_000.5,
        stop_on_kill=True,
        success_states=["SUCCESS"],
        aws_conn_id="mwaa_serverless_default",
        region_name="eu-west-1",
        verify=False,
        botocore_config={"retries": {"mode": "adaptive", "max_attempts": 4}},
    )
    row = Trigger.from_object(trigger)
    module, name = row.classpath.rsplit(".", 1)
    revived = getattr(importlib.import_module(module), name)(**row.kwargs)

    assert revived.serialize() == trigger.serialize()


@pytest.mark.usefixtures("airflow_db", "aws_conn_env")
def test_retry_reattach(emulator: Any, workflow_arn: str) -> None:
    """The token rule: a retry whose earlier run is still in flight re-attaches to it."""
    emulator.control.configure_transitions(mode="call", calls_per_state=3)
    with _dag(retries=1) as dag:
        _start(workflow_arn, waiter_max_attempts="{{ 3 if ti.try_number == 1 else 30 }}")
    outcome = run_dag(dag)

    assert outcome.state == "success", outcome.task_states
    assert outcome.try_numbers["start"] == 2
    (run,) = emulator.control.runs(workflow_arn)
    assert outcome.xcom("start") == run["RunId"]
    assert outcome.xcom("start", "client_token").endswith("-g0")


def test_test_connection(emulator: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """``test_connection()`` (the UI's Test button) passes for a ``mwaa_serverless`` connection."""
    from airflow_provider_mwaas.hooks.mwaa_serverless import MwaaServerlessHook

    conn = {
        "conn_type": "mwaa_serverless",
        "login": "testing",
        "password": "testing",
        "extra": {"region_name": "us-east-1", "endpoint_url": emulator.url},
    }
    monkeypatch.setenv("AIRFLOW_CONN_MWAAS_MATRIX", json.dumps(conn))
    ok, message = MwaaServerlessHook(aws_conn_id="mwaas_matrix").test_connection()

    assert ok, message
    assert message.startswith("Connection works: ListWorkflows answered in us-east-1")


@pytest.mark.usefixtures("airflow_db", "aws_conn_env")
def test_example_dags(workflow_arn: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every example DAG imports with no error, and the main one runs to success."""
    bag = dagbag(str(EXAMPLE_DAGS))
    assert bag.import_errors == {}
    assert {"example_mwaa_serverless", "example_mwaa_serverless_deploy"} <= set(bag.dag_ids)
    monkeypatch.setenv("AIRFLOW_VAR_MWAAS_WORKFLOW_ARN", workflow_arn)
    monkeypatch.setenv("AIRFLOW_VAR_MWAAS_WAITER_DELAY", "0")
    dag = bag.get_dag("example_mwaa_serverless")
    dag.get_task("start_workflow_run").deferrable = False

    outcome = run_dag(dag)

    assert outcome.state == "success", outcome.task_states
