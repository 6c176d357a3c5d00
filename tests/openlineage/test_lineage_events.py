"""OpenLineage through real Airflow (``dag.test()``) and the openlineage provider's file transport.

One interpreter runs every DAG below with OpenLineage on (the provider reads its configuration once per
process); the tests then read the events it wrote, what Airflow recorded and the emulator's runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.openlineage.harness import NAMESPACE, LineageRun, run_lineage

pytestmark = pytest.mark.usefixtures("airflow_db")

VALUE = "plain-value-5d1e"  # an override parameter value: must never reach an event
SECRET = "s3cr3t-token-91ab"  # under api_token (masked by Airflow): must never reach an event either
# The run the start task persisted for its link (pushed before the wait, so also when the start fails).
XCOM_RUN_ID = "{{ ti.xcom_pull(task_ids='start', key='mwaa_serverless_workflow_run')['run_id'] }}"


@pytest.fixture(scope="module")
def lineage(emulator_server: Any, airflow_db: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Run the DAGs once: their workflows' ARNs, the emulator's runs per workflow and the interpreter's report."""
    control = emulator_server.control
    control.reset()
    # Each state lasts 3 GetWorkflowRun calls: the retry DAG's first try gives up after 3 polls, in flight.
    control.configure_transitions(mode="call", calls_per_state=3)
    arns = {
        name: control.create_workflow(name=name)
        for name in ("ok", "fail", "inject", "retry", "token", "own", "nowait", "watch", "lost")
    }
    control.script_outcome(
        arns["fail"], status="FAILED", error_message="Task transform failed", failed_tasks=["transform"]
    )
    control.script_outcome(arns["lost"], status="TIMEOUT", error_message="Run exceeded its timeout")
    params = {"day": VALUE, "api_token": SECRET}

    def start(arn: str, **kwargs: Any) -> dict[str, Any]:
        return {"kind": "start", "task_id": "start", "kwargs": {"workflow_arn": arn, **kwargs}}

    def sensor(arn: str) -> dict[str, Any]:
        # Runs after the start task however it ended; the run has ended by then: one poke, no sleep.
        kwargs = {"workflow_arn": arn, "run_id": XCOM_RUN_ID, "waiter_delay": 1, "trigger_rule": "all_done"}
        return {"kind": "sensor", "task_id": "watch", "kwargs": kwargs}

    spec = {
        "dags": [
            {"dag_id": "lineage_ok", "tasks": [start(arns["ok"], override_parameters=params)]},
            {"dag_id": "lineage_fail", "tasks": [start(arns["fail"], override_parameters={"day": VALUE})]},
            {
                "dag_id": "lineage_inject",
                "tasks": [start(arns["inject"], override_parameters=params, openlineage_inject_parent_info=True)],
            },
            {
                "dag_id": "lineage_retry",
                "retries": 1,
                "tasks": [
                    start(
                        arns["retry"],
                        openlineage_inject_parent_info=True,
                        waiter_max_attempts="{{ 3 if ti.try_number == 1 else 30 }}",
                    )
                ],
            },
            {
                "dag_id": "lineage_token",
                "retries": 1,
                "tasks": [
                    start(
                        arns["token"],
                        client_token="lineage-explicit-token",
                        openlineage_inject_parent_info=True,
                        waiter_max_attempts="{{ 3 if ti.try_number == 1 else 30 }}",
                    )
                ],
            },
            {
                "dag_id": "lineage_own_key",
                "tasks": [
                    start(
                        arns["own"],
                        override_parameters={"openlineage": {"parentRunId": "mine"}},
                        openlineage_inject_parent_info=True,
                    )
                ],
            },
            {"dag_id": "lineage_no_wait", "tasks": [start(arns["nowait"], wait_for_completion=False)]},
            {"dag_id": "lineage_sensor_ok", "tasks": [start(arns["watch"]), sensor(arns["watch"])]},
            {"dag_id": "lineage_sensor_fail", "tasks": [start(arns["lost"]), sensor(arns["lost"])]},
        ]
    }
    report = run_lineage(spec, tmp_path_factory.mktemp("lineage"), emulator_server.url)
    print({r["dag_id"]: r["seconds"] for r in report.results})
    runs = {name: control.runs(arn) for name, arn in arns.items()}
    return {"arns": arns, "runs": runs, "report": report, "outcomes": {r["dag_id"]: r for r in report.results}}


def _facet(event: dict[str, Any], name: str = "mwaaServerlessWorkflowRun") -> dict[str, Any]:
    return event["run"]["facets"][name]


def _source(arn: str) -> str:
    _, _, _, region, account, resource = arn.split(":")
    return f"airflow-serverless://{region}/{account}/{resource.removeprefix('workflow/')}"


def _only(events: list[dict[str, Any]]) -> dict[str, Any]:
    assert len(events) == 1, [e["eventType"] for e in events]
    return events[0]


def test_a_successful_run_emits_the_workflow_on_start_and_the_run_on_complete(lineage: dict[str, Any]) -> None:
    report: LineageRun = lineage["report"]
    arn, (run,) = lineage["arns"]["ok"], lineage["runs"]["ok"]
    assert lineage["outcomes"]["lineage_ok"]["state"] == "success"

    start = _only(report.task_events("lineage_ok", "start", "START"))
    assert start["job"]["namespace"] == NAMESPACE
    assert _facet(start) == {
        "_producer": _facet(start)["_producer"],
        "_schemaURL": _facet(start)["_schemaURL"],
        "workflowArn": arn,
        "workflowName": arn.rsplit("/", 1)[1],
        "region": "us-east-1",
        "accountId": "123456789012",
        "overrideParameterKeys": ["api_token", "day"],
    }  # no run yet: no runId, no state, no externalQuery
    assert "externalQuery" not in start["run"]["facets"]
    assert _facet(start)["_schemaURL"].endswith(
        "airflow_provider_mwaas/openlineage/MwaaServerlessWorkflowRunFacet.json"
    )

    complete = _only(report.task_events("lineage_ok", "start", "COMPLETE"))
    assert complete["run"]["runId"] == start["run"]["runId"]
    facet = _facet(complete)
    assert (facet["runId"], facet["state"], facet["workflowArn"]) == (run["RunId"], "SUCCESS", arn)
    assert facet["overrideParameterKeys"] == ["api_token", "day"]
    assert facet["workflowVersion"] == run["WorkflowVersion"]  # none was asked for: the one the run executed
    assert _facet(complete, "externalQuery")["externalQueryId"] == run["RunId"]
    assert _facet(complete, "externalQuery")["source"] == _source(arn)


def test_injection_is_off_by_default_and_the_parameters_are_sent_untouched(lineage: dict[str, Any]) -> None:
    (run,) = lineage["runs"]["ok"]
    assert run["OverrideParameters"] == {"day": VALUE, "api_token": SECRET}


def test_a_failed_run_emits_a_fail_event_with_the_run_and_its_state(lineage: dict[str, Any]) -> None:
    report: LineageRun = lineage["report"]
    arn, (run,) = lineage["arns"]["fail"], lineage["runs"]["fail"]
    assert lineage["outcomes"]["lineage_fail"]["task_states"]["start"] == "failed"

    fail = _only(report.task_events("lineage_fail", "start", "FAIL"))
    assert report.task_events("lineage_fail", "start", "COMPLETE") == []
    facet = _facet(fail)
    assert (facet["runId"], facet["state"], facet["overrideParameterKeys"]) == (run["RunId"], "FAILED", ["day"])
    assert _facet(fail, "externalQuery") | {"_producer": None, "_schemaURL": None} == {
        "_producer": None,
        "_schemaURL": None,
        "externalQueryId": run["RunId"],
        "source": _source(arn),
    }
    assert "Task transform failed" in json.dumps(fail["run"]["facets"].get("errorMessage", {}))


def test_no_override_parameter_value_reaches_any_event(lineage: dict[str, Any]) -> None:
    report: LineageRun = lineage["report"]
    assert len(report.events) >= 18  # every task's START and COMPLETE/FAIL at least
    assert VALUE not in report.events_text
    assert SECRET not in report.events_text


def test_injection_on_sends_the_parent_keys_that_name_this_tasks_openlineage_run(lineage: dict[str, Any]) -> None:
    report: LineageRun = lineage["report"]
    (run,) = lineage["runs"]["inject"]
    start = _only(report.task_events("lineage_inject", "start", "START"))

    assert run["OverrideParameters"] == {
        "day": VALUE,
        "api_token": SECRET,
        "openlineage": {
            "parentJobNamespace": NAMESPACE,
            "parentJobName": "lineage_inject.start",
            "parentRunId": start["run"]["runId"],
        },
    }
    complete = _only(report.task_events("lineage_inject", "start", "COMPLETE"))
    assert _facet(complete)["overrideParameterKeys"] == ["api_token", "day", "openlineage"]
    assert _facet(complete)["runId"] == run["RunId"]


def test_a_retry_with_injection_resends_the_first_trys_parent_and_reattaches(lineage: dict[str, Any]) -> None:
    """The token rule holds with injection on: try 2 sends what try 1 sent and gets try 1's run back."""
    report: LineageRun = lineage["report"]
    outcome = lineage["outcomes"]["lineage_retry"]
    assert (outcome["state"], outcome["try_numbers"]["start"]) == ("success", 2)
    (run,) = lineage["runs"]["retry"]  # one run: re-attached, not a second one
    assert run["ClientToken"].endswith("-g0")

    starts = report.task_events("lineage_retry", "start", "START")
    assert len(starts) == 2
    first_try, second_try = (event["run"]["runId"] for event in starts)
    assert first_try != second_try  # OpenLineage's run id is per try...
    assert run["OverrideParameters"]["openlineage"]["parentRunId"] == first_try  # ...the parent is the first try
    assert "ConflictException" not in report.output  # a plain replay, not the conflict path

    fail = _only(report.task_events("lineage_retry", "start", "FAIL"))  # try 1 ran out of polls
    assert (fail["run"]["runId"], _facet(fail)["runId"]) == (first_try, run["RunId"])
    assert _facet(fail)["state"] in {"STARTING", "QUEUED", "RUNNING"}
    complete = _only(report.task_events("lineage_retry", "start", "COMPLETE"))
    assert (complete["run"]["runId"], _facet(complete)["runId"], _facet(complete)["state"]) == (
        second_try,
        run["RunId"],
        "SUCCESS",
    )


def test_with_an_explicit_client_token_every_try_sends_try_ones_parent(lineage: dict[str, Any]) -> None:
    """An explicit token has no derived generations: a retry that sent other parameters would fail with a
    ConflictException. Try 2 sends try 1's parent and gets the same run back."""
    report: LineageRun = lineage["report"]
    outcome = lineage["outcomes"]["lineage_token"]
    assert (outcome["state"], outcome["try_numbers"]["start"]) == ("success", 2)
    (run,) = lineage["runs"]["token"]
    assert run["ClientToken"] == "lineage-explicit-token"
    first_try, _ = (event["run"]["runId"] for event in report.task_events("lineage_token", "start", "START"))
    assert run["OverrideParameters"]["openlineage"]["parentRunId"] == first_try


def test_a_users_own_openlineage_key_is_left_alone(lineage: dict[str, Any]) -> None:
    (run,) = lineage["runs"]["own"]
    assert run["OverrideParameters"] == {"openlineage": {"parentRunId": "mine"}}


def test_a_start_without_waiting_emits_the_state_the_run_had_when_started(lineage: dict[str, Any]) -> None:
    report: LineageRun = lineage["report"]
    (run,) = lineage["runs"]["nowait"]
    facet = _facet(_only(report.task_events("lineage_no_wait", "start", "COMPLETE")))
    assert (facet["runId"], facet["state"]) == (run["RunId"], "STARTING")


def test_the_sensor_emits_the_run_it_watches_with_its_final_state(lineage: dict[str, Any]) -> None:
    report: LineageRun = lineage["report"]
    arn, (run,) = lineage["arns"]["watch"], lineage["runs"]["watch"]
    assert lineage["outcomes"]["lineage_sensor_ok"]["state"] == "success"

    start = _only(report.task_events("lineage_sensor_ok", "watch", "START"))
    assert _facet(start)["runId"] == run["RunId"]  # known from the rendered template at start
    assert "overrideParameterKeys" not in _facet(start)  # the sensor sends no parameters
    complete = _only(report.task_events("lineage_sensor_ok", "watch", "COMPLETE"))
    assert (_facet(complete)["runId"], _facet(complete)["state"]) == (run["RunId"], "SUCCESS")
    assert _facet(complete, "externalQuery")["source"] == _source(arn)


def test_the_sensor_emits_a_fail_event_with_the_failed_state(lineage: dict[str, Any]) -> None:
    report: LineageRun = lineage["report"]
    (run,) = lineage["runs"]["lost"]
    assert lineage["outcomes"]["lineage_sensor_fail"]["task_states"]["watch"] == "failed"
    fail = _only(report.task_events("lineage_sensor_fail", "watch", "FAIL"))
    assert (_facet(fail)["runId"], _facet(fail)["state"]) == (run["RunId"], "TIMEOUT")
    assert _facet(fail, "externalQuery")["externalQueryId"] == run["RunId"]


def test_without_the_openlineage_provider_dags_parse_and_run_and_parameters_are_untouched(
    emulator: Any, workflow_arn: str, tmp_path: Path
) -> None:
    """The openlineage packages hidden (a meta-path blocker): the example DAGs parse, a start with
    injection on runs against the emulator, sends its parameters as given and says why."""
    from tests.conftest import REPO_ROOT

    spec = {
        "block_openlineage": True,
        "parse_folder": str(REPO_ROOT / "example_dags"),
        "dags": [
            {
                "dag_id": "lineage_absent",
                "tasks": [
                    {
                        "kind": "start",
                        "task_id": "start",
                        "kwargs": {
                            "workflow_arn": workflow_arn,
                            "override_parameters": {"day": VALUE},
                            "openlineage_inject_parent_info": True,
                        },
                    },
                    {
                        "kind": "sensor",
                        "task_id": "watch",
                        "kwargs": {"workflow_arn": workflow_arn, "run_id": XCOM_RUN_ID, "waiter_delay": 1},
                    },
                ],
            }
        ],
    }
    report = run_lineage(spec, tmp_path, emulator.url)

    assert report.openlineage_modules == []  # nothing of OpenLineage was importable, nor imported
    assert report.parsed is not None and report.parsed["import_errors"] == {}
    assert "example_mwaa_serverless" in report.parsed["dag_ids"]
    assert report.results[0]["state"] == "success"
    assert report.results[0]["task_states"] == {"start": "success", "watch": "success"}
    (run,) = emulator.control.runs(workflow_arn)
    assert run["OverrideParameters"] == {"day": VALUE}
    assert "the openlineage provider is not installed" in report.output
    assert report.events == []
