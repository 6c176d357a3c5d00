"""WorkflowRunSensor: poke mode against the emulator, deferrable mode end to end through the trigger."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import boto3
import pytest
import structlog
from airflow.sdk.exceptions import TaskDeferred

from airflow_provider_mwaas.errors import InvalidParameterError, WorkflowRunFailedError
from airflow_provider_mwaas.links.mwaa_serverless import WorkflowRunLink
from airflow_provider_mwaas.sensors.mwaa_serverless import WorkflowRunSensor
from airflow_provider_mwaas.triggers.mwaa_serverless import WorkflowRunCompletedTrigger

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def start_run(emulator: Any, workflow_arn: str) -> Any:
    client = boto3.client("mwaa-serverless", region_name="us-east-1", endpoint_url=emulator.url)

    def start() -> str:
        return str(client.start_workflow_run(WorkflowArn=workflow_arn)["RunId"])

    return start


def sensor(workflow_arn: str, run_id: str, **kwargs: Any) -> WorkflowRunSensor:
    return WorkflowRunSensor(task_id="wait", workflow_arn=workflow_arn, run_id=run_id, **kwargs)


class RecordingTaskInstance:
    """Just enough of a task instance for execute(): records xcom_push calls."""

    def __init__(self) -> None:
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


def poke_until_done(s: WorkflowRunSensor, limit: int = 10) -> int:
    for pokes in range(1, limit + 1):
        if s.poke({}):  # type: ignore[arg-type]
            return pokes
    raise AssertionError(f"not done after {limit} pokes")


# -- poke mode ---------------------------------------------------------------------------------------------


def test_poke_returns_true_once_the_run_succeeds_and_logs_progress(
    aws_conn_env: str, workflow_arn: str, start_run: Any
) -> None:
    run_id = start_run()
    s = sensor(workflow_arn, run_id, aws_conn_id=aws_conn_env)
    with structlog.testing.capture_logs() as logs:
        assert poke_until_done(s) > 1
    messages = [entry["event"] for entry in logs]
    assert f"Workflow run {run_id}: SUCCESS: 3/3 task instances done" in messages


def test_poke_raises_with_diagnostics_when_the_run_fails(
    aws_conn_env: str, emulator: Any, workflow_arn: str, start_run: Any
) -> None:
    emulator.control.script_outcome(workflow_arn, status="FAILED", error_message="load blew up", failed_tasks=["load"])
    s = sensor(workflow_arn, start_run(), aws_conn_id=aws_conn_env)
    with pytest.raises(WorkflowRunFailedError) as info:
        poke_until_done(s)
    text = str(info.value)
    assert "ended in state FAILED: load blew up" in text
    assert "Failed task instances (1)" in text
    assert "- load (" in text


def test_poke_succeeds_on_a_custom_in_flight_success_state(
    aws_conn_env: str, emulator: Any, workflow_arn: str, start_run: Any
) -> None:
    emulator.control.hold(workflow_arn=workflow_arn)
    s = sensor(workflow_arn, start_run(), aws_conn_id=aws_conn_env, success_states=["RUNNING"])
    poke_until_done(s)


def test_terminal_state_outside_both_sets_fails_instead_of_waiting_forever(
    aws_conn_env: str, emulator: Any, workflow_arn: str, start_run: Any
) -> None:
    emulator.control.script_outcome(workflow_arn, status="TIMEOUT", error_message="too slow")
    s = sensor(workflow_arn, start_run(), aws_conn_id=aws_conn_env, failure_states=["FAILED"])
    with pytest.raises(WorkflowRunFailedError, match="ended in state TIMEOUT: too slow"):
        poke_until_done(s)


# -- arguments ---------------------------------------------------------------------------------------------


def test_overlapping_success_and_failure_states_are_refused() -> None:
    with pytest.raises(InvalidParameterError) as info:
        sensor("arn:x", "run-1", success_states=["SUCCESS", "STOPPED"])
    assert info.value.field == "failure_states"
    assert "STOPPED" in str(info.value)


def test_unknown_state_names_are_refused_naming_the_field() -> None:
    with pytest.raises(InvalidParameterError) as info:
        sensor("arn:x", "run-1", failure_states=["FAILED", "CRASHED"])
    assert info.value.field == "failure_states"
    assert "CRASHED" in str(info.value)


def test_construction_does_no_io() -> None:
    s = sensor("arn:x", "run-1", aws_conn_id="does_not_exist", region_name="eu-west-1")
    assert "hook" not in vars(s)


def test_timeout_is_waiter_delay_times_max_attempts() -> None:
    s = sensor("arn:x", "run-1", waiter_delay=5, waiter_max_attempts=4)
    assert (s.poke_interval, s.timeout) == (5, 20)


def test_airflow_style_poke_interval_and_timeout_seed_the_waiter_settings() -> None:
    s = sensor("arn:x", "run-1", poke_interval=timedelta(seconds=30), timeout=100)
    assert (s.waiter_delay, s.waiter_max_attempts) == (30, 4)
    assert (s.poke_interval, s.timeout) == (30, 120)


def test_templated_fields_include_run_and_every_aws_param() -> None:
    assert set(WorkflowRunSensor.template_fields) == {
        "workflow_arn",
        "run_id",
        "events_queue_url",
        "aws_conn_id",
        "region_name",
        "verify",
        "botocore_config",
    }


# -- deferrable mode -----------------------------------------------------------------------------------------


def test_deferrable_sensor_defers_at_once_carrying_every_hook_param() -> None:
    s = sensor(
        "arn:aws:airflow-serverless:us-east-1:123456789012:workflow/orders-abcdef1234",
        "run-1",
        deferrable=True,
        waiter_delay=15,
        waiter_max_attempts=8,
        success_states=["SUCCESS"],
        aws_conn_id="my_conn",
        region_name="eu-central-1",
        verify=False,
        botocore_config={"retries": {"mode": "adaptive"}},
    )
    ti = RecordingTaskInstance()
    with pytest.raises(TaskDeferred) as info:
        s.execute({"ti": ti})  # type: ignore[arg-type]
    assert ti.pushed[WorkflowRunLink.key] == {"workflow_arn": s.workflow_arn, "run_id": "run-1"}
    deferred = info.value
    assert deferred.method_name == "execute_complete"
    trigger = deferred.trigger
    assert isinstance(trigger, WorkflowRunCompletedTrigger)
    kwargs = trigger.serialize()[1]
    assert {k: kwargs[k] for k in ("aws_conn_id", "region_name", "verify", "botocore_config")} == {
        "aws_conn_id": "my_conn",
        "region_name": "eu-central-1",
        "verify": False,
        "botocore_config": {"retries": {"mode": "adaptive"}},
    }
    assert kwargs["stop_on_kill"] is False
    assert (kwargs["waiter_delay"], kwargs["waiter_max_attempts"]) == (15, 8)
    assert deferred.timeout is not None and deferred.timeout >= timedelta(seconds=120)


def test_deferrable_sensor_carries_its_events_queue_to_the_trigger() -> None:
    url = "https://sqs.us-east-1.amazonaws.com/123456789012/mwaa-events"
    s = sensor(
        "arn:aws:airflow-serverless:us-east-1:123456789012:workflow/orders-abcdef1234",
        "run-1",
        deferrable=True,
        events_queue_url=url,
        events_safety_interval=120,
    )
    with pytest.raises(TaskDeferred) as info:
        s.execute({"ti": RecordingTaskInstance()})  # type: ignore[arg-type]
    kwargs = info.value.trigger.serialize()[1]
    assert (kwargs["events_queue_url"], kwargs["events_safety_interval"]) == (url, 120)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"events_queue_url": "not a url"}, "events_queue_url"),
        ({"events_safety_interval": -5}, "events_safety_interval"),
    ],
)
@pytest.mark.parametrize("deferrable", [True, False], ids=["deferred", "poke"])
def test_bad_events_parameters_fail_the_sensor_before_any_request(
    emulator: Any, kwargs: dict[str, Any], field: str, deferrable: bool
) -> None:
    s = sensor("arn:aws:airflow-serverless:us-east-1:123456789012:workflow/orders-abcdef1234", "run-1", **kwargs)
    s.deferrable = deferrable
    with pytest.raises(InvalidParameterError) as info:
        s.execute({"ti": RecordingTaskInstance()})  # type: ignore[arg-type]
    assert info.value.field == field
    assert sum(emulator.control.counters()["requests"].values()) == 0


async def test_deferrable_sensor_end_to_end_returns_the_final_state(
    aws_conn_env: str, workflow_arn: str, start_run: Any
) -> None:
    run_id = start_run()
    s = sensor(workflow_arn, run_id, aws_conn_id=aws_conn_env, deferrable=True, waiter_delay=1, waiter_max_attempts=30)
    with pytest.raises(TaskDeferred) as info:
        s.execute({"ti": RecordingTaskInstance()})  # type: ignore[arg-type]
    events = [event async for event in info.value.trigger.run()]
    assert getattr(s, info.value.method_name)({}, event=events[0].payload) == "SUCCESS"


async def test_deferrable_sensor_end_to_end_fails_with_diagnostics(
    aws_conn_env: str, emulator: Any, workflow_arn: str, start_run: Any
) -> None:
    emulator.control.script_outcome(workflow_arn, status="FAILED", error_message="load blew up", failed_tasks=["load"])
    s = sensor(workflow_arn, start_run(), aws_conn_id=aws_conn_env, deferrable=True, waiter_delay=1)
    with pytest.raises(TaskDeferred) as info:
        s.execute({"ti": RecordingTaskInstance()})  # type: ignore[arg-type]
    events = [event async for event in info.value.trigger.run()]
    with pytest.raises(WorkflowRunFailedError, match=r"(?s)load blew up.*- load \("):
        s.execute_complete({}, event=events[0].payload)  # type: ignore[arg-type]


def test_deferrable_defaults_to_the_operators_default_deferrable_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    import inspect

    default = inspect.signature(WorkflowRunSensor.__init__).parameters["deferrable"].default
    assert default is False  # [operators] default_deferrable is unset in the test environment


# -- Airflow's sensor settings -------------------------------------------------------------------------------


def test_poke_interval_and_timeout_from_default_args_seed_the_waiter_settings() -> None:
    s = sensor("arn:x", "run-1", default_args={"poke_interval": 30, "timeout": 120})
    assert (s.waiter_delay, s.waiter_max_attempts) == (30, 4)
    assert (s.poke_interval, s.timeout) == (30, 120)


def test_a_dags_default_args_reach_the_sensor_like_any_airflow_sensor() -> None:
    import pendulum
    from airflow.sdk import DAG

    default_args = {"poke_interval": timedelta(seconds=15), "timeout": 45}
    with DAG("sensor_defaults", schedule=None, start_date=pendulum.datetime(2025, 1, 1), default_args=default_args):
        s = sensor("arn:x", "run-1")
        explicit = WorkflowRunSensor(
            task_id="explicit", workflow_arn="arn:x", run_id="run-1", waiter_delay=5, waiter_max_attempts=2
        )
    assert (s.waiter_delay, s.waiter_max_attempts, s.poke_interval, s.timeout) == (15, 3, 15, 45)
    assert (explicit.poke_interval, explicit.timeout) == (5, 10), "the waiter settings win over default_args"


# -- the sensor's timeout means the same in every mode ---------------------------------------------------------


def _run_to_the_end(s: WorkflowRunSensor) -> Any:
    """Execute the sensor as Airflow would: poke on the worker, or defer, run the trigger, resume."""
    import asyncio

    ti = RecordingTaskInstance()
    try:
        return s.execute({"ti": ti})  # type: ignore[arg-type]
    except TaskDeferred as deferred:
        events = asyncio.run(_events(deferred.trigger))
        return s.resume_execution(deferred.method_name, {"event": events[0].payload}, {})  # type: ignore[arg-type]


async def _events(trigger: Any) -> list[Any]:
    return [event async for event in trigger.run()]


def held_run_sensor(emulator: Any, workflow_arn: str, start_run: Any, conn_id: str, **kwargs: Any) -> WorkflowRunSensor:
    """A sensor polling every second (two polls unless ``kwargs`` say otherwise) on a run held RUNNING."""
    emulator.control.hold(workflow_arn=workflow_arn)
    params = {"aws_conn_id": conn_id, "waiter_delay": 1, "waiter_max_attempts": 2, **kwargs}
    return sensor(workflow_arn, start_run(), **params)


@pytest.mark.parametrize("soft_fail", [False, True], ids=["fails", "soft_fail"])
@pytest.mark.parametrize("deferrable", [False, True], ids=["poke", "deferred"])
def test_sensor_timeout_is_airflow_sensor_timeout_in_every_mode_and_soft_fail_skips(
    aws_conn_env: str, emulator: Any, workflow_arn: str, start_run: Any, deferrable: bool, soft_fail: bool
) -> None:
    from airflow.sdk.exceptions import AirflowSensorTimeout, AirflowSkipException

    s = held_run_sensor(emulator, workflow_arn, start_run, aws_conn_env, deferrable=deferrable, soft_fail=soft_fail)
    with pytest.raises(AirflowSkipException if soft_fail else AirflowSensorTimeout):
        _run_to_the_end(s)
    # left alone: still in flight (how far it got depends on how many polls a busy machine fitted in), never stopped
    [run] = emulator.control.runs(workflow_arn)
    assert run["Status"] in {"STARTING", "QUEUED", "RUNNING"}, run
    assert emulator.control.counters()["requests"].get("StopWorkflowRun", 0) == 0


def test_execution_timeout_bounds_a_deferred_sensor_which_leaves_the_run_alone(
    aws_conn_env: str, emulator: Any, workflow_arn: str, start_run: Any
) -> None:
    import asyncio

    from airflow.sdk.exceptions import AirflowTaskTimeout

    s = held_run_sensor(
        emulator,
        workflow_arn,
        start_run,
        aws_conn_env,
        deferrable=True,
        waiter_max_attempts=60,
        execution_timeout=timedelta(seconds=2),
    )
    with pytest.raises(TaskDeferred) as info:
        s.execute({"ti": RecordingTaskInstance()})  # type: ignore[arg-type]
    events = asyncio.run(asyncio.wait_for(_events(info.value.trigger), timeout=20))
    assert events[0].payload["timeout_kind"] == "execution_timeout"
    with pytest.raises(AirflowTaskTimeout, match="execution_timeout"):
        s.resume_execution(info.value.method_name, {"event": events[0].payload}, {})  # type: ignore[arg-type]
    assert [run["Status"] for run in emulator.control.runs(workflow_arn)] == ["RUNNING"], "a sensor never stops a run"
