"""Coalesced polling: the triggers waiting on runs of one workflow share one ListWorkflowRuns poll.

One :class:`WorkflowPoller` per (shared client, workflow ARN, ``waiter_delay``, events queue, safety
interval) per event loop polls at a fixed rate; one poll's listing is :class:`~.run_listing.RunListing`'s
(N waits cost ``ceil(N/100)`` requests per interval, also when the runs finish). A new poller's first
poll waits for arrivals to stop (:data:`JOIN_WINDOW`, at most :data:`JOIN_MAX`); runs watched between
polls are caught up on within :data:`CATCH_UP_PAGES_PER_INTERVAL`; a leaving watcher never affects the
others. A retryably failed listing is reported to every watcher and backs the poller off (x2 up to
``MAX_BACKOFF_FACTOR``).

Event-woken waits (:mod:`.event_wake`, docs/event-woken-waits.md): a poller given an events queue
polls every ``safety_interval`` seconds while the queue is readable, and every ``delay`` seconds while
it is not (or after an event-woken look failed). Each event naming the workflow or a watched run
(:meth:`WorkflowPoller.nudge`) makes the poller look at once: one listing for the runs named (all
watched runs when only the workflow is named); events arriving before that look begins, or while one
is in flight, are served by one more look after it. See docs/performance.md.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from typing import Any

from airflow_provider_mwaas.service import error_kinds
from airflow_provider_mwaas.service.run_states import TERMINAL_STATES
from airflow_provider_mwaas.triggers.event_wake import EventsConfig, QueueConsumer, subscribe
from airflow_provider_mwaas.triggers.loop_local import LoopLocal
from airflow_provider_mwaas.triggers.run_listing import RunListing
from airflow_provider_mwaas.triggers.shared_clients import SharedClient
from airflow_provider_mwaas.triggers.watcher import Alarm, PollResult, Watcher

__all__ = ["PollResult", "Watcher", "WorkflowPoller", "pollers", "unwatch", "watch"]

#: A new poller's first poll waits until no trigger arrived for this many seconds...
JOIN_WINDOW = 0.2
#: ...but never longer than this after its first trigger.
JOIN_MAX = 3.0
#: A newly watched run is caught up on before the next poll only when that is further away than this.
CATCH_UP_AFTER = 1.0
#: ListWorkflowRuns pages per interval that catching up on newly watched runs may spend.
CATCH_UP_PAGES_PER_INTERVAL = 5
#: ListTaskInstances per interval that progress lines of one poller's watchers may spend. A failed run's
#: diagnostics (its task instances and its error message) are always read, and spend from the same
#: budget: an interval in which F runs fail costs 2 x F calls beside the listing, plus the progress reads
#: taken before the failures were seen (at most this many).
PROGRESS_READS_PER_INTERVAL = 5

_log = logging.getLogger(__name__)


class WorkflowPoller(RunListing):
    """Polls one workflow's runs for every watcher; see the module docstring.

    :param shared: the shared client (leased by the watching triggers).
    :param workflow_arn: the workflow.
    :param delay: seconds between polls (the triggers' ``waiter_delay``).
    :param events: the events queue that wakes this poller, or ``None`` (polling alone).
    """

    def __init__(self, shared: SharedClient, workflow_arn: str, delay: float, events: EventsConfig | None = None):
        super().__init__(shared, workflow_arn, delay)
        self.events = events
        self.consumer: QueueConsumer | None = None  # set while subscribed to the events queue
        self.looks = 0  # event-woken listings begun
        self.progress_reads_left = PROGRESS_READS_PER_INTERVAL
        self._catch_up_pages_left = CATCH_UP_PAGES_PER_INTERVAL
        self._last_arrival = 0.0
        self._alarm = Alarm()  # the poller's sleep; an arrival, an event or a queue health change cuts it short
        self._nudged: set[str] = set()  # runs named by events since the last poll or look began
        self._nudged_all = False  # an event named the workflow only: look at every watched run
        self._look_failed = False  # an event-woken look failed: poll at ``delay`` until the next poll
        self._task: asyncio.Task[None] | None = None
        self._next_deadline = math.inf  # no watcher's ``ends_at`` is earlier (epoch seconds)

    @property
    def key(self) -> tuple[Any, ...]:
        """Its key in :func:`pollers`."""
        return (self.shared.key, self.workflow_arn, self.delay, self.events)

    @property
    def interval(self) -> float:
        """Seconds between regular polls now: the safety interval while events arrive, else ``delay``."""
        if self.events is None or self.consumer is None or not self.consumer.healthy or self._look_failed:
            return self.delay
        return float(self.events.safety_interval)

    def add(self, watcher: Watcher) -> None:
        self.watchers.setdefault(watcher.run_id, set()).add(watcher)
        self._fresh.add(watcher.run_id)
        self._next_deadline = min(self._next_deadline, watcher.ends_at)
        self._last_arrival = asyncio.get_running_loop().time()
        self._alarm.ring()
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._loop())

    def remove(self, watcher: Watcher) -> bool:
        """Drop ``watcher``; return True when it was the last (the poller is then stopped)."""
        group = self.watchers.get(watcher.run_id)
        if group is not None:
            group.discard(watcher)
            if not group:
                del self.watchers[watcher.run_id]
                self._fresh.discard(watcher.run_id)
        if self.watchers:
            return False
        if self._task is not None and not self._task.done():
            self._task.cancel()
        return True

    def expire(self) -> None:
        """Wake the watchers whose ``ends_at`` passed (their waits end without a result): one deadline for
        all watchers, kept here, rather than a timer per wait."""
        now = time.time()
        if now < self._next_deadline:
            return
        upcoming = math.inf
        for group in self.watchers.values():
            for watcher in group:
                if watcher.ends_at <= now:
                    watcher.ring()
                else:
                    upcoming = min(upcoming, watcher.ends_at)
        self._next_deadline = upcoming

    async def _sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` (cut short by the alarm and by the next watcher deadline); then expire deadlines."""
        await self._alarm.sleep(max(0.0, min(seconds, self._next_deadline - time.time())))
        self.expire()

    def take_progress_read(self) -> bool:
        """Whether a watcher may spend one ListTaskInstances on a progress line (budget per interval)."""
        if self.progress_reads_left <= 0:
            return False
        self.progress_reads_left -= 1
        return True

    def spend_diagnostic_read(self) -> None:
        """A failed run's diagnostics read its task instances: one progress read fewer this interval."""
        self.progress_reads_left -= 1

    def nudge(self, run_ids: set[str] | None) -> None:
        """An event named ``run_ids`` (watched runs) or, with ``None``, this workflow: look at once."""
        if run_ids is None:
            self._nudged_all = True
        else:
            self._nudged |= run_ids
        self._alarm.ring()

    def events_changed(self) -> None:
        """The events queue became readable or unreadable: the schedule's interval changed."""
        self._alarm.ring()

    def _deliver(self, run_id: str, result: PollResult) -> None:
        super()._deliver(run_id, result)
        if self.consumer is not None and result.state in TERMINAL_STATES:
            self.consumer.ended(run_id)  # its event, when it comes, is used up here

    # -- schedule ---------------------------------------------------------------------------------------

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        factor = 1
        await self._join()
        while self.watchers:
            began = loop.time()  # fixed rate: a poll's own duration never delays the next one
            self.progress_reads_left = PROGRESS_READS_PER_INTERVAL
            self._catch_up_pages_left = CATCH_UP_PAGES_PER_INTERVAL
            self._nudged, self._nudged_all, self._look_failed = set(), False, False  # this poll covers them
            wanted = set(self.watchers)
            try:
                error, unseen = await self.poll(wanted)
            except Exception as err:  # never leave the watchers waiting on a dead poller
                _log.exception("Polling %s failed", self.workflow_arn)
                error, unseen = err, wanted
            factor = min(factor * 2, error_kinds.MAX_BACKOFF_FACTOR) if error is not None else 1
            if error is not None:
                await self._deliver_all(unseen, PollResult(None, error=error, next_poll_in=self.delay * factor))
            self.expire()  # a deadline may have passed during the poll
            await self._until(began, factor)

    async def _join(self) -> None:
        """Wait until triggers stop arriving for :data:`JOIN_WINDOW` s (at most :data:`JOIN_MAX` s)."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + JOIN_MAX
        while (now := loop.time()) < min(self._last_arrival + JOIN_WINDOW, give_up):
            await self._sleep(min(self._last_arrival + JOIN_WINDOW, give_up) - now)

    async def _until(self, began: float, factor: int) -> None:
        """Sleep until the next regular poll (``began + interval * factor``, recomputed after each wake-up:
        the interval follows the events queue's health); look at once when an event named a watched run;
        catch up sooner on a run that began to be watched meanwhile."""
        loop = asyncio.get_running_loop()
        while (now := loop.time()) < (due := began + (self.delay if factor > 1 else self.interval) * factor):
            if self._nudged_all or self._nudged & self.watchers.keys():
                await self._look()
                continue
            if self._fresh and due - now > CATCH_UP_AFTER and self._catch_up_pages_left > 0:
                await self._join()
                fresh = self._fresh & self.watchers.keys()
                if fresh:
                    await self._catch_up(fresh)
                continue
            await self._sleep(due - now)

    async def _look(self) -> None:
        """One event-woken look at the runs the events named since the last one: GetWorkflowRun for each
        when that is fewer calls than the listing's pages, else one listing (of every watched run when an
        event named only the workflow); a failure brings the next regular poll to ``delay``."""
        everything = self._nudged_all
        wanted = set(self.watchers) if everything else self._nudged & self.watchers.keys()
        self._nudged, self._nudged_all = set(), False
        self.looks += 1
        try:
            if not everything and len(wanted) < self.pages_to_reach(wanted):
                error = await self.ask(wanted)  # fewer calls than the pages, and at once
            else:
                error, _ = await self.poll(wanted)
        except Exception as err:
            error = err
        if error is not None:
            _log.debug("An event-woken look at %s failed: %s", self.workflow_arn, error)
            self._look_failed = True

    async def _catch_up(self, fresh: set[str]) -> None:
        """List for newly watched runs only, within the interval's page budget; no GetWorkflowRun."""
        self.polls += 1
        seen: set[str] = set()
        try:
            self._catch_up_pages_left -= await self._list(fresh, seen, self._catch_up_pages_left)
        except Exception as err:  # the next regular poll reports it; no more catching up this interval
            _log.debug("Catching up on %s failed: %s", self.workflow_arn, err)
            self._catch_up_pages_left = 0


PollerKey = tuple[Any, ...]
_pollers: LoopLocal[dict[PollerKey, WorkflowPoller]] = LoopLocal(dict)


def pollers() -> dict[PollerKey, WorkflowPoller]:
    """The running event loop's pollers in this process."""
    return _pollers.get()


def watch(
    shared: SharedClient,
    workflow_arn: str,
    run_id: str,
    delay: float,
    events: EventsConfig | None = None,
    ends_at: float = math.inf,
) -> Watcher:
    """Watch ``run_id`` through the poller of ``(shared, workflow_arn, delay, events)`` until ``ends_at``
    (epoch seconds); :func:`unwatch` ends it (also when cancelled). With ``events``, the poller is woken by
    that queue's consumer (:mod:`.event_wake`).

    Two calls, not a context manager: see :meth:`~.shared_clients.ClientPool.acquire` (objects a wait keeps).
    """
    registry = pollers()
    key = (shared.key, workflow_arn, delay, events)
    poller = registry.get(key)
    if poller is None or poller.shared is not shared:
        poller = registry[key] = WorkflowPoller(shared, workflow_arn, delay, events)
    watcher = Watcher(run_id, poller, ends_at)
    if events is not None and poller.consumer is None:
        poller.consumer = subscribe(events, shared, poller)
    poller.add(watcher)
    return watcher


def unwatch(watcher: Watcher) -> None:
    """End a :func:`watch`; the last watcher of a poller stops it."""
    poller = watcher.poller
    if not isinstance(poller, WorkflowPoller) or not poller.remove(watcher):
        return
    registry = pollers()
    if registry.get(poller.key) is poller:
        del registry[poller.key]
    if poller.consumer is not None:
        poller.consumer.unsubscribe(poller)
        poller.consumer = None
