"""What the events queue consumer does with each message it receives: the rule several triggerers
sharing one queue follow (docs/event-woken-waits.md, "Several triggerers on one queue").

A message is read with :func:`~airflow_provider_mwaas.service.run_events.read_run_event` (the event is a
hint: it says which workflows and runs it names, never their state) and then:

* it is known to announce no run's end (a task event; a run started, queued or running: the
  detail-type says so): nothing waits on it, it is **deleted** without a look (``ensure_events_queue``
  routes only the run-end events by default; a wider rule costs receives, not listings);
* it names a run watched here: the poller looks, and the message is **deleted** (used here);
* it names a run whose wait ended here (a look for another event, or a poll, saw it end first): it is
  **deleted** without a look (:data:`ENDED_MEMORY` runs remembered): released, it would come back again
  and again until stale, and a queue full of such messages starves the new ones (measured: 3,262 of
  3,300 receives at 500 runs were such messages, and waits learnt their end minutes late);
* it names a run not watched here (a run another triggerer may watch): it is **released**;
* it names a workflow watched here but no run id at all (an unknown ``detail`` shape): the poller looks
  at every run it watches (once per message: :data:`WOKEN_MEMORY`), and the message is **released**;
* it names nothing watched here (or is not an MWAA Serverless event): it is **released**;
* released = ChangeMessageVisibility to ``2 ** (receives - 1)`` seconds (1 s at the first receive, at
  most :data:`RELEASE_MAX`): visible again soon for every triggerer long-polling the queue (not 0, which
  would hand it straight back to this consumer's next receive), each round going to whichever receive
  SQS picks, with fewer rounds the longer nobody takes it;
* a released message older than the safety interval (``SentTimestamp``; the largest interval of the
  waits on the queue) is **deleted**: by then every triggerer's safety-net poll has covered it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Protocol

from airflow_provider_mwaas.service.run_events import RunEvent, read_run_event

#: Longest visibility timeout a released message gets, seconds.
RELEASE_MAX = 30
#: Messages remembered as having woken a poller by their workflow alone (each wakes a poller once).
WOKEN_MEMORY = 10_000
#: Runs remembered as having ended while watched here (their messages are deleted on sight).
ENDED_MEMORY = 20_000
#: What a consumer counts: receives, messages, what became of them (the rule's), failures, SQS calls.
COUNTS = ("receives", "messages", "used", "ignored", "released", "stale", "failures", "calls")


class Nudgeable(Protocol):
    """What a message may wake: a :class:`~.coalescing.WorkflowPoller`."""

    workflow_arn: str

    @property
    def watchers(self) -> Mapping[str, Any]: ...

    def nudge(self, run_ids: set[str] | None) -> None: ...


class MessageRule:
    """The rule above, with what it remembers (runs that ended here, messages that woke a whole workflow).

    :param counts: the consumer's counters; the rule adds to ``messages``, ``used``, ``ignored``,
        ``released`` and ``stale``.
    """

    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = counts
        self._woken: dict[str, None] = {}  # message ids that woke pollers by their workflow alone
        self._ended: dict[str, None] = {}  # run ids whose wait here saw them end (oldest first)

    def sort(
        self, messages: list[dict[str, Any]], pollers: list[Nudgeable], stale_after: float
    ) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
        """Wake the pollers the messages name; return the entries to delete (used here, announcing no end,
        stale) and to release (with their visibility timeouts), for the SQS batch calls."""
        deletes: list[dict[str, str]] = []
        releases: list[dict[str, Any]] = []
        now = time.time()
        for message in messages:
            self.counts["messages"] += 1
            entry = {"Id": str(len(deletes) + len(releases)), "ReceiptHandle": message["ReceiptHandle"]}
            attributes = message.get("Attributes") or {}
            event = read_run_event(message.get("Body") or "")
            if event is not None and event.ends_no_run:
                self.counts["ignored"] += 1
                deletes.append(entry)
            elif event is not None and self._wake(event, str(message.get("MessageId")), pollers):
                self.counts["used"] += 1
                deletes.append(entry)
            elif now - int(attributes.get("SentTimestamp", now * 1000)) / 1000 > stale_after:
                self.counts["stale"] += 1
                deletes.append(entry)
            else:
                self.counts["released"] += 1
                receives = int(attributes.get("ApproximateReceiveCount", 1))
                releases.append({**entry, "VisibilityTimeout": min(RELEASE_MAX, 2 ** min(receives - 1, 10))})
        return deletes, releases

    def ended(self, run_id: str) -> None:
        """A wait here learnt that ``run_id`` ended: its messages are used up (deleted on sight)."""
        self._ended[run_id] = None
        if len(self._ended) > ENDED_MEMORY:
            del self._ended[next(iter(self._ended))]

    def _wake(self, event: RunEvent, message_id: str, pollers: list[Nudgeable]) -> bool:
        """Nudge the pollers ``event`` names; True when it named a run watched here, or one that ended
        while watched here (the message is used)."""
        used = not event.mentions.isdisjoint(self._ended)  # mentions hold the run id, wherever it sits
        for poller in pollers:
            # the watched run ids the event names (an intersection over the event's few mentions rather
            # than a set of 10,000 run ids per message)
            runs = set(poller.watchers.keys() & event.mentions)
            if runs:
                poller.nudge(runs)
                used = True
            elif event.run_id is None and event.names_any({poller.workflow_arn}) and message_id not in self._woken:
                poller.nudge(None)
                self._remember(message_id)
        return used

    def _remember(self, message_id: str) -> None:
        self._woken[message_id] = None
        if len(self._woken) > WOKEN_MEMORY:
            del self._woken[next(iter(self._woken))]
