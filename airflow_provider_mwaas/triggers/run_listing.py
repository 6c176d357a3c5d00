"""One coalesced poll: a workflow's ListWorkflowRuns pages, delivered to the watchers page by page.

:class:`RunListing` is the part of :class:`~.coalescing.WorkflowPoller` that makes one poll (the
schedule, the registry and the events' wake-ups live in :mod:`.coalescing`). It lists the workflow's
runs (100 a page, newest first) until every wanted run was seen (:data:`EXTRA_PAGES`), hands each page's
results to their watchers as the page arrives (the summary carries the state, so an ended run is
reported from the listing), and asks GetWorkflowRun only for wanted runs the listing did not show. An
event-woken look at a few named runs (:meth:`RunListing.ask`) asks GetWorkflowRun for each when that is
fewer calls than the pages the listing would need to reach them (:meth:`RunListing.pages_to_reach`). A
retryably failed listing is returned to the schedule (no GetWorkflowRun fan-out); a listing refused for
good (access denied) falls back to GetWorkflowRun per run, so each trigger sees the error the single-run
path would.
"""

from __future__ import annotations

import asyncio
import logging
import math
from typing import Any

from airflow_provider_mwaas.errors import MwaaServerlessApiError, NonRetryableApiError
from airflow_provider_mwaas.service.error_kinds import error_codes_by_kind
from airflow_provider_mwaas.triggers.shared_clients import SharedClient
from airflow_provider_mwaas.triggers.watcher import PollResult, Watcher
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
#: Results handed out before yielding to the event loop, when one result goes to many runs.
DELIVERY_BATCH = 100
#: GetWorkflowRun fallbacks in flight at once per poller.
FALLBACK_CONCURRENCY = 10

_log = logging.getLogger(__name__)


def is_retryable_listing_error(err: BaseException) -> bool:
    """Whether a failed listing is worth retrying (throttling, transient, connection-level)."""
    if isinstance(err, NonRetryableApiError):
        return False
    if isinstance(err, MwaaServerlessApiError):
        throttling, transient = error_codes_by_kind()
        return err.code in throttling | transient
    return True  # connection-level failures


class RunListing:
    """One poll of one workflow's runs for its watchers; see the module docstring.

    :param shared: the shared client (leased by the watching triggers).
    :param workflow_arn: the workflow.
    :param delay: seconds between regular polls (the triggers' ``waiter_delay``).
    """

    def __init__(self, shared: SharedClient, workflow_arn: str, delay: float) -> None:
        self.shared = shared
        self.workflow_arn = workflow_arn
        self.delay = delay
        self.watchers: dict[str, set[Watcher]] = {}
        self.polls = 0  # listings begun (regular, catch-up and event-woken)
        self._fresh: set[str] = set()  # watched runs with a watcher that has had no result yet
        self._listing_allowed = True
        self._created: dict[str, Any] = {}  # run id -> creation time, learnt from the listing or GetWorkflowRun
        self._page_of: dict[str, int] = {}  # run id -> the listing page it was last seen on (1 = newest)

    @property
    def interval(self) -> float:
        """Seconds between regular polls now."""
        return self.delay

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
                if is_retryable_listing_error(err):
                    return err, wanted - seen
                if isinstance(err, NonRetryableApiError) and err.code == "AccessDeniedException":
                    self._listing_allowed = False  # keep watching, one GetWorkflowRun per run
                _log.warning(
                    "ListWorkflowRuns on %s failed (%s): asking GetWorkflowRun for each run", self.workflow_arn, err
                )
        await self._ask_each(wanted - seen, deliver_errors=True)
        return None, set()

    def pages_to_reach(self, run_ids: set[str]) -> int:
        """The listing pages a poll would read to see every run in ``run_ids``: the page each was last seen
        on (a lower bound: newer runs only push a run further down), or a fresh poll's pages for a run the
        listing never showed."""
        unknown = math.ceil(len(self.watchers) / PAGE_SIZE) + EXTRA_PAGES
        return max((self._page_of.get(run_id, unknown) for run_id in run_ids), default=0)

    async def ask(self, run_ids: set[str]) -> BaseException | None:
        """GetWorkflowRun for each of ``run_ids`` (a few, at once): for a look at runs an event named, when
        :meth:`pages_to_reach` says the listing would cost more calls, and take longer (its pages follow
        one another). Results are delivered; a failure is returned, not delivered (the look is a hint:
        the next poll reports what the watchers need to know)."""
        self.polls += 1
        return await self._ask_each(run_ids, deliver_errors=False)

    async def _ask_each(self, run_ids: set[str], deliver_errors: bool) -> BaseException | None:
        """GetWorkflowRun per run, :data:`FALLBACK_CONCURRENCY` at a time; deliver the results (the errors
        too when ``deliver_errors``); return the last error."""
        limit = asyncio.Semaphore(FALLBACK_CONCURRENCY)
        errors: list[BaseException] = []

        async def fetch(run_id: str) -> None:
            async with limit:
                if run_id not in self.watchers:  # it may have left while waiting for its turn
                    return
                result = await self._get(run_id)
                if result.error is not None:
                    errors.append(result.error)
                if result.error is None or deliver_errors:
                    self._deliver(run_id, result)

        await asyncio.gather(*(fetch(run_id) for run_id in run_ids))
        return errors[-1] if errors else None

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
        for run_id in (self._created.keys() | self._page_of.keys()) - self.watchers.keys():
            self._created.pop(run_id, None)  # forget runs nobody watches any more
            self._page_of.pop(run_id, None)
        token: str | None = None
        results: dict[str, PollResult] = {}  # one result per state, handed to every run in it (no per-run objects)
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
                    self._page_of[run_id] = pages
                    status = str(summary["Status"])
                    if status not in results:
                        results[status] = PollResult(status, next_poll_in=self.interval)
                    self._deliver(run_id, results[status])
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
            return PollResult(None, error=err, next_poll_in=self.interval, operation="GetWorkflowRun")
        created = (run.get("RunDetail") or {}).get("CreatedAt")
        if created is not None:
            self._created[run_id] = created
        return PollResult(run_state(run), run=run, next_poll_in=self.interval, operation="GetWorkflowRun")
