"""Coalesced polling: the triggers waiting on runs of one workflow share one ListWorkflowRuns poll.

One :class:`WorkflowPoller` per (shared client, workflow ARN, ``waiter_delay``) per event loop polls at a
fixed rate: it lists the workflow's runs (100 a page, newest first) until every watched run was seen
(:data:`EXTRA_PAGES`), hands each page's results to their watchers as the page arrives (the summary
carries the state, so an ended run is reported from the listing), and asks GetWorkflowRun only for
watched runs the listing did not show. N waits cost ``ceil(N/100)`` requests per interval, also when
the runs finish. A new poller's first poll waits for arrivals to stop (:data:`JOIN_WINDOW`, at most
:data:`JOIN_MAX`); runs watched between polls are caught up on within
:data:`CATCH_UP_PAGES_PER_INTERVAL`; a leaving watcher never affects the others. A retryably failed
listing is reported to every watcher and backs the poller off (x2 up to ``MAX_BACKOFF_FACTOR``), with
no GetWorkflowRun fan-out; a listing refused for good (access denied) falls back to GetWorkflowRun per
run, so each trigger sees the error the single-run path would. See docs/performance.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import weakref
from collections.abc import AsyncIterator
from typing import Any

from airflow_provider_mwaas.errors import MwaaServerlessApiError, NonRetryableApiError
from airflow_provider_mwaas.service import error_kinds
from airflow_provider_mwaas.service.error_kinds import error_codes_by_kind
from airflow_provider_mwaas.triggers.shared_clients import SharedClient
from airflow_provider_mwaas.triggers.watcher import Alarm, PollResult, Watcher
from airflow_provider_mwaas.watch.diagnostics import run_state

#: ListWorkflowRuns page size (the service's maximum).
PAGE_SIZE = 100
#: Pages read beyond ``ceil(watched / PAGE_SIZE)`` before unseen runs go to GetWorkflowRun (room for newer
#: runs nobody here watches). Paging goes on while a page shows a watched run or fewer pages were read than
#: runs are unseen (a page never costs more than the calls it may save), and stops once the listing passed
#: the creation time of every unseen run.
EXTRA_PAGES = 2
#: Hard limit on pages per poll (``PAGE_SIZE * MAX_PAGES`` newest runs).
MAX_PAGES = 100
#: A new poller's first poll waits until no trigger arrived for this many seconds...
JOIN_WINDOW = 0.2
#: ...but never longer than this after its first trigger.
JOIN_MAX = 3.0
#: A newly watched run is caught up on before the next poll only when that is further away than this.
CATCH_UP_AFTER = 1.0
#: ListWorkflowRuns pages per interval that catching up on newly watched runs may spend.
CATCH_UP_PAGES_PER_INTERVAL = 5
#: ListTaskInstances per interval that progress lines of one poller's watchers may spend (a failed
#: run's diagnostics are not counted: they are always read).
PROGRESS_READS_PER_INTERVAL = 5
#: Results handed out before yielding to the event loop, when one result goes to many runs.
DELIVERY_BATCH = 100
#: GetWorkflowRun fallbacks in flight at once per poller.
FALLBACK_CONCURRENCY = 10

_log = logging.getLogger(__name__)


def _is_retryable_listing_error(err: BaseException) -> bool:
    if isinstance(err, NonRetryableApiError):
        return False
    if isinstance(err, MwaaServerlessApiError):
        throttling, transient = error_codes_by_kind()
        return err.code in throttling | transient
    return True  # connection-level failures


class WorkflowPoller:
    """Polls one workflow's runs for every watcher; see the module docstring.

    :param shared: the shared client (leased by the watching triggers).
    :param workflow_arn: the workflow.
    :param delay: seconds between polls (the triggers' ``waiter_delay``).
    """

    def __init__(self, shared: SharedClient, workflow_arn: str, delay: float) -> None:
        self.shared = shared
        self.workflow_arn = workflow_arn
        self.delay = delay
        self.watchers: dict[str, set[Watcher]] = {}
        self.polls = 0  # listings begun (regular and catch-up)
        self.progress_reads_left = PROGRESS_READS_PER_INTERVAL
        self._catch_up_pages_left = CATCH_UP_PAGES_PER_INTERVAL
        self._fresh: set[str] = set()  # watched runs with a watcher that has had no result yet
        self._last_arrival = 0.0
        self._alarm = Alarm()  # the poller's sleep; an arrival cuts it short
        self._listing_allowed = True
        self._created: dict[str, Any] = {}  # run id -> creation time, learnt from the listing or GetWorkflowRun
        self._task: asyncio.Task[None] | None = None

    def add(self, watcher: Watcher) -> None:
        self.watchers.setdefault(watcher.run_id, set()).add(watcher)
        self._fresh.add(watcher.run_id)
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

    def take_progress_read(self) -> bool:
        """Whether a watcher may spend one ListTaskInstances on a progress line (budget per interval)."""
        if self.progress_reads_left <= 0:
            return False
        self.progress_reads_left -= 1
        return True

    # -- schedule ---------------------------------------------------------------------------------------

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        factor = 1
        await self._join()
        while self.watchers:
            began = loop.time()  # fixed rate: a poll's own duration never delays the next one
            self.progress_reads_left = PROGRESS_READS_PER_INTERVAL
            self._catch_up_pages_left = CATCH_UP_PAGES_PER_INTERVAL
            wanted = set(self.watchers)
            try:
                error, unseen = await self.poll(wanted)
            except Exception as err:  # never leave the watchers waiting on a dead poller
                _log.exception("Polling %s failed", self.workflow_arn)
                error, unseen = err, wanted
            factor = min(factor * 2, error_kinds.MAX_BACKOFF_FACTOR) if error is not None else 1
            if error is not None:
                await self._deliver_all(unseen, PollResult(None, error=error, next_poll_in=self.delay * factor))
            await self._until(began + self.delay * factor)

    async def _join(self) -> None:
        """Wait until triggers stop arriving for :data:`JOIN_WINDOW` s (at most :data:`JOIN_MAX` s)."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + JOIN_MAX
        while (now := loop.time()) < min(self._last_arrival + JOIN_WINDOW, give_up):
            await self._alarm.sleep(min(self._last_arrival + JOIN_WINDOW, give_up) - now)

    async def _until(self, due: float) -> None:
        """Sleep until ``due``; a run that began to be watched meanwhile is caught up on sooner."""
        loop = asyncio.get_running_loop()
        while (now := loop.time()) < due:
            if self._fresh and due - now > CATCH_UP_AFTER and self._catch_up_pages_left > 0:
                await self._join()
                fresh = self._fresh & self.watchers.keys()
                if fresh:
                    await self._catch_up(fresh)
                continue
            await self._alarm.sleep(due - now)

    async def _catch_up(self, fresh: set[str]) -> None:
        """List for newly watched runs only, within the interval's page budget; no GetWorkflowRun."""
        self.polls += 1
        seen: set[str] = set()
        try:
            self._catch_up_pages_left -= await self._list(fresh, seen, self._catch_up_pages_left)
        except Exception as err:  # the next regular poll reports it; no more catching up this interval
            _log.debug("Catching up on %s failed: %s", self.workflow_arn, err)
            self._catch_up_pages_left = 0

    # -- one poll ---------------------------------------------------------------------------------------

    async def poll(self, wanted: set[str]) -> tuple[BaseException | None, set[str]]:
        """One poll for ``wanted`` run ids, delivering each result as it is learnt.

        :return: (the retryable listing failure or ``None``, the wanted runs that got no result).
        """
        self.polls += 1
        seen: set[str] = set()
        if self._listing_allowed:
            try:
                await self._list(wanted, seen, MAX_PAGES)
            except Exception as err:
                if _is_retryable_listing_error(err):
                    return err, wanted - seen
                if isinstance(err, NonRetryableApiError) and err.code == "AccessDeniedException":
                    self._listing_allowed = False  # keep watching, one GetWorkflowRun per run
                _log.warning(
                    "ListWorkflowRuns on %s failed (%s): asking GetWorkflowRun for each run", self.workflow_arn, err
                )
        limit = asyncio.Semaphore(FALLBACK_CONCURRENCY)

        async def fetch(run_id: str) -> None:
            async with limit:
                if run_id in self.watchers:  # it may have left while waiting for its turn
                    self._deliver(run_id, await self._get(run_id))

        await asyncio.gather(*(fetch(run_id) for run_id in wanted - seen))
        return None, set()

    def _deliver(self, run_id: str, result: PollResult) -> None:
        self._fresh.discard(run_id)
        for watcher in list(self.watchers.get(run_id, ())):
            watcher.deliver(result)

    async def _deliver_all(self, run_ids: set[str], result: PollResult) -> None:
        """Deliver one result to many runs, :data:`DELIVERY_BATCH` at a time, yielding to the woken triggers."""
        for count, run_id in enumerate(run_ids, 1):
            self._deliver(run_id, result)
            if count % DELIVERY_BATCH == 0:
                await asyncio.sleep(0)

    async def _list(self, wanted: set[str], seen: set[str], max_pages: int) -> int:
        """Page through the listing (newest first) until every wanted run was seen or paging stops paying.

        Each page's results are delivered as it arrives (at most :data:`PAGE_SIZE` triggers woken at
        once), to any run watched now, wanted or not. Returns the pages read.
        """
        for run_id in set(self._created) - self.watchers.keys():
            del self._created[run_id]  # forget runs nobody watches any more
        token: str | None = None
        base_pages = math.ceil(len(wanted) / PAGE_SIZE) + EXTRA_PAGES
        pages = 0
        while pages < max_pages:
            page = await self.shared.call(
                self.shared.hook.list_workflow_runs_page_async,
                self.workflow_arn,
                next_token=token,
                max_results=PAGE_SIZE,
            )
            pages += 1
            oldest, found_before = None, len(seen)
            for item in page.get("WorkflowRuns") or []:
                run_id = item.get("RunId")
                summary = item.get("RunDetailSummary") or {}
                oldest = summary.get("CreatedOn") or oldest
                if run_id in self.watchers and summary.get("Status") and run_id not in seen:
                    seen.add(run_id)
                    self._deliver(run_id, PollResult(str(summary["Status"]), next_poll_in=self.delay))
                    if summary.get("CreatedOn") is not None:
                        self._created[run_id] = summary["CreatedOn"]
            token = page.get("NextToken")
            unseen = wanted - seen
            paying = len(seen) > found_before or pages < len(unseen)  # a page saves more GetWorkflowRun than it costs
            if not token or not unseen or (pages >= base_pages and not paying):
                break
            if oldest is not None and self._passed_all(unseen, oldest):
                break
        return pages

    def _passed_all(self, unseen: set[str], oldest: Any) -> bool:
        """Whether the listing went past the creation time of every unseen run (they are not listed)."""
        try:
            return all(run_id in self._created and oldest < self._created[run_id] for run_id in unseen)
        except TypeError:  # incomparable timestamps: keep paging within the limits
            return False

    async def _get(self, run_id: str) -> PollResult:
        try:
            run = await self.shared.call(self.shared.hook.get_workflow_run_async, self.workflow_arn, run_id)
        except Exception as err:
            return PollResult(None, error=err, next_poll_in=self.delay, operation="GetWorkflowRun")
        created = (run.get("RunDetail") or {}).get("CreatedAt")
        if created is not None:
            self._created[run_id] = created
        return PollResult(run_state(run), run=run, next_poll_in=self.delay, operation="GetWorkflowRun")


PollerKey = tuple[Any, ...]
_registries: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[int, dict[PollerKey, WorkflowPoller]]] = (
    weakref.WeakKeyDictionary()
)


def pollers() -> dict[PollerKey, WorkflowPoller]:
    """The running event loop's pollers in this process."""
    loop = asyncio.get_running_loop()
    found = _registries.get(loop)
    if found is None or found[0] != os.getpid():
        found = _registries[loop] = (os.getpid(), {})
    return found[1]


@contextlib.asynccontextmanager
async def watch(shared: SharedClient, workflow_arn: str, run_id: str, delay: float) -> AsyncIterator[Watcher]:
    """Watch ``run_id`` through the poller of ``(shared, workflow_arn, delay)``; leave on exit (even cancelled)."""
    registry = pollers()
    key = (shared.key, workflow_arn, delay)
    poller = registry.get(key)
    if poller is None or poller.shared is not shared:
        poller = registry[key] = WorkflowPoller(shared, workflow_arn, delay)
    watcher = Watcher(run_id, poller)
    poller.add(watcher)
    try:
        yield watcher
    finally:
        if poller.remove(watcher) and registry.get(key) is poller:
            del registry[key]
