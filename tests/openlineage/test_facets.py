"""The facet builders and the injection switch in-process (the events themselves: test_lineage_events.py)."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_mwaas.errors import WorkflowRunFailedError
from airflow_provider_mwaas.openlineage.facets import (
    EXTERNAL_QUERY_FACET,
    WORKFLOW_RUN_FACET,
    external_query_source,
    operator_lineage,
    parameter_keys,
)
from airflow_provider_mwaas.operators.mwaa_serverless import StartWorkflowRunOperator
from airflow_provider_mwaas.sensors.mwaa_serverless import WorkflowRunSensor

ARN = "arn:aws:airflow-serverless:eu-west-1:210987654321:workflow/orders-abcdefghij"


def _event(status: str, state: str, run_id: str = "run-1") -> dict[str, Any]:
    return {
        "status": status,
        "workflow_arn": ARN,
        "run_id": run_id,
        "state": state,
        "message": "Task load failed" if status == "failure" else None,
        "failed_task_instances": [],
    }


def test_the_source_names_region_account_and_workflow() -> None:
    assert external_query_source(ARN) == "airflow-serverless://eu-west-1/210987654321/orders-abcdefghij"
    assert external_query_source("not-an-arn") is None


@pytest.mark.parametrize(
    ("parameters", "keys"),
    [
        ({"b": 1, "a": {"nested": "x"}}, ["a", "b"]),
        ('{"day": "2025-01-01", "api_token": "x"}', ["api_token", "day"]),
        ("{{ not rendered JSON", []),
        ('["a list"]', []),
        (None, []),
    ],
)
def test_parameter_keys_are_the_top_level_keys_only(parameters: Any, keys: list[str]) -> None:
    assert parameter_keys(parameters) == keys


def test_an_unparsable_arn_still_gives_the_workflow_facet_but_no_external_query() -> None:
    lineage = operator_lineage(
        workflow_arn="{{ var.value.arn }}",
        workflow_version=None,
        run_id="run-1",
        state="RUNNING",
        override_parameter_keys=None,
    )
    facet = lineage.run_facets[WORKFLOW_RUN_FACET]
    assert (facet.workflowArn, facet.region, facet.accountId, facet.runId) == (
        "{{ var.value.arn }}",
        None,
        None,
        "run-1",
    )
    assert EXTERNAL_QUERY_FACET not in lineage.run_facets


def test_the_injection_default_comes_from_the_mwaas_config_section(monkeypatch: pytest.MonkeyPatch) -> None:
    def start(**kwargs: Any) -> StartWorkflowRunOperator:
        return StartWorkflowRunOperator(task_id="start", workflow_arn=ARN, **kwargs)

    assert start().openlineage_inject_parent_info is False
    monkeypatch.setenv("AIRFLOW__MWAAS__OPENLINEAGE_INJECT_PARENT_INFO", "True")
    assert start().openlineage_inject_parent_info is True
    assert start(openlineage_inject_parent_info=False).openlineage_inject_parent_info is False


def test_a_deferred_start_reports_the_run_and_state_of_the_trigger_event() -> None:
    """``execute_complete`` runs on a fresh task object: the facets come from the event."""
    op = StartWorkflowRunOperator(task_id="start", workflow_arn=ARN, override_parameters={"day": "x"})
    with pytest.raises(WorkflowRunFailedError):
        op.execute_complete({"ti": None}, _event("failure", "FAILED"), run_id="run-1")
    facets = op.get_openlineage_facets_on_failure(None).run_facets
    assert (facets[WORKFLOW_RUN_FACET].runId, facets[WORKFLOW_RUN_FACET].state) == ("run-1", "FAILED")
    assert facets[WORKFLOW_RUN_FACET].overrideParameterKeys == ["day"]
    assert facets[EXTERNAL_QUERY_FACET].externalQueryId == "run-1"


def test_a_deferred_sensor_reports_the_state_of_the_trigger_event() -> None:
    sensor = WorkflowRunSensor(task_id="watch", workflow_arn=ARN, run_id="run-9", waiter_delay=5)
    assert sensor.get_openlineage_facets_on_start().run_facets[WORKFLOW_RUN_FACET].state is None
    assert sensor.execute_complete({}, _event("success", "SUCCESS", "run-9")) == "SUCCESS"
    facet = sensor.get_openlineage_facets_on_complete(None).run_facets[WORKFLOW_RUN_FACET]
    assert (facet.runId, facet.state, facet.overrideParameterKeys) == ("run-9", "SUCCESS", None)
