"""Emulator-wide state that is not a workflow or a run: faults, scripts, holds and counters.

Workflows and runs live in moto backends (one per account and region, see :mod:`.models`); what the
control API sets applies to the whole emulator, so it lives once, here, and :func:`reset` forgets it.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .assumptions import ServiceAssumptions
from .events import EVENT_COUNTERS
from .faults import FAULT_KINDS, FaultInjector, RefusalBook
from .outcomes import OutcomeBook


@dataclass
class Counters:
    """What reached the emulator and what it did with it.

    ``requests`` counts every request per operation (including ones refused by validation or
    answered by an injected fault); ``served`` counts those the emulated service answered itself
    (success or a service error such as ``ValidationException``); ``injected`` counts faults by kind.
    Control-API calls are not counted.
    """

    requests: Counter[str] = field(default_factory=Counter)
    served: Counter[str] = field(default_factory=Counter)
    injected: Counter[str] = field(default_factory=Counter)
    runs_started: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def count_request(self, operation: str) -> None:
        """One request for ``operation`` arrived."""
        with self._lock:
            self.requests[operation] += 1

    def count_served(self, operation: str) -> None:
        """The service answered a request for ``operation``."""
        with self._lock:
            self.served[operation] += 1

    def count_injected(self, kind: str) -> None:
        """A fault of ``kind`` was injected."""
        with self._lock:
            self.injected[kind] += 1

    def count_run_started(self) -> None:
        """``StartWorkflowRun`` created a new run (idempotent replays do not count)."""
        with self._lock:
            self.runs_started += 1

    def snapshot(self) -> dict[str, Any]:
        """A JSON-ready copy: ``{"requests", "served", "injected", "runs_started", "events"}``."""
        with self._lock:
            return {
                "requests": dict(self.requests),
                "served": dict(self.served),
                "injected": {kind: self.injected.get(kind, 0) for kind in FAULT_KINDS},
                "runs_started": self.runs_started,
                "events": EVENT_COUNTERS.snapshot(),
            }


@dataclass
class EmulatorState:
    """The emulator-wide settings and counters."""

    faults: FaultInjector = field(default_factory=FaultInjector)
    outcomes: OutcomeBook = field(default_factory=OutcomeBook)
    counters: Counters = field(default_factory=Counters)
    refusals: RefusalBook = field(default_factory=RefusalBook)
    assumptions: ServiceAssumptions = field(default_factory=ServiceAssumptions)
    #: Executing mode's :class:`~.execution.WorkflowExecutor` (``None``: scripted runs). Kept by
    #: :meth:`reset`: it is how the emulator was started, not a test's setting.
    executor: Any = None

    def reset(self) -> None:
        """Forget faults, scripts, refusals, holds, counters and switched assumptions."""
        self.assumptions = ServiceAssumptions()
        self.faults.clear()
        self.refusals.clear()
        self.outcomes = OutcomeBook()
        self.counters = Counters()
        EVENT_COUNTERS.clear()


#: The one instance the backend, the responses and the control API share.
STATE = EmulatorState()
