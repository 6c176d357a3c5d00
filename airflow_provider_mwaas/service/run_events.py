"""MWAA Serverless events on EventBridge: the source, the detail-types, and what an event names.

The public EventBridge reference lists the source and the detail-types (below) but not the ``detail``
fields. The emulator publishes one shape (docs/emulator.md, marked an assumption); the provider does not
depend on it: :func:`read_run_event` collects every string an event carries in ``resources`` and
``detail`` (and the parts of ARNs and paths), so a consumer asks "does this event name a workflow or run
I watch?" without knowing where the service put them. An event is a hint to look, never the truth.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_mwaas.service.run_states import TERMINAL_STATES

#: The ``source`` of every MWAA Serverless event.
EVENT_SOURCE = "aws.airflow-serverless"

#: Run state (``WorkflowRunStatus``) -> detail-type of the event the service sends when a run enters it.
#: STOPPING has no event of its own.
RUN_DETAIL_TYPES: Mapping[str, str] = {
    "STARTING": "MWAA Serverless Workflow Run Started",
    "QUEUED": "MWAA Serverless Workflow Run Queued",
    "RUNNING": "MWAA Serverless Workflow Run Running",
    "SUCCESS": "MWAA Serverless Workflow Run Succeeded",
    "FAILED": "MWAA Serverless Workflow Run Failed",
    "STOPPED": "MWAA Serverless Workflow Run Stopped",
    "TIMEOUT": "MWAA Serverless Workflow Run Timeout",
}
#: Task-instance state (``TaskInstanceStatus``) -> detail-type of the task-level event.
TASK_DETAIL_TYPES: Mapping[str, str] = {
    "QUEUED": "MWAA Serverless Task Queued",
    "SCHEDULED": "MWAA Serverless Task Scheduled",
    "UPSTREAM_FAILED": "MWAA Serverless Task Upstream Failed",
    "RUNNING": "MWAA Serverless Task Running",
    "SUCCESS": "MWAA Serverless Task Succeeded",
    "FAILED": "MWAA Serverless Task Failed",
    "UP_FOR_RETRY": "MWAA Serverless Task Up For Retry",
    "TIMEOUT": "MWAA Serverless Task Timeout",
}
#: Detail-type -> the run state it announces (run-level events only).
RUN_STATE_BY_DETAIL_TYPE: Mapping[str, str] = {detail_type: state for state, detail_type in RUN_DETAIL_TYPES.items()}
#: The detail-types of a run ending (SUCCESS, FAILED, STOPPED, TIMEOUT): the only events a wait or an
#: asset watcher ends on, and what ``MwaaServerlessHook.ensure_events_queue`` routes by default.
RUN_END_DETAIL_TYPES: frozenset[str] = frozenset(RUN_DETAIL_TYPES[state] for state in TERMINAL_STATES)
#: Every detail-type the service documents.
KNOWN_DETAIL_TYPES: frozenset[str] = frozenset(RUN_DETAIL_TYPES.values()) | frozenset(TASK_DETAIL_TYPES.values())
#: The EventBridge pattern matching every run- and task-level event of the service.
EVENT_PATTERN: Mapping[str, Any] = {"source": [EVENT_SOURCE]}

#: How deep :func:`read_run_event` looks into ``detail`` (a bound against hostile or odd payloads).
MAX_DEPTH = 8
#: Keys under which a run id may sit in ``detail``, compared case-insensitively without ``_``.
_RUN_ID_KEYS = frozenset({"runid", "workflowrunid"})
_WORKFLOW_ARN_KEYS = frozenset({"workflowarn", "arn"})


@dataclass(frozen=True)
class RunEvent:
    """What one MWAA Serverless event says, as far as the provider relies on it.

    :param detail_type: the event's ``detail-type`` (``""`` when absent).
    :param mentions: every string in ``resources`` and ``detail``, with the ``/``- and ``:``-separated
        parts of each, to match against watched workflow ARNs and run ids.
    :param run_state: the run state a run-level detail-type announces, else ``None``.
    :param workflow_arn: the workflow ARN, when ``detail`` or ``resources`` holds one where expected.
    :param run_id: the run id, when ``detail`` holds one under a run-id key.
    """

    detail_type: str
    mentions: frozenset[str]
    run_state: str | None = None
    workflow_arn: str | None = None
    run_id: str | None = None

    @property
    def ends_no_run(self) -> bool:
        """Whether the event is known not to announce a run's end (a task event, or a run starting, queued
        or running): nothing waits on it. An unknown detail-type may announce an end: False."""
        return self.detail_type in KNOWN_DETAIL_TYPES and self.detail_type not in RUN_END_DETAIL_TYPES

    def names_any(self, names: set[str] | frozenset[str]) -> bool:
        """Whether the event names any of ``names`` (workflow ARNs or run ids)."""
        return not self.mentions.isdisjoint(names)


def read_run_event(body: str | Mapping[str, Any]) -> RunEvent | None:
    """Read an EventBridge event (an SQS message body, or an SNS notification wrapping one).

    :return: the event, or ``None`` when ``body`` is not an MWAA Serverless event (another source,
        not JSON, not an object).
    """
    event = _as_object(body)
    if event is not None and event.get("Type") == "Notification" and "Message" in event:
        event = _as_object(event["Message"])  # EventBridge -> SNS -> SQS
    if event is None or event.get("source") != EVENT_SOURCE:
        return None
    detail = event.get("detail")
    resources = event.get("resources")
    mentions: set[str] = set()
    for text in _strings(resources, 0):
        _add_with_parts(mentions, text)
    for text in _strings(detail, 0):
        _add_with_parts(mentions, text)
    detail_type = str(event.get("detail-type") or "")
    workflow_arn = _find_key(detail, _WORKFLOW_ARN_KEYS)
    if workflow_arn is None and isinstance(resources, list):
        workflow_arn = next((r for r in resources if isinstance(r, str) and ":workflow/" in r), None)
    return RunEvent(
        detail_type=detail_type,
        mentions=frozenset(mentions),
        run_state=RUN_STATE_BY_DETAIL_TYPE.get(detail_type),
        workflow_arn=workflow_arn,
        run_id=_find_key(detail, _RUN_ID_KEYS),
    )


def _as_object(body: Any) -> dict[str, Any] | None:
    if isinstance(body, (str, bytes)):
        try:
            body = json.loads(body)
        except ValueError:
            return None
    return body if isinstance(body, dict) else None


def _strings(value: Any, depth: int) -> Iterator[str]:
    if depth > MAX_DEPTH:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item, depth + 1)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item, depth + 1)


def _add_with_parts(mentions: set[str], text: str) -> None:
    mentions.add(text)
    if "/" in text or ":" in text:
        mentions.update(part for part in text.replace(":", "/").split("/") if part)
        # a sub-resource ARN (".../workflow/name-id/run/run-id") also names its workflow's ARN
        head, sep, _ = text.partition("/run/")
        if sep:
            mentions.add(head)


def _find_key(value: Any, keys: frozenset[str], depth: int = 0) -> str | None:
    if depth > MAX_DEPTH or not isinstance(value, Mapping):
        return None
    for key, item in value.items():
        if isinstance(item, str) and str(key).replace("_", "").lower() in keys:
            return item
    for item in value.values():
        found = _find_key(item, keys, depth + 1)
        if found is not None:
            return found
    return None
