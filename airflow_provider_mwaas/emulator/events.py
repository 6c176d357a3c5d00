"""The emulator's EventBridge events: every run and task-instance state change, on moto's default bus.

MWAA Serverless sends an event to the account's default EventBridge bus whenever a run or a task
instance changes state (source and detail-types in :mod:`airflow_provider_mwaas.service.run_events`).
The public reference does not give the ``detail`` fields: the shape here is an ASSUMPTION
(docs/emulator.md, "Run-state events"):

* ``resources``: ``[workflow ARN]``;
* ``detail``: ``workflowArn``, ``workflowVersion``, ``runId``, ``status``, ``previousStatus`` (absent
  for the first event of a run or task), and for task events ``taskId`` and ``taskInstanceId``.

Each state a run enters is published when the emulator enters it: in ``call`` mode on the read that
advances the run, in ``time`` mode at the first read after it was due (stamped with the moment it was
due), in executing mode when the execution reports it. Task events are published at the run's state
changes, from the task states at that moment. Publishing never fails an API call: an error is logged
and counted (``counters()["events"]``).
"""

from __future__ import annotations

import copy
import json
import logging
import threading
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from airflow_provider_mwaas.service.run_events import EVENT_SOURCE, RUN_DETAIL_TYPES, TASK_DETAIL_TYPES

log = logging.getLogger(__name__)

_TERMINAL = frozenset({"SUCCESS", "FAILED", "TIMEOUT", "STOPPED"})


class EventCounters:
    """Events the emulator published, and deliveries that failed (a rule's target was unusable)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.published = 0
        self.failed = 0

    def count(self, published: int = 0, failed: int = 0) -> None:
        """Add ``published`` events and ``failed`` deliveries."""
        with self._lock:
            self.published += published
            self.failed += failed

    def snapshot(self) -> dict[str, int]:
        """``{"published": n, "failed": n}``."""
        with self._lock:
            return {"published": self.published, "failed": self.failed}

    def clear(self) -> None:
        """Back to zero."""
        with self._lock:
            self.published = self.failed = 0


#: The one instance (the control API's ``counters()["events"]``).
EVENT_COUNTERS = EventCounters()


class RunEventPublisher:
    """What one run has announced so far, and the events for what it enters next.

    :param workflow_arn: the run's workflow (its account and region name the bus).
    :param workflow_version: the version the run runs.
    :param run_id: the run id.
    """

    def __init__(self, workflow_arn: str, workflow_version: str, run_id: str):
        self.workflow_arn = workflow_arn
        self.workflow_version = workflow_version
        self.run_id = run_id
        self.run_state: str | None = None
        self.task_states: dict[str, str] = {}

    def entered(self, state: str, at: datetime, task_states: Mapping[str, str]) -> None:
        """The run entered ``state`` at ``at`` with its tasks in ``task_states`` (task instance id -> state).

        Publishes the run's event (none for STOPPING, which has no detail-type) and one event per task
        whose state changed to one with a detail-type. Tasks settle before a run ends, so their events
        come first when ``state`` is terminal; otherwise the run's comes first.
        """
        if state == self.run_state and dict(task_states) == self.task_states:
            return
        run_events = [] if state == self.run_state else self._run_event(state, at)
        task_events = self._task_events(task_states, at)
        self.run_state = state
        ordered = task_events + run_events if state in _TERMINAL else run_events + task_events
        publish(self.workflow_arn, ordered)

    def _run_event(self, state: str, at: datetime) -> list[dict[str, Any]]:
        detail_type = RUN_DETAIL_TYPES.get(state)
        if detail_type is None:
            return []
        return [self._entry(detail_type, at, {"status": state, "previousStatus": self.run_state})]

    def _task_events(self, task_states: Mapping[str, str], at: datetime) -> list[dict[str, Any]]:
        events = []
        for task_id, task_state in task_states.items():
            previous = self.task_states.get(task_id)
            self.task_states[task_id] = task_state
            detail_type = TASK_DETAIL_TYPES.get(task_state)
            if task_state == previous or detail_type is None:
                continue
            fields = {"taskId": task_id, "taskInstanceId": task_id, "status": task_state, "previousStatus": previous}
            events.append(self._entry(detail_type, at, fields))
        return events

    def _entry(self, detail_type: str, at: datetime, fields: dict[str, Any]) -> dict[str, Any]:
        detail = {"workflowArn": self.workflow_arn, "workflowVersion": self.workflow_version, "runId": self.run_id}
        detail.update({k: v for k, v in fields.items() if v is not None})
        return {
            "Source": EVENT_SOURCE,
            "DetailType": detail_type,
            "Detail": json.dumps(detail),
            "Resources": [self.workflow_arn],
            "Time": at.timestamp(),
        }


def publish(workflow_arn: str, entries: list[dict[str, Any]]) -> None:
    """Put ``entries`` on the default bus of the workflow's account and region; never raises.

    Each rule is delivered on its own, and a disabled rule not at all, as on AWS. moto's
    ``put_events`` walks every rule of the bus and stops at the first target that fails (a queue
    deleted under its rule), which would starve the other rules: this loop is moto's, per rule.
    """
    if not entries:
        return
    try:
        from moto.core.utils import unix_time
        from moto.events.models import events_backends
        from moto.events.utils import _BASE_EVENT_MESSAGE
        from moto.moto_api._internal import mock_random

        _, _, _, region, account = workflow_arn.split(":", 5)[:5]
        backend = events_backends[account][region]
        bus = backend.describe_event_bus("default")
        rules = [rule for rule in list(bus.rules.values()) if getattr(rule, "state", "ENABLED") == "ENABLED"]
    except Exception:  # publishing must never break the API call
        log.warning("Could not publish %d event(s) of %s", len(entries), workflow_arn, exc_info=True)
        EVENT_COUNTERS.count(failed=len(entries))
        return
    for entry in entries:
        message = copy.deepcopy(_BASE_EVENT_MESSAGE)
        message.update(
            {
                "id": str(mock_random.uuid4()),
                "detail-type": entry["DetailType"],
                "source": entry["Source"],
                "account": account,
                "time": entry["Time"],
                "region": region,
                "resources": entry["Resources"],
                "detail": json.loads(entry["Detail"]),
                "ingestion-time": unix_time(),
            }
        )
        failed = 0
        for rule in rules:
            try:
                # moto builds eight JSONPath parsers per target to apply an InputTransformer, even when
                # there is none (~17 ms a target): skip that for rules without one.
                transform = any(target.get("InputTransformer") for target in rule.targets)
                rule.send_to_targets(copy.deepcopy(message), transform_input=transform)
            except Exception:  # one broken target must not stop the others
                name = getattr(rule, "name", "?")
                log.warning("Rule %s could not deliver %s", name, entry["DetailType"], exc_info=True)
                failed += 1
        EVENT_COUNTERS.count(published=1, failed=failed)


def forget_rules() -> None:
    """Forget every EventBridge rule and bus of the emulator (moto's ``events`` backends)."""
    from moto.events.models import events_backends

    for _, _, backend in list(events_backends.iter_backends()):
        backend.reset()


class EventClock:
    """Looks at the in-flight runs when the next state of one is due (every ``interval`` seconds at most,
    every ``min_interval`` at least), so that in ``time`` mode a run enters its states (and publishes their
    events) when they are due, not at the next read: on AWS nobody has to poll a run for its events to
    flow. In ``call`` mode it does nothing (states are due at reads only).

    :param interval: longest pause between looks, seconds.
    :param min_interval: shortest pause between looks, seconds (bounds the clock's CPU when thousands of
        runs fall due one after another).
    """

    def __init__(self, interval: float = 0.5, min_interval: float = 0.05):
        self.interval = interval
        self.min_interval = min_interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="mwaas-event-clock", daemon=True)

    def start(self) -> EventClock:
        """Start looking (a daemon thread)."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop looking and wait for the thread."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        from moto.moto_api import state_manager

        from .models import IN_FLIGHT, mwaaserverless_backends
        from .transitions import RUN_MODEL

        pause = self.interval
        while not self._stop.wait(pause):
            pause = self.interval
            config = state_manager.get_transition(RUN_MODEL)
            if config.get("progression") != "time":
                continue  # in call mode a state is due only at a read: nothing to look at
            try:
                for _, _, backend in list(mwaaserverless_backends.iter_backends()):
                    for run in list(getattr(backend, "runs", {}).values()):
                        if run.events.run_state in IN_FLIGHT:
                            run.peek  # noqa: B018 - the look enters every state that is due
                            due = run.due_in(float(config["seconds"]))
                            pause = pause if due is None else min(pause, due)
            except Exception:  # the clock must outlive any one bad run
                log.warning("Event clock: a look at the runs failed", exc_info=True)
            pause = max(pause, self.min_interval)
