"""Service semantics: workflows and versions, runs, idempotency, progression, stop, task instances."""

from __future__ import annotations

import re
import time
from typing import Any

import boto3
import pytest

from airflow_provider_mwaas.emulator import EmulatorControl, mock_mwaa_serverless
from airflow_provider_mwaas.service.model import service_model

from .conftest import error_of, make_client

RUN_ID = re.compile(r"[a-zA-Z0-9]+[a-zA-Z0-9\.\-_]*")
ARN = re.compile(r"arn:aws:airflow-serverless:us-east-1:123456789012:workflow/demo-[a-zA-Z0-9]{10}")


def poll(client: Any, arn: str, run_id: str) -> str:
    return str(client.get_workflow_run(WorkflowArn=arn, RunId=run_id)["RunDetail"]["RunState"])


# -- workflows -------------------------------------------------------------------------------------


def upload(body: str, key: str = "wf.yaml") -> dict[str, str]:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="defs")
    s3.put_object(Bucket="defs", Key=key, Body=body.encode())
    return {"Bucket": "defs", "ObjectKey": key}


ROLE = "arn:aws:iam::123456789012:role/r"
YAML = "dag:\n  tasks:\n    a: {operator: x.EmptyOperator}\n    b: {operator: x.BashOperator, dependencies: [a]}\n"


def test_create_workflow_reads_the_definition_from_moto_s3(emulator: EmulatorControl, client: Any) -> None:
    location = upload(YAML)
    created = client.create_workflow(Name="demo", DefinitionS3Location=location, RoleArn=ROLE, Tags={"team": "data"})
    assert ARN.fullmatch(created["WorkflowArn"])
    assert re.fullmatch(r"[a-z0-9]{32}", created["WorkflowVersion"]) and created["IsLatestVersion"]
    got = client.get_workflow(WorkflowArn=created["WorkflowArn"])
    assert got["Name"] == "demo" and got["DefinitionS3Location"] == location and got["RoleArn"] == ROLE
    assert client.list_tags_for_resource(ResourceArn=created["WorkflowArn"])["Tags"] == {"team": "data"}


@pytest.mark.parametrize(
    "body",
    ["a: [unclosed", "just a string", "dag:\n  tasks: {}\n", "dag:\n  tasks:\n    a: {dependencies: [missing]}\n"],
)
def test_definition_that_is_not_a_yaml_dag_is_refused(emulator: EmulatorControl, client: Any, body: str) -> None:
    response = error_of(lambda: client.create_workflow(Name="demo", DefinitionS3Location=upload(body), RoleArn=ROLE))
    assert response["Error"]["Code"] == "ValidationException"
    assert response["FieldList"][0]["Name"] == "DefinitionS3Location"


def test_missing_definition_is_refused(emulator: EmulatorControl, client: Any) -> None:
    response = error_of(
        lambda: client.create_workflow(
            Name="demo", DefinitionS3Location={"Bucket": "nope", "ObjectKey": "k"}, RoleArn=ROLE
        )
    )
    assert response["Error"]["Code"] == "ValidationException"
    assert "s3://nope/k" in response["Error"]["Message"]


def test_create_is_idempotent_per_client_token_and_names_are_unique(emulator: EmulatorControl, client: Any) -> None:
    location = upload(YAML)
    first = client.create_workflow(Name="demo", DefinitionS3Location=location, RoleArn=ROLE, ClientToken="t1")
    again = client.create_workflow(Name="demo", DefinitionS3Location=location, RoleArn=ROLE, ClientToken="t1")
    assert again["WorkflowArn"] == first["WorkflowArn"]
    response = error_of(
        lambda: client.create_workflow(Name="demo", DefinitionS3Location=location, RoleArn=ROLE, ClientToken="t2")
    )
    assert response["Error"]["Code"] == "ConflictException"


def test_update_makes_a_new_version_and_old_versions_stay_readable(emulator: EmulatorControl, client: Any) -> None:
    arn = emulator.create_workflow("demo")
    v1 = client.get_workflow(WorkflowArn=arn)["WorkflowVersion"]
    updated = client.update_workflow(
        WorkflowArn=arn, DefinitionS3Location=upload(YAML, "v2.yaml"), RoleArn=ROLE, Description="second"
    )
    v2 = updated["WorkflowVersion"]
    assert v2 != v1
    assert client.get_workflow(WorkflowArn=arn)["WorkflowVersion"] == v2
    assert client.get_workflow(WorkflowArn=arn, WorkflowVersion=v1)["WorkflowVersion"] == v1
    versions = client.list_workflow_versions(WorkflowArn=arn)["WorkflowVersions"]
    assert [(v["WorkflowVersion"], v["IsLatestVersion"]) for v in versions] == [(v2, True), (v1, False)]
    missing = "0" * 32
    assert (
        error_of(lambda: client.get_workflow(WorkflowArn=arn, WorkflowVersion=missing))["Error"]["Code"]
        == "ResourceNotFoundException"
    )
    run = client.start_workflow_run(WorkflowArn=arn, WorkflowVersion=v1)
    assert client.get_workflow_run(WorkflowArn=arn, RunId=run["RunId"])["WorkflowVersion"] == v1
    listed = client.list_workflow_runs(WorkflowArn=arn, WorkflowVersion=v2)["WorkflowRuns"]
    assert listed == []


def test_list_and_delete_workflows(emulator: EmulatorControl, client: Any) -> None:
    arns = [emulator.create_workflow(f"wf{i}") for i in range(3)]
    page = client.list_workflows(MaxResults=2)
    rest = client.list_workflows(MaxResults=2, NextToken=page["NextToken"])
    assert [w["WorkflowArn"] for w in page["Workflows"] + rest["Workflows"]] == arns
    assert "NextToken" not in rest
    client.delete_workflow(WorkflowArn=arns[0])
    assert error_of(lambda: client.get_workflow(WorkflowArn=arns[0]))["Error"]["Code"] == "ResourceNotFoundException"
    assert len(client.list_workflows()["Workflows"]) == 2


def test_tag_and_untag(emulator: EmulatorControl, client: Any) -> None:
    arn = emulator.create_workflow("demo")
    client.tag_resource(ResourceArn=arn, Tags={"a": "1", "b": "2"})
    client.untag_resource(ResourceArn=arn, TagKeys=["a"])
    assert client.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"b": "2"}
    other = arn[:-10] + "ZZZZZZZZZZ"
    assert (
        error_of(lambda: client.tag_resource(ResourceArn=other, Tags={"a": "1"}))["Error"]["Code"]
        == "ResourceNotFoundException"
    )


# -- runs ------------------------------------------------------------------------------------------


def test_start_on_unknown_workflow_is_resource_not_found(emulator: EmulatorControl, client: Any) -> None:
    arn = "arn:aws:airflow-serverless:us-east-1:123456789012:workflow/ghost-abcdefghij"
    response = error_of(lambda: client.start_workflow_run(WorkflowArn=arn))
    assert response["Error"]["Code"] == "ResourceNotFoundException"
    assert response["ResourceType"] == "Workflow" and response["ResourceId"] == arn
    assert emulator.counters()["runs_started"] == 0


def test_same_client_token_and_parameters_returns_the_same_run(emulator: EmulatorControl, client: Any) -> None:
    arn = emulator.create_workflow("demo")
    first = client.start_workflow_run(WorkflowArn=arn, ClientToken="tok", OverrideParameters={"x": 1})
    assert RUN_ID.fullmatch(first["RunId"]) and first["Status"] == "STARTING"
    again = client.start_workflow_run(WorkflowArn=arn, ClientToken="tok", OverrideParameters={"x": 1})
    assert again["RunId"] == first["RunId"]
    assert emulator.counters()["runs_started"] == 1 and len(emulator.runs()) == 1


def test_same_client_token_returns_the_run_even_when_it_ended(emulator: EmulatorControl, client: Any) -> None:
    arn = emulator.create_workflow("demo")
    run_id = client.start_workflow_run(WorkflowArn=arn, ClientToken="tok")["RunId"]
    while poll(client, arn, run_id) != "SUCCESS":
        pass
    again = client.start_workflow_run(WorkflowArn=arn, ClientToken="tok")
    assert again["RunId"] == run_id and again["Status"] == "SUCCESS"
    assert emulator.counters()["runs_started"] == 1


def test_same_client_token_with_other_parameters_is_a_conflict(emulator: EmulatorControl, client: Any) -> None:
    arn = emulator.create_workflow("demo")
    run_id = client.start_workflow_run(WorkflowArn=arn, ClientToken="tok", OverrideParameters={"x": 1})["RunId"]
    response = error_of(
        lambda: client.start_workflow_run(WorkflowArn=arn, ClientToken="tok", OverrideParameters={"x": 2})
    )
    assert response["Error"]["Code"] == "ConflictException"
    assert response["ResourceId"] == run_id
    assert emulator.counters()["runs_started"] == 1


def test_each_read_advances_the_run_one_state_in_call_mode(emulator: EmulatorControl, client: Any) -> None:
    arn = emulator.create_workflow("demo")
    run_id = client.start_workflow_run(WorkflowArn=arn)["RunId"]
    states = [poll(client, arn, run_id) for _ in range(4)]
    assert states == ["QUEUED", "RUNNING", "SUCCESS", "SUCCESS"]
    detail = client.get_workflow_run(WorkflowArn=arn, RunId=run_id)["RunDetail"]
    assert detail["CompletedOn"] >= detail["StartedOn"] and detail["Duration"] >= 0
    assert "ErrorMessage" not in detail


def test_calls_per_state_slows_call_driven_runs() -> None:
    with mock_mwaa_serverless(transitions="call", calls_per_state=2):
        arn = EmulatorControl().create_workflow("demo")
        client = make_client()
        run_id = client.start_workflow_run(WorkflowArn=arn)["RunId"]
        assert [poll(client, arn, run_id) for _ in range(4)] == ["STARTING", "QUEUED", "QUEUED", "RUNNING"]


def test_time_driven_runs_catch_up_on_every_elapsed_state() -> None:
    with mock_mwaa_serverless(transitions="time", seconds_per_state=0.2):
        arn = EmulatorControl().create_workflow("demo")
        client = make_client()
        run_id = client.start_workflow_run(WorkflowArn=arn)["RunId"]
        assert poll(client, arn, run_id) == "STARTING"
        time.sleep(0.45)
        assert poll(client, arn, run_id) == "RUNNING"
        time.sleep(0.25)
        detail = client.get_workflow_run(WorkflowArn=arn, RunId=run_id)["RunDetail"]
        assert detail["RunState"] == "SUCCESS"
        assert (detail["CompletedOn"] - detail["StartedOn"]).total_seconds() == pytest.approx(0.6, abs=0.1)


def test_configure_transitions_switches_mode(emulator: EmulatorControl, client: Any) -> None:
    arn = emulator.create_workflow("demo")
    run_id = client.start_workflow_run(WorkflowArn=arn)["RunId"]
    emulator.configure_transitions("time", seconds_per_state=0)
    assert poll(client, arn, run_id) == "SUCCESS"
    assert emulator.transitions()["mode"] == "time"
    with pytest.raises(ValueError, match="mode"):
        emulator.configure_transitions("sometimes")


def test_listing_runs_reads_them_too(emulator: EmulatorControl, client: Any) -> None:
    arn = emulator.create_workflow("demo")
    client.start_workflow_run(WorkflowArn=arn)
    summaries = [
        client.list_workflow_runs(WorkflowArn=arn)["WorkflowRuns"][0]["RunDetailSummary"]["Status"] for _ in range(3)
    ]
    assert summaries == ["QUEUED", "RUNNING", "SUCCESS"]


def test_stop_moves_through_stopping_to_stopped(emulator: EmulatorControl, client: Any) -> None:
    arn = emulator.create_workflow("demo")
    run_id = client.start_workflow_run(WorkflowArn=arn)["RunId"]
    poll(client, arn, run_id)
    poll(client, arn, run_id)  # RUNNING
    stopped = client.stop_workflow_run(WorkflowArn=arn, RunId=run_id)
    assert stopped["Status"] == "STOPPING" and stopped["RunId"] == run_id
    assert client.stop_workflow_run(WorkflowArn=arn, RunId=run_id)["Status"] == "STOPPING"
    assert poll(client, arn, run_id) == "STOPPED"
    detail = client.get_workflow_run(WorkflowArn=arn, RunId=run_id)["RunDetail"]
    assert detail["CompletedOn"] and detail["Duration"] >= 0
    tis = client.list_task_instances(WorkflowArn=arn, RunId=run_id)["TaskInstances"]
    assert {t["Status"] for t in tis} == {"CANCELLED"}
    assert client.stop_workflow_run(WorkflowArn=arn, RunId=run_id)["Status"] == "STOPPED"


def test_stop_of_a_finished_run_keeps_its_state(emulator: EmulatorControl, client: Any) -> None:
    arn = emulator.create_workflow("demo")
    run_id = client.start_workflow_run(WorkflowArn=arn)["RunId"]
    while poll(client, arn, run_id) != "SUCCESS":
        pass
    assert client.stop_workflow_run(WorkflowArn=arn, RunId=run_id)["Status"] == "SUCCESS"


def test_unknown_run_is_resource_not_found(emulator: EmulatorControl, client: Any) -> None:
    arn = emulator.create_workflow("demo")
    for call in (
        lambda: client.get_workflow_run(WorkflowArn=arn, RunId="nope"),
        lambda: client.stop_workflow_run(WorkflowArn=arn, RunId="nope"),
        lambda: client.list_task_instances(WorkflowArn=arn, RunId="nope"),
    ):
        assert error_of(call)["Error"]["Code"] == "ResourceNotFoundException"


def test_task_instances_follow_the_definition_and_the_run(emulator: EmulatorControl, client: Any) -> None:
    arn = emulator.create_workflow("demo")
    run_id = client.start_workflow_run(WorkflowArn=arn)["RunId"]

    def statuses() -> dict[str, str]:
        tis = client.list_task_instances(WorkflowArn=arn, RunId=run_id)["TaskInstances"]
        return {t["TaskInstanceId"]: t["Status"] for t in tis}

    assert statuses() == {"extract": "SCHEDULED", "transform": "SCHEDULED", "load": "SCHEDULED"}
    poll(client, arn, run_id)
    poll(client, arn, run_id)
    assert statuses() == {"extract": "RUNNING", "transform": "SCHEDULED", "load": "SCHEDULED"}
    poll(client, arn, run_id)
    assert set(statuses().values()) == {"SUCCESS"}
    ti = client.get_task_instance(WorkflowArn=arn, RunId=run_id, TaskInstanceId="transform")
    assert ti["OperatorName"] == "BashOperator" and ti["Status"] == "SUCCESS" and ti["TaskId"] == "transform"
    detail = client.get_workflow_run(WorkflowArn=arn, RunId=run_id)["RunDetail"]
    assert detail["TaskInstances"] == ["extract", "transform", "load"]
    page = client.list_task_instances(WorkflowArn=arn, RunId=run_id, MaxResults=2)
    assert len(page["TaskInstances"]) == 2 and page["NextToken"]
    assert (
        error_of(lambda: client.get_task_instance(WorkflowArn=arn, RunId=run_id, TaskInstanceId="zzz"))["Error"]["Code"]
        == "ResourceNotFoundException"
    )


def test_list_workflow_runs_is_newest_first_and_paginates(emulator: EmulatorControl, client: Any) -> None:
    arn = emulator.create_workflow("demo")
    started = [client.start_workflow_run(WorkflowArn=arn)["RunId"] for _ in range(5)]
    seen, token, pages = [], None, 0
    while True:
        kwargs = {"NextToken": token} if token else {}
        page = client.list_workflow_runs(WorkflowArn=arn, MaxResults=2, **kwargs)
        seen += [r["RunId"] for r in page["WorkflowRuns"]]
        pages += 1
        token = page.get("NextToken")
        if not token:
            break
    assert seen == list(reversed(started)) and pages == 3
    paginator = client.get_paginator("list_workflow_runs")
    pages_of_one = paginator.paginate(WorkflowArn=arn, PaginationConfig={"PageSize": 1})
    assert sum(len(p["WorkflowRuns"]) for p in pages_of_one) == 5


def test_bad_next_token_is_a_validation_error(emulator: EmulatorControl, client: Any) -> None:
    arn = emulator.create_workflow("demo")
    response = error_of(lambda: client.list_workflow_runs(WorkflowArn=arn, NextToken="garbage"))
    assert response["Error"]["Code"] == "ValidationException"
    assert response["FieldList"] == [{"Name": "NextToken", "Message": "Invalid token"}]


def test_runs_record_lists_every_started_run(emulator: EmulatorControl, client: Any) -> None:
    a, b = emulator.create_workflow("a"), emulator.create_workflow("b")
    run_a = client.start_workflow_run(WorkflowArn=a, ClientToken="ta")["RunId"]
    client.start_workflow_run(WorkflowArn=b)
    records = emulator.runs(workflow_arn=a)
    assert [(r["RunId"], r["ClientToken"], r["Status"]) for r in records] == [(run_a, "ta", "STARTING")]
    assert len(emulator.runs()) == 2
    emulator.reset()
    assert emulator.runs() == [] and client.list_workflows()["Workflows"] == []


def test_workflows_are_per_region(emulator: EmulatorControl) -> None:
    arn = emulator.create_workflow("demo", region="eu-west-1")
    assert ":eu-west-1:" in arn
    west = boto3.client("mwaa-serverless", region_name="eu-west-1")
    assert west.get_workflow(WorkflowArn=arn)["Name"] == "demo"
    assert error_of(lambda: make_client().get_workflow(WorkflowArn=arn))["Error"]["Code"] == "ResourceNotFoundException"


@pytest.mark.skipif(
    "CreateAirflowUiUrl" not in service_model().operation_names,
    reason="the installed botocore has no CreateAirflowUiUrl",
)
def test_create_airflow_ui_url(emulator: EmulatorControl, client: Any) -> None:
    response = client.create_airflow_ui_url()
    assert any("url" in key.lower() for key in response)
