"""Setting up the delivery of MWAA Serverless events: an EventBridge rule sending them to an SQS queue.

The service publishes every run and task state change to the account's default EventBridge bus
(:mod:`airflow_provider_mwaas.service.run_events`). :meth:`EventsSetupMixin.ensure_events_queue`
creates, idempotently, what a consumer (the asset watcher, docs/events.md) reads them from: the queue,
the rule, the queue policy letting EventBridge send from that rule only, and the target.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from botocore.exceptions import ClientError

from airflow_provider_mwaas.errors import InvalidParameterError, MwaaServerlessApiError
from airflow_provider_mwaas.hooks.base import MwaaServerlessBaseHook
from airflow_provider_mwaas.params.validation import check_arn_region, check_model_member
from airflow_provider_mwaas.service.run_events import EVENT_SOURCE, KNOWN_DETAIL_TYPES, RUN_END_DETAIL_TYPES

DEFAULT_QUEUE_NAME = "mwaa-serverless-events"
DEFAULT_RULE_NAME = "mwaa-serverless-events"
#: The target id the rule sends to the queue under (one target per rule and queue).
TARGET_ID = "mwaa-serverless-events-queue"
#: SQS queue names: 1-80 letters, digits, ``-`` and ``_`` (FIFO queues need a message group: refused).
_QUEUE_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}")
#: EventBridge rule names: 1-64 letters, digits, ``.``, ``-`` and ``_``.
_RULE_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")


def event_pattern(workflow_arn: str | None = None, detail_types: Sequence[str] | None = None) -> dict[str, Any]:
    """The rule's pattern: the service's events, of one workflow and of some detail-types if given.

    The public docs do not say where an event names its workflow, so a workflow filter matches either
    ``resources`` or ``detail.workflowArn`` (``$or``); the consumer checks the workflow again anyway.
    """
    pattern: dict[str, Any] = {"source": [EVENT_SOURCE]}
    if detail_types:
        pattern["detail-type"] = sorted(set(detail_types))
    if workflow_arn:
        pattern["$or"] = [{"resources": [workflow_arn]}, {"detail": {"workflowArn": [workflow_arn]}}]
    return pattern


def queue_policy_statement(queue_arn: str, rule_arn: str) -> dict[str, Any]:
    """The statement letting EventBridge send to ``queue_arn`` for the rule ``rule_arn`` only."""
    return {
        "Sid": f"mwaas-events-{rule_arn.rsplit('/', 1)[-1]}",
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": queue_arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
    }


class EventsSetupMixin(MwaaServerlessBaseHook):
    """``ensure_events_queue``: the EventBridge rule, SQS queue, queue policy and target, idempotently."""

    def aws_client(self, service: str) -> Any:
        """A boto3 client for ``service`` (``events``, ``sqs``) on this hook's session, TLS and retry settings.

        The endpoint is the service's own (``service_config.<service>.endpoint_url``, or an ``aws``
        connection's global ``endpoint_url``), as for S3 in :meth:`s3_client`.
        """
        return self.get_session(region_name=self.region_name).client(
            service,
            endpoint_url=self.conn_config.get_service_endpoint_url(service_name=service),
            config=self.config,
            verify=self.verify,
        )

    def sqs_async_client_creator(self) -> Any:
        """aiobotocore's SQS client-creator context (SYNC: connection lookup, STS): call it in a thread,
        then enter it on the loop with :meth:`~.async_calls.AsyncCallsMixin.open_async_client`.

        The amazon hook's ``get_client_type(deferrable=True)`` builds the hook's own client type only;
        this is the same construction for ``sqs`` (endpoint, botocore config, ``verify``).
        """
        session = self.get_session(region_name=self.region_name, deferrable=True)
        return session.create_client(
            service_name="sqs",
            region_name=self.region_name,
            endpoint_url=self.conn_config.get_service_endpoint_url(service_name="sqs"),
            config=self.config,
            verify=self.verify,
        )

    def ensure_events_queue(
        self,
        workflow_arn: str | None = None,
        queue_name: str = DEFAULT_QUEUE_NAME,
        rule_name: str = DEFAULT_RULE_NAME,
        detail_types: Sequence[str] | None = None,
    ) -> str:
        """Make MWAA Serverless events reach an SQS queue; safe to call again (nothing is duplicated).

        Creates (or updates) the rule on the default bus, the queue, a queue-policy statement allowing
        ``events.amazonaws.com`` to send from that rule (``aws:SourceArn``; other statements are kept)
        and the rule's target.

        :param workflow_arn: only this workflow's events; ``None`` = every workflow of the account and region.
        :param queue_name: the standard SQS queue (1-80 of ``A-Z a-z 0-9 - _``).
        :param rule_name: the EventBridge rule (1-64 of ``A-Z a-z 0-9 . - _``).
        :param detail_types: only these detail-types (e.g. ``["MWAA Serverless Workflow Run Succeeded"]``);
            ``None`` = the four of a run ending (``RUN_END_DETAIL_TYPES``), the only ones event-woken waits
            and the asset watcher act on: task events (about four per task) and a run's start, queued
            and running events would only fill the queue. ``sorted(KNOWN_DETAIL_TYPES)`` routes every one.
        :return: the queue URL.
        """
        if workflow_arn is not None:
            check_model_member("workflow_arn", "GetWorkflow", "WorkflowArn", workflow_arn, required=True)
            check_arn_region(workflow_arn, self.region_name)
        if not isinstance(queue_name, str) or not _QUEUE_NAME.fullmatch(queue_name):
            raise InvalidParameterError(
                "queue_name", queue_name, "1 to 80 letters, digits, '-' or '_' (a standard queue, not .fifo)"
            )
        if not isinstance(rule_name, str) or not _RULE_NAME.fullmatch(rule_name):
            raise InvalidParameterError("rule_name", rule_name, "1 to 64 letters, digits, '.', '-' or '_'")
        if detail_types is not None and (
            isinstance(detail_types, str) or not detail_types or any(t not in KNOWN_DETAIL_TYPES for t in detail_types)
        ):
            allowed = f"None, or a non-empty list of MWAA Serverless detail-types {sorted(KNOWN_DETAIL_TYPES)}"
            raise InvalidParameterError("detail_types", detail_types, allowed)
        sqs, events = self.aws_client("sqs"), self.aws_client("events")
        queue_url = str(_call(sqs, "CreateQueue", QueueName=queue_name)["QueueUrl"])
        attributes = _call(sqs, "GetQueueAttributes", QueueUrl=queue_url, AttributeNames=["QueueArn", "Policy"])
        queue_arn = attributes["Attributes"]["QueueArn"]
        pattern = event_pattern(workflow_arn, sorted(RUN_END_DETAIL_TYPES) if detail_types is None else detail_types)
        rule_arn = _call(
            events,
            "PutRule",
            Name=rule_name,
            EventPattern=json.dumps(pattern),
            State="ENABLED",
            Description="MWAA Serverless run and task state changes (airflow-provider-mwaas)",
        )["RuleArn"]
        policy = _merged_policy(attributes["Attributes"].get("Policy"), queue_policy_statement(queue_arn, rule_arn))
        if policy is not None:
            _call(sqs, "SetQueueAttributes", QueueUrl=queue_url, Attributes={"Policy": json.dumps(policy)})
        targets = _call(events, "ListTargetsByRule", Rule=rule_name).get("Targets", [])
        if not any(t.get("Id") == TARGET_ID and t.get("Arn") == queue_arn for t in targets):
            result = _call(events, "PutTargets", Rule=rule_name, Targets=[{"Id": TARGET_ID, "Arn": queue_arn}])
            if result.get("FailedEntryCount"):
                entry = (result.get("FailedEntries") or [{}])[0]
                raise MwaaServerlessApiError(
                    "PutTargets", str(entry.get("ErrorCode")), str(entry.get("ErrorMessage", entry)), None
                )
        self.log.info("MWAA Serverless events go to %s through rule %s (%s)", queue_url, rule_name, json.dumps(pattern))
        return queue_url


def _merged_policy(current: str | None, statement: dict[str, Any]) -> dict[str, Any] | None:
    """The queue policy with ``statement`` in it (replacing its own Sid), or ``None`` when it already is."""
    policy: dict[str, Any] = json.loads(current) if current else {"Version": "2012-10-17", "Statement": []}
    statements = policy.get("Statement") or []
    statements = statements if isinstance(statements, list) else [statements]
    if statement in statements:
        return None
    policy["Statement"] = [s for s in statements if s.get("Sid") != statement["Sid"]] + [statement]
    return policy


def _call(client: Any, operation: str, **params: Any) -> dict[str, Any]:
    """``operation`` on an SQS or EventBridge ``client``; a refusal raises :class:`MwaaServerlessApiError`."""
    from botocore import xform_name

    try:
        response: dict[str, Any] = getattr(client, xform_name(operation))(**params)
    except ClientError as err:
        error = err.response.get("Error", {})
        code = str(error.get("Code", "Unknown"))
        service = client.meta.service_model.signing_name
        hint = f"Grant the connection's identity the IAM action {service}:{operation}" if "AccessDenied" in code else ""
        request_id = err.response.get("ResponseMetadata", {}).get("RequestId")
        raise MwaaServerlessApiError(operation, code, str(error.get("Message") or err), request_id, hint) from err
    return response
