"""ListWorkflowRuns pages: order, page sizes from the model, stable NextTokens, the version filter, and bad
tokens refused as the service refuses them (HTTP 400, for every paginated operation)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import botocore.session
import pytest

from airflow_provider_mwaas.emulator import EmulatorControl
from airflow_provider_mwaas.service.model import service_model

from .conftest import error_of, make_client
from .test_models import ROLE

_MAX_RESULTS = service_model().operation_model("ListWorkflowRuns").input_shape.members["MaxResults"].metadata
LOWEST, HIGHEST = int(_MAX_RESULTS["min"]), int(_MAX_RESULTS["max"])
#: The operations botocore pages through (its paginators file), e.g. ``ListWorkflowRuns``.
PAGINATED = sorted(botocore.session.get_session().get_paginator_model("mwaa-serverless")._paginator_config)


def _start(client: Any, arn: str, count: int, **params: Any) -> list[str]:
    return [client.start_workflow_run(WorkflowArn=arn, **params)["RunId"] for _ in range(count)]


def _pages(client: Any, token: str | None = None, **params: Any) -> Iterator[dict[str, Any]]:
    """Every page of ListWorkflowRuns from ``token`` on."""
    while True:
        page = client.list_workflow_runs(**params, **({"NextToken": token} if token else {}))
        yield page
        token = page.get("NextToken")
        if not token:
            return


def _ids(page: dict[str, Any]) -> list[str]:
    return [run["RunId"] for run in page["WorkflowRuns"]]


def _walk(client: Any, token: str | None = None, **params: Any) -> list[str]:
    """The run ids of every page from ``token`` on."""
    return [run_id for page in _pages(client, token, **params) for run_id in _ids(page)]


def test_runs_are_listed_newest_first_in_creation_order(emulator: EmulatorControl, client: Any) -> None:
    arn = emulator.create_workflow("demo")
    started = _start(client, arn, 5)
    pages = list(_pages(client, WorkflowArn=arn, MaxResults=2))
    assert [_ids(p) for p in pages] == [started[4:2:-1], started[2:0:-1], started[:1]]
    created = [run["RunDetailSummary"]["CreatedOn"] for p in pages for run in p["WorkflowRuns"]]
    assert created == sorted(created, reverse=True)


def test_page_sizes_are_the_models_max_results_bounds(emulator: EmulatorControl, client: Any) -> None:
    arn = emulator.create_workflow("demo")
    started = _start(client, arn, HIGHEST + 1)
    full = client.list_workflow_runs(WorkflowArn=arn, MaxResults=HIGHEST)
    assert _ids(full) == started[::-1][:HIGHEST] and full["NextToken"]
    rest = client.list_workflow_runs(WorkflowArn=arn, MaxResults=HIGHEST, NextToken=full["NextToken"])
    assert _ids(rest) == started[:1] and "NextToken" not in rest
    assert _ids(client.list_workflow_runs(WorkflowArn=arn)) == _ids(full)  # no MaxResults: the largest page
    assert len(client.list_workflow_runs(WorkflowArn=arn, MaxResults=LOWEST)["WorkflowRuns"]) == LOWEST
    unchecked = make_client(validate=False)  # botocore checks the minimum itself, not the maximum
    for size in (LOWEST - 1, HIGHEST + 1):
        response = error_of(lambda size=size: unchecked.list_workflow_runs(WorkflowArn=arn, MaxResults=size))
        assert response["Error"]["Code"] == "ValidationException"
        assert [f["Name"] for f in response["FieldList"]] == ["MaxResults"]


@pytest.mark.parametrize("order", ["newest", "oldest"])
def test_a_walk_skips_and_repeats_no_run_when_runs_start_between_pages(
    emulator: EmulatorControl, client: Any, order: str
) -> None:
    emulator.set_assumptions(listing_order=order)
    arn = emulator.create_workflow("demo")
    before = _start(client, arn, 5)
    first = client.list_workflow_runs(WorkflowArn=arn, MaxResults=2)
    during = _start(client, arn, 3)  # started after the first page
    walked = _ids(first) + _walk(client, first["NextToken"], WorkflowArn=arn, MaxResults=2)
    assert len(walked) == len(set(walked)) and set(before) <= set(walked)
    if order == "newest":  # newer runs belong above the first page: this walk does not meet them
        assert walked == before[::-1]
    else:  # they come after the older ones
        assert walked == before + during
    every = before + during
    assert _walk(client, WorkflowArn=arn, MaxResults=2) == (every[::-1] if order == "newest" else every)


def test_the_version_filter_pages_through_that_versions_runs_only(emulator: EmulatorControl, client: Any) -> None:
    arn = emulator.create_workflow("demo")
    v1 = client.get_workflow(WorkflowArn=arn)["WorkflowVersion"]
    location = client.get_workflow(WorkflowArn=arn)["DefinitionS3Location"]
    v2 = client.update_workflow(WorkflowArn=arn, DefinitionS3Location=location, RoleArn=ROLE)["WorkflowVersion"]
    of_v1: list[str] = []
    for _ in range(3):  # interleaved: v1, v2, v1, v2...
        of_v1 += _start(client, arn, 1, WorkflowVersion=v1)
        _start(client, arn, 1, WorkflowVersion=v2)
    pages = list(_pages(client, WorkflowArn=arn, WorkflowVersion=v1, MaxResults=2))
    assert [run_id for page in pages for run_id in _ids(page)] == of_v1[::-1]
    assert {run["WorkflowVersion"] for p in pages for run in p["WorkflowRuns"]} == {v1}
    # a token is good only for the query that made it
    response = error_of(lambda: client.list_workflow_runs(WorkflowArn=arn, NextToken=pages[0]["NextToken"]))
    assert response["Error"]["Code"] == "ValidationException"


def test_the_model_has_no_status_filter_to_emulate() -> None:
    members = set(service_model().operation_model("ListWorkflowRuns").input_shape.members)
    assert members == {"WorkflowArn", "WorkflowVersion", "MaxResults", "NextToken"}, (
        f"ListWorkflowRuns has new members {members}: emulate them (emulator/models/runs.py) and test them here"
    )


def test_a_token_of_another_workflow_is_refused(emulator: EmulatorControl, client: Any) -> None:
    a, b = emulator.create_workflow("a"), emulator.create_workflow("b")
    _start(client, a, 2)
    _start(client, b, 2)
    token = client.list_workflow_runs(WorkflowArn=a, MaxResults=1)["NextToken"]
    response = error_of(lambda: client.list_workflow_runs(WorkflowArn=b, NextToken=token))
    assert response["Error"]["Code"] == "ValidationException"
    assert response["FieldList"] == [{"Name": "NextToken", "Message": "Invalid token"}]


def test_a_shuffled_listing_pages_through_every_run_once(emulator: EmulatorControl, client: Any) -> None:
    emulator.set_assumptions(listing_order="shuffled")
    arn = emulator.create_workflow("demo")
    started = _start(client, arn, 7)
    walked = _walk(client, WorkflowArn=arn, MaxResults=3)
    assert sorted(walked) == sorted(started) and walked not in (started, started[::-1])


def test_a_token_forged_to_name_a_run_of_another_workflow_is_refused(emulator: EmulatorControl, client: Any) -> None:
    a, b = emulator.create_workflow("a"), emulator.create_workflow("b")
    _start(client, a, 2)
    of_b = _start(client, b, 1)[0]
    real = json.loads(base64.b64decode(client.list_workflow_runs(WorkflowArn=a, MaxResults=1)["NextToken"]))
    forged = _b64({**real, "uniqueAttributes": of_b})  # a's query, b's run
    response = error_of(lambda: client.list_workflow_runs(WorkflowArn=a, NextToken=forged))
    assert response["FieldList"] == [{"Name": "NextToken", "Message": "Invalid token"}]


# -- bad tokens over HTTP: every paginated operation --------------------------------------------------


def _b64(value: Any) -> str:
    return base64.b64encode(json.dumps(value).encode()).decode()


def _forged(real: str) -> dict[str, str]:
    """Bad NextTokens: garbage, and tokens forged from a real one (its checksum kept)."""
    decoded = json.loads(base64.b64decode(real))
    return {
        "garbage": "not-a-token",
        "json null": _b64(None),
        "json string": _b64("x"),
        "json list": _b64([1]),
        "not utf-8": base64.b64encode(b"\xff\xfe").decode(),
        "no position": _b64({k: v for k, v in decoded.items() if k != "uniqueAttributes"}),
        "position not a string": _b64({**decoded, "uniqueAttributes": 5}),
        "unknown position": _b64({**decoded, "uniqueAttributes": "nope"}),
        "bad encoded keys": _b64({"boto_encoded_keys": [["x"]]}),
    }


@pytest.fixture
def paged(remote: EmulatorControl, remote_client: Any) -> dict[str, dict[str, Any]]:
    """Each paginated operation's parameters, on a server holding two of everything it lists."""
    arn = remote.create_workflow("a")
    remote.create_workflow("b")
    location = remote_client.get_workflow(WorkflowArn=arn)["DefinitionS3Location"]
    remote_client.update_workflow(WorkflowArn=arn, DefinitionS3Location=location, RoleArn=ROLE)
    run_id = _start(remote_client, arn, 2)[0]
    params = {
        "ListWorkflows": {},
        "ListWorkflowVersions": {"WorkflowArn": arn},
        "ListWorkflowRuns": {"WorkflowArn": arn},
        "ListTaskInstances": {"WorkflowArn": arn, "RunId": run_id},
    }
    assert sorted(params) == PAGINATED, "a new paginated operation: give it parameters here"
    return params


@pytest.mark.parametrize("operation", PAGINATED)
def test_a_forged_or_garbage_token_is_a_400_validation_error_naming_next_token(
    remote_client: Any, paged: dict[str, dict[str, Any]], operation: str
) -> None:
    call = getattr(remote_client, botocore.xform_name(operation))
    real = call(MaxResults=1, **paged[operation])["NextToken"]
    for name, token in _forged(real).items():
        response = error_of(lambda token=token: call(NextToken=token, **paged[operation]))
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 400, name
        assert response["Error"]["Code"] == "ValidationException", name
        assert response["FieldList"] == [{"Name": "NextToken", "Message": "Invalid token"}], name
