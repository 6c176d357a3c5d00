"""What an execution's local Airflow knows, read back as the service reports it.

Task instances come from the run's Airflow metadata database (SQLite, opened read-only while the run
goes on), their logs from the process output that ``dag.test()`` writes, split at its per-task markers.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

#: Airflow task states the service's ``TaskInstanceStatus`` enum has no member for.
_STATE_ALIASES = {"skipped": "CANCELLED", "deferred": "DEFERRED", None: "NONE", "": "NONE"}
_SERVICE_STATES = frozenset(
    {
        "QUEUED",
        "FAILED",
        "SCHEDULED",
        "RUNNING",
        "SUCCESS",
        "UP_FOR_RESCHEDULE",
        "UP_FOR_RETRY",
        "UPSTREAM_FAILED",
        "REMOVED",
        "RESTARTING",
        "DEFERRED",
        "NONE",
        "CANCELLED",
        "TIMEOUT",
    }
)
#: States after which a task will not change by itself (a stopped run cancels every other one).
FINISHED_STATES = frozenset({"SUCCESS", "FAILED", "UPSTREAM_FAILED", "CANCELLED", "REMOVED", "TIMEOUT"})
_START = re.compile(r"\[DAG TEST\] starting task_id=(?P<task>\S+)")
_END = re.compile(r"\[DAG TEST\] end task task_id=(?P<task>\S+)")


@dataclass(frozen=True)
class TaskRecord:
    """One task instance of an execution, in the service's terms.

    :param task_id: the Airflow task id.
    :param status: a ``TaskInstanceStatus`` value.
    :param operator: the operator's class name.
    :param started_at: when it started (``None`` before).
    :param ended_at: when it ended (``None`` before).
    :param duration: seconds it ran, Airflow's own figure.
    :param attempt: Airflow's try number.
    """

    task_id: str
    status: str
    operator: str
    started_at: datetime | None
    ended_at: datetime | None
    duration: float | None
    attempt: int

    def cancelled(self, at: datetime) -> TaskRecord:
        """This task as a stopped run leaves it: unfinished work is ``CANCELLED``."""
        if self.status in FINISHED_STATES:
            return self
        return TaskRecord(self.task_id, "CANCELLED", self.operator, self.started_at, at, self.duration, self.attempt)


def service_status(airflow_state: str | None) -> str:
    """Airflow's task state as a ``TaskInstanceStatus`` (``skipped`` has no member: ``CANCELLED``)."""
    if airflow_state in _STATE_ALIASES:
        return _STATE_ALIASES[airflow_state]
    upper = str(airflow_state).upper()
    return upper if upper in _SERVICE_STATES else "NONE"


def read_task_records(database: Path) -> list[TaskRecord]:
    """Every task instance of the (single) DAG run in ``database``, in start order; ``[]`` before the run exists."""
    if not database.exists():
        return []
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as conn:
            rows = conn.execute(
                "SELECT task_id, state, operator, start_date, end_date, duration, try_number "
                "FROM task_instance ORDER BY COALESCE(start_date, '9999'), task_id"
            ).fetchall()
    except sqlite3.Error:  # the writer holds a lock or the schema is not there yet: nothing to report
        return []
    return [
        TaskRecord(
            task_id=str(task_id),
            status=service_status(state),
            operator=str(operator or "BaseOperator"),
            started_at=_timestamp(start),
            ended_at=_timestamp(end) if state not in (None, "running", "queued", "scheduled") else None,
            duration=float(duration) if duration is not None else None,
            attempt=int(try_number or 0) or 1,
        )
        for task_id, state, operator, start, end, duration, try_number in rows
    ]


def read_run_state(database: Path) -> str | None:
    """The DAG run's Airflow state (``success``, ``failed``...), ``None`` when there is none."""
    if not database.exists():
        return None
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as conn:
            row = conn.execute("SELECT state FROM dag_run ORDER BY id DESC LIMIT 1").fetchone()
    except sqlite3.Error:
        return None
    return str(row[0]) if row else None


def split_task_logs(output: str) -> dict[str, list[str]]:
    """Lines of the process output per task, between ``dag.test()``'s start and end markers."""
    logs: dict[str, list[str]] = {}
    current: str | None = None
    for line in output.splitlines():
        start = _START.search(line)
        if start:
            current = start.group("task")
        if current is not None:
            logs.setdefault(current, []).append(line)
        if _END.search(line):
            current = None
    return logs


def _timestamp(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
