"""Property tests: for any run-state sequence the emulator can produce, the operator, the sensor and the
trigger end in the right task state; and the token rule holds for arbitrary ids.

The emulator produces ``STARTING -> QUEUED -> RUNNING -> SUCCESS | FAILED | TIMEOUT``, or, when the run is
stopped, ``... -> STOPPING -> STOPPED``; how many reads each state lasts is ``calls_per_state``. Hypothesis
draws the ending, the pace, and when a stop arrives; the real classes run against the emulator server.
Example counts are small on purpose (each operator example is a real ``dag.test()``).
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import boto3
import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_provider_mwaas.errors import WorkflowRunFailedError
from airflow_provider_mwaas.operators.client_token import derive_client_token
from tests.airflow_runs import run_dag

ENDINGS = ("SUCCESS", "FAILED", "TIMEOUT", "STOPPED")
EXPECTED_TASK_STATE = {"SUCCESS": "success", "FAILED": "failed", "TIMEOUT": "failed", "STOPPED": "failed"}


def _examples(n: int) -> settings:
    """``n`` examples, no deadline (real I/O), derandomized (CI-stable); fixtures are reset per example."""
    return settings(
        max_examples=n, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )


endings = st.sampled_from(ENDINGS)
paces = st.integers(min_value=1, max_value=2)
#: reads of the run before a stop arrives (STOPPED endings only)
stop_after = st.integers(min_value=0, max_value=1)
_dag_ids = itertools.count()


def _client(emulator: Any) -> Any:
    return boto3.client("mwaa-serverless", endpoint_url=emulator.url, region_name="us-east-1")


def _arrange(emulator: Any, ending: str, pace: int) -> str:
    """A fresh emulator with ``pace`` reads per state and a workflow whose next run ends ``ending``."""
    ctl = emulator.control
    ctl.reset()
    ctl.configure_transitions(mode="call", calls_per_state=pace)
    arn = ctl.create_workflow(name="prop")
    if ending in ("FAILED", "TIMEOUT"):
        ctl.script_outcome(arn, status=ending, count=None)
    return arn


def _started_run(emulator: Any, arn: str, ending: str, reads_before_stop: int, token: str = "prop-token") -> str:
    """Start a run (as another system would) and, for a STOPPED ending, stop it after some reads."""
    client = _client(emulator)
    run_id = client.start_workflow_run(WorkflowArn=arn, ClientToken=token)["RunId"]
    if ending == "STOPPED":
        for _ in range(reads_before_stop):
            client.get_workflow_run(WorkflowArn=arn, RunId=run_id)
        client.stop_workflow_run(WorkflowArn=arn, RunId=run_id)
    return run_id


@pytest.mark.usefixtures("airflow_db")
@_examples(5)
@given(ending=endings, pace=paces, reads_before_stop=stop_after)
def test_operator_ends_in_the_task_state_the_run_ending_implies(
    emulator_server: Any, aws_conn_env: str, ending: str, pace: int, reads_before_stop: int
) -> None:
    from airflow.sdk import DAG

    from airflow_provider_mwaas.operators.mwaa_serverless import StartWorkflowRunOperator

    arn = _arrange(emulator_server, ending, pace)
    kwargs: dict[str, Any] = {}
    if ending == "STOPPED":  # the operator re-attaches (explicit token) to a run someone stopped
        _started_run(emulator_server, arn, ending, reads_before_stop, token="prop-stopped")
        kwargs["client_token"] = "prop-stopped"
    with DAG(
        f"prop_operator_{next(_dag_ids)}",
        schedule=None,
        start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
        default_args={"retries": 0, "retry_delay": timedelta(seconds=0)},
    ) as dag:
        StartWorkflowRunOperator(
            task_id="start", workflow_arn=arn, aws_conn_id=aws_conn_env, waiter_delay=0, deferrable=False, **kwargs
        )

    outcome = run_dag(dag)

    assert outcome.task_states["start"] == EXPECTED_TASK_STATE[ending]
    assert outcome.xcom("start", "status") == ending
    assert len(emulator_server.control.runs(arn)) == 1


@_examples(15)
@given(ending=endings, pace=paces, reads_before_stop=stop_after)
def test_sensor_pokes_until_the_ending_and_fails_on_any_failure_state(
    emulator_server: Any, aws_conn_env: str, ending: str, pace: int, reads_before_stop: int
) -> None:
    from airflow_provider_mwaas.sensors.mwaa_serverless import WorkflowRunSensor

    arn = _arrange(emulator_server, ending, pace)
    run_id = _started_run(emulator_server, arn, ending, reads_before_stop)
    sensor = WorkflowRunSensor(task_id="watch", workflow_arn=arn, run_id=run_id, aws_conn_id=aws_conn_env)

    task_state = None
    for _ in range(20):  # the longest sequence is 5 states x 2 reads
        try:
            if sensor.poke({}):
                task_state = "success"
                break
        except WorkflowRunFailedError as err:
            assert ending in str(err)
            task_state = "failed"
            break
    assert task_state == EXPECTED_TASK_STATE[ending]


@_examples(4)
@given(ending=endings, pace=st.just(1), reads_before_stop=stop_after)
async def test_trigger_event_resumes_the_task_into_the_right_state(
    emulator_server: Any, aws_conn_env: str, ending: str, pace: int, reads_before_stop: int
) -> None:
    from airflow_provider_mwaas.triggers.mwaa_serverless import WorkflowRunCompletedTrigger
    from airflow_provider_mwaas.triggers.trigger_events import handle_workflow_run_event

    arn = _arrange(emulator_server, ending, pace)
    run_id = _started_run(emulator_server, arn, ending, reads_before_stop)
    trigger = WorkflowRunCompletedTrigger(
        workflow_arn=arn, run_id=run_id, waiter_delay=1, waiter_max_attempts=30, aws_conn_id=aws_conn_env
    )

    events = [event async for event in trigger.run()]

    assert len(events) == 1
    try:
        state = handle_workflow_run_event(events[0].payload, run_id=run_id, workflow_arn=arn)  # execute_complete
        task_state = "success"
        assert state == ending
    except WorkflowRunFailedError:
        task_state = "failed"
    assert task_state == EXPECTED_TASK_STATE[ending]


ids = st.text(min_size=1, max_size=250)


@settings(max_examples=200, deadline=None)
@given(dag_id=ids, task_id=ids, run_id=ids, map_index=st.integers(-1, 10_000), generation=st.integers(0, 50))
def test_the_token_is_valid_for_the_service_and_names_its_generation(
    dag_id: str, task_id: str, run_id: str, map_index: int, generation: int
) -> None:
    from airflow_provider_mwaas.service.constraints import validate_input

    token = derive_client_token(dag_id, task_id, run_id, map_index, generation)
    arn = "arn:aws:airflow-serverless:us-east-1:123456789012:workflow/orders-abcdefghij"
    assert validate_input("StartWorkflowRun", {"WorkflowArn": arn, "ClientToken": token}) == []
    assert token.endswith(f"-g{generation}")
    assert token == derive_client_token(dag_id, task_id, run_id, map_index, generation)
    assert token != derive_client_token(dag_id, task_id, run_id, map_index + 1, generation)
    assert token != derive_client_token(dag_id, task_id, run_id, map_index, generation + 1)
