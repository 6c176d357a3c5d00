"""The emulator's switchable assumptions (service behaviour the model does not document) and age_runs,
driven with boto3 over HTTP and the control API."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError


@pytest.fixture
def client(remote_client: Any) -> Any:
    """boto3 over HTTP to the shared emulator server."""
    return remote_client


@pytest.fixture
def workflow_arn(remote: Any) -> str:
    return str(remote.create_workflow(name="orders"))


def _start(client: Any, arn: str, token: str, **params: Any) -> str:
    return str(client.start_workflow_run(WorkflowArn=arn, ClientToken=token, **params)["RunId"])


def test_defaults_follow_the_aws_convention(remote: Any, client: Any, workflow_arn: str) -> None:
    assert remote.assumptions() == {
        "token_memory_seconds": None,
        "replay_ended_runs": True,
        "conflict_names_run": True,
        "listing_order": "newest",
    }
    first = _start(client, workflow_arn, "t1")
    remote.age_runs(10 * 24 * 3600)
    assert _start(client, workflow_arn, "t1") == first
    with pytest.raises(ClientError) as err:
        _start(client, workflow_arn, "t1", OverrideParameters={"other": "value"})
    assert err.value.response["ResourceId"] == first


def test_a_forgotten_token_starts_a_new_run(remote: Any, client: Any, workflow_arn: str) -> None:
    remote.set_assumptions(token_memory_seconds=3600)
    first = _start(client, workflow_arn, "t1")
    assert _start(client, workflow_arn, "t1") == first
    remote.age_runs(3601, workflow_arn=workflow_arn)
    second = _start(client, workflow_arn, "t1")
    assert second != first
    assert _start(client, workflow_arn, "t1") == second


def test_no_replay_of_an_ended_run(remote: Any, client: Any, workflow_arn: str) -> None:
    remote.set_assumptions(replay_ended_runs=False)
    first = _start(client, workflow_arn, "t1")
    assert _start(client, workflow_arn, "t1") == first  # in flight: replayed
    for _ in range(4):
        client.get_workflow_run(WorkflowArn=workflow_arn, RunId=first)  # call mode: to SUCCESS
    assert _start(client, workflow_arn, "t1") != first


def test_a_conflict_that_does_not_name_the_run(remote: Any, client: Any, workflow_arn: str) -> None:
    remote.set_assumptions(conflict_names_run=False)
    first = _start(client, workflow_arn, "t1")
    with pytest.raises(ClientError) as err:
        _start(client, workflow_arn, "t1", OverrideParameters={"other": "value"})
    assert err.value.response["ResourceId"] == "t1"
    assert first not in err.value.response["Error"]["Message"]


@pytest.mark.parametrize("order", ["newest", "oldest", "shuffled"])
def test_listing_order(remote: Any, client: Any, workflow_arn: str, order: str) -> None:
    remote.set_assumptions(listing_order=order)
    started = [_start(client, workflow_arn, f"t{i}") for i in range(6)]
    listed = [run["RunId"] for run in client.list_workflow_runs(WorkflowArn=workflow_arn)["WorkflowRuns"]]
    assert sorted(listed) == sorted(started)
    if order == "newest":
        assert listed == started[::-1]
    elif order == "oldest":
        assert listed == started
    else:
        assert listed not in (started, started[::-1])


def test_bad_assumptions_and_ages_are_refused_with_the_name(remote: Any, workflow_arn: str) -> None:
    with pytest.raises(ValueError, match="Unknown assumption"):
        remote.set_assumptions(token_window=5)
    with pytest.raises(ValueError, match="listing_order must be one of"):
        remote.set_assumptions(listing_order="random")
    with pytest.raises(ValueError, match="seconds must be a number >= 0"):
        remote.age_runs(-1)
    with pytest.raises(LookupError):
        remote.age_runs(5, run_id="nope")


def test_reset_restores_the_defaults(remote: Any) -> None:
    remote.set_assumptions(replay_ended_runs=False, listing_order="oldest")
    remote.reset()
    assert remote.assumptions()["replay_ended_runs"] is True
    assert remote.assumptions()["listing_order"] == "newest"


def test_age_runs_moves_the_timestamps(remote: Any, client: Any, workflow_arn: str) -> None:
    run_id = _start(client, workflow_arn, "t1")
    before = client.get_workflow_run(WorkflowArn=workflow_arn, RunId=run_id)["RunDetail"]["CreatedAt"]
    assert remote.age_runs(7200, run_id=run_id)["Aged"] == [run_id]
    after = client.get_workflow_run(WorkflowArn=workflow_arn, RunId=run_id)["RunDetail"]["CreatedAt"]
    assert (before - after).total_seconds() == pytest.approx(7200, abs=1)
