"""``ensure_events_queue`` against the emulator's EventBridge and SQS (moto) over real HTTP."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from airflow_provider_mwaas.errors import InvalidParameterError, MwaaServerlessApiError
from airflow_provider_mwaas.hooks.events import TARGET_ID, event_pattern
from airflow_provider_mwaas.hooks.mwaa_serverless import MwaaServerlessHook
from airflow_provider_mwaas.service.run_events import (
    EVENT_SOURCE,
    KNOWN_DETAIL_TYPES,
    RUN_DETAIL_TYPES,
    RUN_END_DETAIL_TYPES,
)

SUCCEEDED = RUN_DETAIL_TYPES["SUCCESS"]


@pytest.fixture
def hook(aws_conn_env: str) -> MwaaServerlessHook:
    return MwaaServerlessHook(aws_conn_id=aws_conn_env)


@pytest.fixture
def names() -> dict[str, str]:
    suffix = uuid.uuid4().hex[:10]
    return {"queue_name": f"q-{suffix}", "rule_name": f"r-{suffix}"}


def receive(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    """Every message in the queue (each received once: they stay invisible for the test's length)."""
    bodies: list[dict[str, Any]] = []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        bodies.extend(json.loads(m["Body"]) for m in messages)
    return bodies


def test_twice_gives_the_same_queue_one_rule_one_target_and_the_policy(
    hook: MwaaServerlessHook, names: dict[str, str], workflow_arn: str
) -> None:
    first = hook.ensure_events_queue(workflow_arn, **names)
    second = hook.ensure_events_queue(workflow_arn, **names)
    assert first == second

    events, sqs = hook.aws_client("events"), hook.aws_client("sqs")
    rules = [r for r in events.list_rules()["Rules"] if r["Name"] == names["rule_name"]]
    assert len(rules) == 1 and rules[0]["State"] == "ENABLED"
    # by default the run-end events only: the waits and the asset watcher act on nothing else
    assert json.loads(rules[0]["EventPattern"]) == event_pattern(workflow_arn, RUN_END_DETAIL_TYPES)
    queue_arn = sqs.get_queue_attributes(QueueUrl=first, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    assert events.list_targets_by_rule(Rule=names["rule_name"])["Targets"] == [{"Id": TARGET_ID, "Arn": queue_arn}]
    policy = json.loads(sqs.get_queue_attributes(QueueUrl=first, AttributeNames=["Policy"])["Attributes"]["Policy"])
    [statement] = policy["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"} and statement["Action"] == "sqs:SendMessage"
    assert statement["Resource"] == queue_arn
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": rules[0]["Arn"]}}


def test_an_event_put_through_eventbridge_arrives_and_other_workflows_do_not(
    hook: MwaaServerlessHook, names: dict[str, str], workflow_arn: str
) -> None:
    queue_url = hook.ensure_events_queue(workflow_arn, detail_types=[SUCCEEDED], **names)
    other = workflow_arn.rsplit("/", 1)[0] + "/other-x1y2z3"
    events = hook.aws_client("events")
    for arn, detail_type in [(other, SUCCEEDED), (workflow_arn, RUN_DETAIL_TYPES["FAILED"]), (workflow_arn, SUCCEEDED)]:
        entry = {"Source": EVENT_SOURCE, "DetailType": detail_type, "Detail": json.dumps({"workflowArn": arn})}
        assert events.put_events(Entries=[entry])["FailedEntryCount"] == 0

    bodies = receive(hook.aws_client("sqs"), queue_url)
    assert [(b["detail-type"], b["detail"]["workflowArn"]) for b in bodies] == [(SUCCEEDED, workflow_arn)]


def test_the_emulators_run_events_arrive_the_run_end_only_by_default(
    hook: MwaaServerlessHook, names: dict[str, str], workflow_arn: str, emulator: Any
) -> None:
    queue_url = hook.ensure_events_queue(**names)  # every workflow
    run_id = hook.start_workflow_run(workflow_arn)["RunId"]
    for _ in range(4):
        hook.get_workflow_run(workflow_arn, run_id)
    bodies = receive(hook.aws_client("sqs"), queue_url)
    assert [(b["detail-type"], b["detail"]["runId"]) for b in bodies] == [(SUCCEEDED, run_id)]


def test_every_detail_type_when_asked(
    hook: MwaaServerlessHook, names: dict[str, str], workflow_arn: str, emulator: Any
) -> None:
    queue_url = hook.ensure_events_queue(workflow_arn, detail_types=sorted(KNOWN_DETAIL_TYPES), **names)
    run_id = hook.start_workflow_run(workflow_arn)["RunId"]
    for _ in range(4):
        hook.get_workflow_run(workflow_arn, run_id)
    types = [b["detail-type"] for b in receive(hook.aws_client("sqs"), queue_url)]
    assert {RUN_DETAIL_TYPES[s] for s in ("STARTING", "QUEUED", "RUNNING", "SUCCESS")} <= set(types)
    assert any(t.startswith("MWAA Serverless Task ") for t in types)


def test_an_existing_policy_statement_is_kept(hook: MwaaServerlessHook, names: dict[str, str]) -> None:
    sqs = hook.aws_client("sqs")
    queue_url = sqs.create_queue(QueueName=names["queue_name"])["QueueUrl"]
    theirs = {"Sid": "theirs", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sqs:GetQueueUrl"}
    policy = {"Version": "2012-10-17", "Statement": [theirs]}
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps(policy)})

    assert hook.ensure_events_queue(**names) == queue_url
    policy = json.loads(sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["Policy"])["Attributes"]["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["theirs", f"mwaas-events-{names['rule_name']}"]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"workflow_arn": "not-an-arn"}, "workflow_arn"),
        ({"workflow_arn": "arn:aws:airflow-serverless:eu-west-1:123456789012:workflow/w-abc"}, "workflow_arn"),
        ({"queue_name": "events.fifo"}, "queue_name"),
        ({"queue_name": ""}, "queue_name"),
        ({"rule_name": "has space"}, "rule_name"),
        ({"detail_types": "MWAA Serverless Workflow Run Succeeded"}, "detail_types"),
        ({"detail_types": ["Run Succeeded"]}, "detail_types"),
        ({"detail_types": []}, "detail_types"),
    ],
)
def test_bad_input_is_refused_before_any_call(
    hook: MwaaServerlessHook, kwargs: dict[str, Any], field: str, emulator: Any
) -> None:
    with pytest.raises(InvalidParameterError) as info:
        hook.ensure_events_queue(**kwargs)
    assert info.value.field == field and "Allowed:" in str(info.value)
    assert emulator.control.counters()["requests"] == {}


def test_a_refusal_names_the_operation(
    hook: MwaaServerlessHook, names: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sqs = hook.aws_client("sqs")
    sqs.create_queue(QueueName=names["queue_name"], Attributes={"VisibilityTimeout": "45"})
    events = hook.aws_client("events")
    events.put_rule(Name=names["rule_name"], EventPattern=json.dumps({"source": ["x"]}))
    real = hook.aws_client

    def broken(service: str) -> Any:
        client = real(service)
        if service == "events":
            client.meta.events.register("before-call.events.PutRule", _refuse)
        return client

    monkeypatch.setattr(hook, "aws_client", broken)
    with pytest.raises(MwaaServerlessApiError, match=r"PutRule failed with AccessDeniedException.*events:PutRule"):
        hook.ensure_events_queue(**names)


def _refuse(**kwargs: Any) -> tuple[Any, dict[str, Any]]:
    from botocore.awsrequest import AWSResponse

    body = json.dumps({"__type": "AccessDeniedException", "message": "not allowed"}).encode()
    response = AWSResponse("https://example.invalid", 400, {}, None)
    response._content = body  # type: ignore[attr-defined]
    return response, {"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}, "ResponseMetadata": {}}
