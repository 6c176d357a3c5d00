"""What :class:`~.workflow_run_events.WorkflowRunEventsTrigger` does with each SQS message it receives:
fire, drop a duplicate, or leave it to other consumers (docs/events.md, "Delivery").

A message is read with :func:`~airflow_provider_mwaas.service.run_events.read_run_event` and then:

* it announces that a run of the trigger's workflow ended in one of its states, a run not fired on yet:
  the trigger **fires** (one event per run) and deletes the message once the event is yielded;
* it announces such a run already fired on (a duplicate delivery; :data:`SEEN_RUNS` runs remembered): it
  is **deleted** without firing;
* anything else (another workflow or state, a task event, not an event at all): it is **left** to other
  consumers, and deleted only when it is older than ``stale_after_seconds`` (:meth:`FiringRule.stale`).
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Sequence
from typing import Any

from airflow_provider_mwaas.service.run_events import RunEvent, read_run_event

#: Run ids already fired, remembered per trigger (a duplicate delivery of one is deleted, not fired).
SEEN_RUNS = 10_000
#: What :meth:`FiringRule.classify` says of a message.
FIRE, DUPLICATE, OTHER = "fire", "duplicate", "other"


class FiringRule:
    """The rule above for one trigger, with what it remembers (the runs it fired on).

    :param workflow_arn: the workflow whose runs fire the trigger.
    :param states: the terminal run states that fire it.
    :param stale_after_seconds: a message nobody takes is deleted once older than this; ``None``: never.
    """

    def __init__(self, workflow_arn: str, states: Sequence[str], stale_after_seconds: int | None) -> None:
        self.workflow_arn = workflow_arn
        self.states = states
        self.stale_after_seconds = stale_after_seconds
        self._fired: deque[str] = deque(maxlen=SEEN_RUNS)

    def classify(self, message: dict[str, Any], log: Any) -> tuple[str, dict[str, Any] | None]:
        """``(FIRE, payload)`` for a run to fire on (the trigger event's payload), ``(DUPLICATE, None)`` for
        a run already fired, ``(OTHER, None)`` for anything else; the first two are logged on ``log``."""
        event = read_run_event(message.get("Body") or "")
        if event is None or not self._matches(event):
            return OTHER, None
        assert event.run_id is not None  # _matches checked it
        if event.run_id in self._fired:
            log.info("Run %s of %s was already fired on: duplicate deleted", event.run_id, self.workflow_arn)
            return DUPLICATE, None
        self._fired.append(event.run_id)
        log.info("Run %s of %s ended %s: firing", event.run_id, self.workflow_arn, event.run_state)
        payload = {
            "workflow_arn": self.workflow_arn,
            "run_id": event.run_id,
            "state": event.run_state,
            "detail_type": event.detail_type,
            **_id_and_time(message),
        }
        return FIRE, payload

    def stale(self, message: dict[str, Any], log: Any) -> bool:
        """Whether a message nobody took is older than ``stale_after_seconds`` (then it is deleted; logged)."""
        if self.stale_after_seconds is None:
            return False
        sent = (message.get("Attributes") or {}).get("SentTimestamp")
        stale = sent is not None and time.time() - int(sent) / 1000 > self.stale_after_seconds
        if stale:
            log.info("Deleting message %s: older than %ss", message["MessageId"], self.stale_after_seconds)
        return stale

    def _matches(self, event: RunEvent) -> bool:
        names_workflow = event.workflow_arn == self.workflow_arn or (
            event.workflow_arn is None and self.workflow_arn in event.mentions
        )
        return event.run_state in self.states and names_workflow and bool(event.run_id)


def _id_and_time(message: dict[str, Any]) -> dict[str, Any]:
    """The message's event ``id`` and ``time`` (EventBridge's top-level fields; ``None`` when absent), from
    one parse of the body."""
    try:
        body = json.loads(message.get("Body") or "")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {}
    return {"event_id": body.get("id"), "event_time": body.get("time")}
