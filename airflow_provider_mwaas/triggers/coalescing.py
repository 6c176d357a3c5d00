"""Coalesced polling: the triggers waiting on runs of one workflow share one ListWorkflowRuns poll.

One :class:`WorkflowPoller` per (shared client, workflow ARN, ``waiter_delay``) per event loop. Every
``waiter_delay`` seconds it lists the workflow's runs (``MaxResults=100``, newest first), stopping as
soon as every watched run has been seen (see :data:`EXTRA_PAGES` for when it gives up earlier), and asks
GetWorkflowRun for each watched run the listing did not show (a run older than the pages read, or one
the listing omits). Each watcher gets a
:class:`PollResult` for its run after every poll. So N waits on one workflow cost about
``ceil(N/100)`` requests per interval instead of N.

Churn: a trigger that starts watching joins the next poll (the first poll of a new poller waits
:data:`JOIN_WINDOW` seconds so triggers started together share it); a trigger that stops watching
(its run ended, it timed out, or it was cancelled) leaves at once and never affects the others; the
poller ends with its last watcher.

Failures: a listing that fails with a retryable error (throttling that escaped botocore's retries, 5xx,
dropped connection) is reported to every watcher and the poller backs off (x2 per failure up to
``error_kinds.MAX_BACKOFF_FACTOR`` x ``waiter_delay``), without fanning out GetWorkflowRun calls that would
deepen the throttling. A listing refused for good (access denied, workflow gone) falls back to
GetWorkflowRun for every run, so each trigger sees exactly the error the single-run path would.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from airflow_provider_mwaas.errors import MwaaServerlessApiError, NonRetryableApiError
from airflow_provider_mwaas.service import error_kinds
from airflow_provider_mwaas.service.error_kinds import error_codes_by_kind
from airflow_provider_mwaas.triggers.shared_clients import SharedClient
from airflow_provider_mwaas.watch.diagnostics import run_state

#: ListWorkflowRuns page size (the service's maximum).
PAGE_SIZE = 100
#: Pages read beyond ``ceil(watched / PAGE_SIZE)`` before the remaining runs go to GetWorkflowRun
#: (room for runs of the workflow that nobody here watches, started after the watched ones). Paging
#: also goes on while fewer pages were read than watched runs are still unseen: one more page never
#: costs more than the GetWorkflowRun calls it may save. It stops early once the listing has gone past
#: the creation time of every unseen run (they are not in the listing at all).
EXTRA_PAGES = 2
#: Hard limit on pages per poll (``PAGE_SIZE * MAX_PAGES`` newest runs).
MAX_PAGES = 100
#: Seconds a new poller waits before its first poll, so triggers started together share it.
JOIN_WINDOW = 0.2
#: GetWorkflowRun fallbacks in flight at once per poller.
FALLBACK_CONCURRENCY = 10

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PollResult:
    """What one poll learnt about one run.

    :param state: the run's state (``None`` when ``error`` is set).
    :param run: the GetWorkflowRun response when the run came from the fallback, else ``None``.
    :param error: the failure that kept this poll from seeing the run.
    :param next_poll_in: seconds until the poller's next poll (longer while backing off).
    :param operation: the call that produced this result.
    """

    state: str | None
    run: dict[str, Any] | None = None
    error: BaseException | None = None
    next_poll_in: float = 0.0
    operation: str = "ListWorkflowRuns"


class Watcher:
    """One trigger's subscription to a poller: the latest result for its run."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self._latest: PollResult | None = None
        self._waiting: asyncio.Future[None] | None = None

    def deliver(self, result: PollResult) -> None:
        self._latest = result  # a slow reader skips stale results: only the newest matters
        if self._waiting is not None:
            _wake(self._waiting)

    async def next(self, timeout: float) -> PollResult | None:
        """The next result, or ``None`` if none came within ``timeout`` seconds."""
        if self._latest is None:
            # one future and one timer per wait: no extra task (as asyncio.wait_for would make)
            loop = asyncio.get_running_loop()
            waiting = self._waiting = loop.create_future()
            timer = loop.call_later(timeout, _wake, waiting)
            try:
                await waiting
            finally:
                timer.cancel()
                self._waiting = None
        result, self._latest = self._latest, None
        return result


def _wake(waiting: asyncio.Future[None]) -> None:
    if not waiting.done():
        waiting.set_result(None)


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
        self.polls = 0
        self._listing_allowed = True
        self._created: dict[str, Any] = {}  # run id -> creation time, learnt from the listing or GetWorkflowRun
        self._task: asyncio.Task[None] | None = None

    def add(self, watcher: Watcher) -> None:
        self.watchers.setdefault(watcher.run_id, set()).add(watcher)
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._loop())

    def remove(self, watcher: Watcher) -> bool:
        """Drop ``watcher``; return True when it was the last (the poller is then stopped)."""
        group = self.watchers.get(watcher.run_id)
        if group is not None:
            group.discard(watcher)
            if not group:
                del self.watchers[watcher.run_id]
        if self.watchers:
            return False
        if self._task is not None and not self._task.done():
            self._task.cancel()
        return True

    async def _loop(self) -> None:
        factor = 1
        await asyncio.sleep(JOIN_WINDOW)
        while self.watchers:
            wanted = set(self.watchers)
            try:
                results, listing_failed = await self.poll(wanted)
            except Exception as err:  # never leave the watchers waiting on a dead poller
                _log.exception("Polling %s failed", self.workflow_arn)
                results, listing_failed = {run_id: PollResult(None, error=err) for run_id in wanted}, True
            factor = min(factor * 2, error_kinds.MAX_BACKOFF_FACTOR) if listing_failed else 1
            next_poll_in = self.delay * factor
            for run_id, result in results.items():
                for watcher in list(self.watchers.get(run_id, ())):
                    watcher.deliver(PollResult(result.state, result.run, result.error, next_poll_in, result.operation))
            await asyncio.sleep(next_poll_in)

    async def poll(self, wanted: set[str]) -> tuple[dict[str, PollResult], bool]:
        """One poll for ``wanted`` run ids: (a result per run, whether the listing failed retryably)."""
        self.polls += 1
        found: dict[str, PollResult] = {}
        if self._listing_allowed:
            try:
                await self._list(wanted, found)
            except Exception as err:
                if _is_retryable_listing_error(err):
                    return {run_id: PollResult(None, error=err) for run_id in wanted}, True
                if isinstance(err, NonRetryableApiError) and err.code == "AccessDeniedException":
                    self._listing_allowed = False  # keep watching, one GetWorkflowRun per run
                _log.warning(
                    "ListWorkflowRuns on %s failed (%s): asking GetWorkflowRun for each run", self.workflow_arn, err
                )
        missing = wanted - found.keys()
        if missing:
            limit = asyncio.Semaphore(FALLBACK_CONCURRENCY)

            async def fetch(run_id: str) -> None:
                async with limit:
                    found[run_id] = await self._get(run_id)

            await asyncio.gather(*(fetch(run_id) for run_id in missing))
        return found, False

    async def _list(self, wanted: set[str], found: dict[str, PollResult]) -> None:
        for run_id in set(self._created) - wanted:
            del self._created[run_id]  # forget runs nobody watches any more
        token: str | None = None
        base_pages = math.ceil(len(wanted) / PAGE_SIZE) + EXTRA_PAGES
        pages = 0
        while pages < MAX_PAGES:
            page = await self.shared.call(
                self.shared.hook.list_workflow_runs_page_async,
                self.workflow_arn,
                next_token=token,
                max_results=PAGE_SIZE,
            )
            pages += 1
            oldest = None
            for item in page.get("WorkflowRuns") or []:
                run_id = item.get("RunId")
                summary = item.get("RunDetailSummary") or {}
                oldest = summary.get("CreatedOn") or oldest
                if run_id in wanted and summary.get("Status"):
                    found[run_id] = PollResult(str(summary["Status"]))
                    if summary.get("CreatedOn") is not None:
                        self._created[run_id] = summary["CreatedOn"]
            token = page.get("NextToken")
            unseen = wanted - found.keys()
            if not token or not unseen or (pages >= base_pages and pages >= len(unseen)):
                return
            if oldest is not None and self._passed_all(unseen, oldest):
                return

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
            return PollResult(None, error=err, operation="GetWorkflowRun")
        created = (run.get("RunDetail") or {}).get("CreatedAt")
        if created is not None:
            self._created[run_id] = created
        return PollResult(run_state(run), run=run, operation="GetWorkflowRun")


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
    watcher = Watcher(run_id)
    poller.add(watcher)
    try:
        yield watcher
    finally:
        if poller.remove(watcher) and registry.get(key) is poller:
            del registry[key]
