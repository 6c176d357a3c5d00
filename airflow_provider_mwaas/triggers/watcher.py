"""What a coalesced poll hands each waiting trigger: :class:`PollResult` through its :class:`Watcher`."""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from typing import Any, Protocol


class ProgressBudget(Protocol):
    """Something that rations progress reads (a :class:`~.coalescing.WorkflowPoller`)."""

    def take_progress_read(self) -> bool: ...

    def spend_diagnostic_read(self) -> None: ...


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


class Alarm:
    """A sleep that another party can cut short (a poller's): one future and one timer per sleep, no task
    (as ``asyncio.wait_for`` would make)."""

    __slots__ = ("_waiting",)

    def __init__(self) -> None:
        self._waiting: asyncio.Future[None] | None = None

    def ring(self) -> None:
        """End the current sleep, if any."""
        if self._waiting is not None:
            wake(self._waiting)

    async def sleep(self, seconds: float) -> None:
        """Sleep ``seconds``, or until :meth:`ring`."""
        loop = asyncio.get_running_loop()
        waiting = self._waiting = loop.create_future()
        timer = loop.call_later(seconds, wake, waiting)
        try:
            await waiting
        finally:
            timer.cancel()
            self._waiting = None


class Watcher:
    """One trigger's subscription to a poller: the latest result for its run, and its deadline.

    A waiting watcher holds one future and nothing else: no timer (its poller wakes it at ``ends_at``,
    :meth:`~.coalescing.WorkflowPoller.expire`) and no task, so 10,000 waits are 10,000 small objects
    for every full collection of the garbage collector to walk, not 50,000.

    :param run_id: the run watched.
    :param poller: the poller it is subscribed to (its progress-read budget), if any.
    :param ends_at: epoch seconds at which the wait ends without a result (``inf``: never).
    """

    __slots__ = ("_latest", "_waiting", "ends_at", "poller", "run_id")

    def __init__(self, run_id: str, poller: ProgressBudget | None = None, ends_at: float = math.inf) -> None:
        self.run_id = run_id
        self.poller = poller
        self.ends_at = ends_at
        self._latest: PollResult | None = None
        self._waiting: asyncio.Future[None] | None = None

    def may_read_progress(self) -> bool:
        """Whether this wait may spend a ListTaskInstances on a progress line now."""
        return self.poller is None or self.poller.take_progress_read()

    def spend_diagnostic_read(self) -> None:
        """A failed run's diagnostics read its task instances (out of the same budget)."""
        if self.poller is not None:
            self.poller.spend_diagnostic_read()

    def deliver(self, result: PollResult) -> None:
        self._latest = result  # a slow reader skips stale results: only the newest matters
        self.ring()

    def ring(self) -> None:
        """Wake :meth:`next` (with the latest result, or ``None`` when there is none: the deadline)."""
        if self._waiting is not None:
            wake(self._waiting)

    async def next(self) -> PollResult | None:
        """The next result, or ``None`` when woken without one (``ends_at`` passed)."""
        if self._latest is None:
            waiting = self._waiting = asyncio.get_running_loop().create_future()
            try:
                await waiting
            finally:
                self._waiting = None
        result, self._latest = self._latest, None
        return result


def wake(waiting: asyncio.Future[None]) -> None:
    """Resolve ``waiting`` unless it is already done (a timer and a result may race)."""
    if not waiting.done():
        waiting.set_result(None)
