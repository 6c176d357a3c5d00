"""Event-woken waits: one SQS consumer per (queue URL, connection) per triggerer event loop.

The MWAA Serverless events (EventBridge, delivered to an SQS queue the user owns) are hints, never the
truth: :func:`~airflow_provider_mwaas.service.run_events.read_run_event` tells what an event names, and a
message naming a watched workflow ARN or run id makes that workflow's
:class:`~.coalescing.WorkflowPoller` look at once (one coalesced ListWorkflowRuns). The state always
comes from the service; a changed or unknown event shape costs latency, never correctness, because the
pollers keep polling every ``safety_interval`` seconds.

Every trigger waiting on one queue with one connection shares one :class:`QueueConsumer`: a task
long-polling ReceiveMessage (:data:`WAIT_SECONDS`, :data:`BATCH` messages). Its aiobotocore client is
built like the provider's other async clients (the creator in a worker thread). Several triggerers may
share a queue: what becomes of each message (used and deleted, released for another triggerer, stale)
is :class:`~.event_messages.MessageRule`'s.

When the queue cannot be read (missing, deleted, access denied, unreachable) the consumer logs ONE
warning for the queue, the pollers fall back to polling every ``waiter_delay``, and the consumer retries
(GetQueueAttributes) with backoff up to :data:`RETRY_MAX`; once the queue answers, one info line says
so and the pollers return to the safety interval. docs/event-woken-waits.md has the whole design.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from airflow_provider_mwaas.triggers.event_messages import COUNTS, MessageRule, Nudgeable
from airflow_provider_mwaas.triggers.loop_local import LoopLocal

if TYPE_CHECKING:
    from airflow_provider_mwaas.triggers.shared_clients import SharedClient

#: ReceiveMessage long-poll seconds (SQS's maximum) and messages per receive (SQS's maximum).
WAIT_SECONDS = 20
BATCH = 10
#: First and longest pause between attempts to read an unreadable queue, seconds.
RETRY_FIRST = 1.0
RETRY_MAX = 60.0

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EventsConfig:
    """How a wait is woken by events.

    :param queue_url: the SQS queue receiving the MWAA Serverless events.
    :param safety_interval: seconds between the safety-net polls while the queue is readable.
    """

    queue_url: str
    safety_interval: int


class Wakeable(Nudgeable, Protocol):
    """What the consumer serves: a :class:`~.coalescing.WorkflowPoller` (woken by the rule, told of the
    queue's health by the consumer)."""

    events: EventsConfig | None

    def events_changed(self) -> None: ...


class QueueConsumer:
    """The one reader of one queue for one connection in this event loop; see the module docstring.

    :param key: its registry key, (queue URL, the shared client's key).
    :param queue_url: the queue.
    :param hook: a hook of the connection (builds the SQS client in a thread).
    """

    def __init__(self, key: tuple[Any, ...], queue_url: str, hook: Any) -> None:
        self.key = key
        self.queue_url = queue_url
        self.hook = hook
        self.pollers: set[Wakeable] = set()
        self.healthy = False  # the last call on the queue succeeded
        self.counts = dict.fromkeys(COUNTS, 0)
        self.rule = MessageRule(self.counts)
        self._warned = False  # the queue's one "unreadable" warning was logged for this outage
        self._creator: Any = None
        self._client: Any = None
        self._task: asyncio.Task[None] | None = None

    def add(self, poller: Wakeable) -> None:
        self.pollers.add(poller)
        if self._task is None or self._task.done():
            # a fresh context: the consumer serves every wait on the queue, so its log lines go to the
            # triggerer's log, not to the log of the trigger that happened to start it
            self._task = contextvars.Context().run(asyncio.ensure_future, self._run())

    def unsubscribe(self, poller: Wakeable) -> None:
        """``poller`` stopped; the last one stops the consumer and closes its client."""
        self.pollers.discard(poller)
        if self.pollers:
            return
        if consumers().get(self.key) is self:
            del consumers()[self.key]
        if self._task is not None and not self._task.done():
            self._task.cancel()

    @property
    def stale_after(self) -> float:
        """Seconds after which a released message is deleted: the largest safety interval waiting here."""
        return max((p.events.safety_interval for p in self.pollers if p.events is not None), default=0)

    # -- the loop ---------------------------------------------------------------------------------------

    async def _run(self) -> None:
        retry = RETRY_FIRST
        try:
            while self.pollers:
                try:
                    client = await self._client_()
                    if not self.healthy:  # a quick check first: a bad queue must not wait out a long poll
                        self.counts["calls"] += 1
                        await client.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])
                        self._set_health(None)
                    self.counts["calls"] += 1
                    response = await client.receive_message(
                        QueueUrl=self.queue_url,
                        MaxNumberOfMessages=BATCH,
                        WaitTimeSeconds=WAIT_SECONDS,
                        MessageSystemAttributeNames=["SentTimestamp", "ApproximateReceiveCount"],
                    )
                except Exception as err:  # missing, deleted, refused, unreachable: poll instead, retry later
                    self.counts["failures"] += 1
                    self._set_health(err)
                    await self._close()
                    await asyncio.sleep(retry)
                    retry = min(retry * 2, RETRY_MAX)
                    continue
                retry = RETRY_FIRST
                self.counts["receives"] += 1
                await self._handle(client, response.get("Messages") or [])
        finally:
            await self._close()

    async def _client_(self) -> Any:
        if self._client is None:
            self._creator = await asyncio.to_thread(self.hook.sqs_client_creator, WAIT_SECONDS + 10)
            self._client = await self.hook.open_async_client(self._creator)
        return self._client

    async def _close(self) -> None:
        creator, self._creator, self._client = self._creator, None, None
        if creator is not None:
            with contextlib.suppress(Exception):  # closing must never stop the consumer
                await creator.__aexit__(None, None, None)

    def _set_health(self, err: BaseException | None) -> None:
        """Record the queue's health; log once per change (one line per queue, not per wait)."""
        if err is None:
            if not self.healthy and self._warned:
                _log.info(
                    "Events queue %s is readable again: its waits poll every %ss as a safety net",
                    self.queue_url,
                    self.stale_after,
                )
            self._warned = False
        elif not self._warned:
            _log.warning(
                "Events queue %s cannot be read (%s): its waits poll every waiter_delay instead; retrying the "
                "queue with backoff (at most every %.0fs)",
                self.queue_url,
                _describe(err),
                RETRY_MAX,
            )
            self._warned = True
        changed = self.healthy != (err is None)
        self.healthy = err is None
        if changed:
            for poller in list(self.pollers):
                poller.events_changed()

    # -- one batch --------------------------------------------------------------------------------------

    def ended(self, run_id: str) -> None:
        """A wait here learnt that ``run_id`` ended: its messages are used up (deleted on sight)."""
        self.rule.ended(run_id)

    async def _handle(self, client: Any, messages: list[dict[str, Any]]) -> None:
        """Sort the batch by the rule, then delete and release (one batch call each)."""
        deletes, releases = self.rule.sort(messages, list(self.pollers), self.stale_after)
        try:
            if deletes:
                self.counts["calls"] += 1
                await client.delete_message_batch(QueueUrl=self.queue_url, Entries=deletes)
            if releases:
                self.counts["calls"] += 1
                await client.change_message_visibility_batch(QueueUrl=self.queue_url, Entries=releases)
        except Exception as err:  # the messages come back after their visibility timeout: harmless
            _log.debug("Events queue %s: deleting/releasing messages failed: %s", self.queue_url, err)


def _describe(err: BaseException) -> str:
    response = getattr(err, "response", None)
    if isinstance(response, dict) and response.get("Error"):
        error = response["Error"]
        return f"{error.get('Code')}: {error.get('Message')}"
    return f"{type(err).__name__}: {err}"


ConsumerKey = tuple[Any, ...]
_consumers: LoopLocal[dict[ConsumerKey, QueueConsumer]] = LoopLocal(dict)


def consumers() -> dict[ConsumerKey, QueueConsumer]:
    """The running event loop's queue consumers in this process, by (queue URL, connection key)."""
    return _consumers.get()


def subscribe(events: EventsConfig, shared: SharedClient, poller: Wakeable) -> QueueConsumer:
    """Have ``poller`` woken by the consumer of ``events.queue_url`` on ``shared``'s connection (started on
    first use); the poller calls :meth:`QueueConsumer.unsubscribe` when its last watcher leaves."""
    registry = consumers()
    key = (events.queue_url, shared.key)
    consumer = registry.get(key)
    if consumer is None:
        consumer = registry[key] = QueueConsumer(key, events.queue_url, shared.hook)
    consumer.add(poller)
    return consumer
