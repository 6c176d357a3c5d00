"""When a deferred wait ends: the waiter window, the task's ``execution_timeout``, and Airflow's backstop.

On the worker, ``execution_timeout`` interrupts the wait (``AirflowTaskTimeout``; the operator's
``on_kill`` then stops the run). Airflow 3.3 does not apply it to a deferral (the execution API leaves the
trigger timeout unset: "TODO: HANDLE execution timeout"), so the provider carries it into the trigger
itself: the trigger's ``execution_deadline`` is the try's start plus ``execution_timeout``, and the wait
ends at the earlier of that and the waiter window, in both modes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class WaitDeadlines:
    """The deadlines of one deferral.

    :param deadline: epoch seconds at which ``waiter_delay * waiter_max_attempts`` is used up.
    :param execution_deadline: epoch seconds at which ``execution_timeout`` ends, or ``None``.
    :param defer_timeout: Airflow's deferral timeout, a backstop only: the trigger's own deadlines fire
        first (with an event saying which state the run was in).
    """

    deadline: float
    execution_deadline: float | None
    defer_timeout: timedelta


def wait_deadlines(task: Any, context: Any, waiter_delay: int, waiter_max_attempts: int) -> WaitDeadlines:
    """Deadlines for ``task`` deferring now on a wait of ``waiter_delay * waiter_max_attempts`` seconds.

    :param task: the operator or sensor (its ``execution_timeout`` is read).
    :param context: the task's context; ``ti.start_date`` is the try's start (now when absent).
    """
    now = time.time()
    deadline = now + waiter_delay * waiter_max_attempts
    execution_deadline = None
    execution_timeout = getattr(task, "execution_timeout", None)
    if isinstance(execution_timeout, timedelta):
        started = getattr(context.get("ti") if hasattr(context, "get") else None, "start_date", None)
        began = started.timestamp() if isinstance(started, datetime) else now
        execution_deadline = began + execution_timeout.total_seconds()
    ends = min(deadline, execution_deadline) if execution_deadline is not None else deadline
    margin = max(60.0, 2.0 * waiter_delay)
    return WaitDeadlines(deadline, execution_deadline, timedelta(seconds=max(ends - now, 0.0) + margin))
