"""emulator/fast_json.py writes the ListWorkflowRuns response byte for byte as moto's serializer does."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from moto import settings
from moto.core.responses import ActionResult

from airflow_provider_mwaas.emulator import EmulatorControl, fast_json
from airflow_provider_mwaas.emulator.fast_json import FastJsonResult, output_encoder
from airflow_provider_mwaas.emulator.models import mwaaserverless_backends
from airflow_provider_mwaas.emulator.responses import TARGET_PREFIX, MWAAServerlessResponse

OPERATION = "ListWorkflowRuns"
WHOLE_SECOND = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def _both(result: dict[str, Any]) -> tuple[Any, Any]:
    """(moto's serialization, fast_json's) of one ListWorkflowRuns result, through the emulator's responses."""
    response = MWAAServerlessResponse()
    response.headers = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": f"{TARGET_PREFIX}.{OPERATION}"}
    response.response_headers = {}
    return response.serialized(ActionResult(result)), response.serialized(FastJsonResult(result, OPERATION))


def _summaries(emulator: EmulatorControl, client: Any) -> list[dict[str, Any]]:
    """Summaries of runs in every kind of state (with and without StartedAt / EndedAt, two versions)."""
    arn = emulator.create_workflow("demo")
    location = client.get_workflow(WorkflowArn=arn)["DefinitionS3Location"]
    v2 = client.update_workflow(
        WorkflowArn=arn, DefinitionS3Location=location, RoleArn="arn:aws:iam::123456789012:role/r"
    )["WorkflowVersion"]
    ids = [client.start_workflow_run(WorkflowArn=arn)["RunId"] for _ in range(4)]
    emulator.script_outcome(arn, status="FAILED", error_message="boom", run_id=ids[3])
    ids.append(client.start_workflow_run(WorkflowArn=arn, WorkflowVersion=v2)["RunId"])
    for reads, run_id in enumerate(ids[:4]):  # STARTING (0 reads), QUEUED, RUNNING, FAILED
        for _ in range(reads):
            client.get_workflow_run(WorkflowArn=arn, RunId=run_id)
    client.stop_workflow_run(WorkflowArn=arn, RunId=ids[4])
    backend = mwaaserverless_backends["123456789012"]["us-east-1"]
    runs = [backend.runs[run_id] for run_id in ids]
    runs[1].created_at = WHOLE_SECOND  # no microseconds: moto writes no fraction
    runs[2].age(3600.5)
    return [run.summary() for run in runs]


def test_a_page_of_runs_in_every_state_is_byte_identical(emulator: EmulatorControl, client: Any) -> None:
    summaries = _summaries(emulator, client)
    assert {s["RunDetailSummary"]["Status"] for s in summaries} >= {"STARTING", "RUNNING", "FAILED", "STOPPING"}
    for result in (
        {"WorkflowRuns": summaries, "NextToken": "eyJwYXJhbWV0ZXJDaGVja3N1bSI6IDF9"},
        {"WorkflowRuns": summaries[:1], "NextToken": None},
        {"WorkflowRuns": [], "NextToken": None},
    ):
        moto, fast = _both(result)
        assert fast == moto


def test_timestamps_match_moto_however_they_are_given() -> None:
    plus_two = timezone(timedelta(hours=2))
    moments: list[Any] = [
        WHOLE_SECOND,
        WHOLE_SECOND.replace(microsecond=1),
        WHOLE_SECOND.replace(tzinfo=None),  # naive: UTC
        WHOLE_SECOND.astimezone(plus_two),
        "2026-01-02T03:04:05.5Z",
        1767323045,
    ]
    for moment in moments:
        summary = {"RunId": "r", "RunDetailSummary": {"Status": "RUNNING", "CreatedOn": moment}}
        moto, fast = _both({"WorkflowRuns": [summary]})
        assert fast == moto, moment


def test_pretty_printed_responses_match_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "PRETTIFY_RESPONSES", True)
    summary = {"RunId": "r", "WorkflowArn": "a", "RunDetailSummary": {"Status": "SUCCESS", "EndedAt": WHOLE_SECOND}}
    moto, fast = _both({"WorkflowRuns": [summary], "NextToken": "t"})
    assert fast == moto and "\n    " in fast[2]


def test_the_encoder_is_built_from_the_model_and_refuses_shapes_it_does_not_know() -> None:
    assert output_encoder(OPERATION) is output_encoder(OPERATION)  # compiled once
    with pytest.raises(NotImplementedError, match="boolean"):
        output_encoder("ListWorkflowVersions")  # IsLatestVersion: not a shape moto's path is copied for here


def test_an_output_with_shapes_not_encoded_here_goes_through_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(operation: str) -> Any:
        raise NotImplementedError(operation)

    monkeypatch.setattr(fast_json, "output_encoder", refuse)
    summary = {"RunId": "r", "RunDetailSummary": {"Status": "RUNNING", "CreatedOn": WHOLE_SECOND}}
    moto, fast = _both({"WorkflowRuns": [summary], "NextToken": "t"})
    assert fast == moto
