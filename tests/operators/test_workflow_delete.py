"""DeleteWorkflowOperator through real Airflow (dag.test) against the emulator over HTTP."""

from __future__ import annotations

import itertools
from typing import Any

import boto3
import pendulum
import pytest

from airflow_provider_mwaas.emulator.definitions import default_definition
from airflow_provider_mwaas.operators.mwaa_serverless_workflow import DeleteWorkflowOperator
from tests.airflow_runs import run_dag

pytestmark = pytest.mark.usefixtures("airflow_db")
_dag_ids = itertools.count()


@pytest.fixture
def mwaas(emulator: Any) -> Any:
    return boto3.client("mwaa-serverless", endpoint_url=emulator.url, region_name="us-east-1")


def _two_versions(mwaas: Any, arn: str) -> tuple[str, str]:
    """Make a second version of ``arn`` (same definition, new description); return (v1, v2)."""
    live = mwaas.get_workflow(WorkflowArn=arn)
    v2 = mwaas.update_workflow(
        WorkflowArn=arn, DefinitionS3Location=live["DefinitionS3Location"], RoleArn=live["RoleArn"], Description="v2"
    )["WorkflowVersion"]
    return live["WorkflowVersion"], v2


def _delete_dag(**kwargs: Any) -> Any:
    from airflow.sdk import DAG

    dag = DAG(dag_id=f"test_delete_{next(_dag_ids)}", schedule=None, start_date=pendulum.datetime(2025, 1, 1, tz="UTC"))
    with dag:
        DeleteWorkflowOperator(task_id="delete", aws_conn_id="mwaa_serverless_default", **kwargs)
    return dag


def test_delete_of_one_version_keeps_the_others_and_the_previous_becomes_latest(
    emulator: Any, workflow_arn: str, aws_conn_env: str, mwaas: Any
) -> None:
    v1, v2 = _two_versions(mwaas, workflow_arn)

    outcome = run_dag(_delete_dag(workflow_arn=workflow_arn, workflow_version=v2))

    assert outcome.state == "success"
    assert outcome.xcom("delete") == workflow_arn
    versions = mwaas.list_workflow_versions(WorkflowArn=workflow_arn)["WorkflowVersions"]
    assert [(v["WorkflowVersion"], v["IsLatestVersion"]) for v in versions] == [(v1, True)]
    assert mwaas.get_workflow(WorkflowArn=workflow_arn)["WorkflowVersion"] == v1
    with pytest.raises(mwaas.exceptions.ResourceNotFoundException):
        mwaas.get_workflow(WorkflowArn=workflow_arn, WorkflowVersion=v2)
    with pytest.raises(mwaas.exceptions.ResourceNotFoundException):
        mwaas.start_workflow_run(WorkflowArn=workflow_arn, WorkflowVersion=v2)


def test_delete_without_a_version_deletes_the_workflow_and_all_its_versions(
    emulator: Any, workflow_arn: str, aws_conn_env: str, mwaas: Any
) -> None:
    _two_versions(mwaas, workflow_arn)
    other = emulator.control.create_workflow(name="other")

    outcome = run_dag(_delete_dag(workflow_arn=workflow_arn))

    assert outcome.state == "success"
    with pytest.raises(mwaas.exceptions.ResourceNotFoundException):
        mwaas.get_workflow(WorkflowArn=workflow_arn)
    with pytest.raises(mwaas.exceptions.ResourceNotFoundException):
        mwaas.list_workflow_versions(WorkflowArn=workflow_arn)
    assert [w["WorkflowArn"] for w in mwaas.list_workflows()["Workflows"]] == [other]


def test_delete_by_name_finds_the_workflow(emulator: Any, aws_conn_env: str, mwaas: Any) -> None:
    arn = emulator.control.create_workflow(name="orders", definition_yaml=default_definition("orders"))

    outcome = run_dag(_delete_dag(workflow_name="orders"))

    assert outcome.xcom("delete") == arn
    assert mwaas.list_workflows()["Workflows"] == []


def test_delete_of_what_is_already_gone_succeeds_and_sends_no_delete_for_an_unknown_name(
    emulator: Any, workflow_arn: str, aws_conn_env: str, mwaas: Any
) -> None:
    first = run_dag(_delete_dag(workflow_arn=workflow_arn))
    again = run_dag(_delete_dag(workflow_arn=workflow_arn))
    by_name = run_dag(_delete_dag(workflow_name="never_created"))

    assert [first.state, again.state, by_name.state] == ["success", "success", "success"]
    assert again.xcom("delete") is None
    assert by_name.xcom("delete") is None
    assert emulator.control.counters()["requests"]["DeleteWorkflow"] == 2


def test_delete_of_a_missing_version_fails_when_missing_is_not_ok(
    emulator: Any, workflow_arn: str, aws_conn_env: str, mwaas: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    outcome = run_dag(_delete_dag(workflow_arn=workflow_arn, workflow_version="0" * 32, missing_ok=False))

    assert outcome.task_states["delete"] == "failed"
    assert "does not exist" in "".join(capfd.readouterr())
    assert mwaas.get_workflow(WorkflowArn=workflow_arn)["WorkflowArn"] == workflow_arn
