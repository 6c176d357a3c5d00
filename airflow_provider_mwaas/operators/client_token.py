"""The one definition of the ClientToken rule (see README, "The token rule").

A token is derived from the task instance's identity in its DAG run, the *attempt* (which clear of the
task this try belongs to) and a *generation*::

    mwaas-<40 hex chars of sha256(dag_id, task_id, run_id, map_index)>[-t<first try>]-g<generation>

It is deterministic, always 1-128 characters of ``[\\x21-\\x7E]`` whatever the ids hold, and differs
between DAG runs, map indexes and clears. Within one attempt, generation 0 is tried first; a later try
moves to generation ``n + 1`` only when the run of generation ``n`` can no longer succeed (FAILED,
TIMEOUT, STOPPED, STOPPING), so a retry re-attaches to a run in flight and adopts one that succeeded.

Which tries belong to one attempt is Airflow's own arithmetic: clearing a task instance sets its
``max_tries`` to ``try_number + retries``, so the first try since the last clear is
``max_tries - retries + 1`` (what Airflow's ``get_first_reschedule_date`` uses). ``dag_run.clear_number``
is not used: Airflow 3.3 bumps it for the whole DAG run when *any* task of it is cleared, which would
give a task that was not cleared fresh tokens and make its retry lose the run it has in flight.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

TOKEN_PREFIX = "mwaas-"  # noqa: S105 (an idempotency token prefix, not a secret)
#: The service's ClientToken rule (shape ``IdempotencyTokenString``), checked by the hypothesis tests.
TOKEN_PATTERN = re.compile(r"[\x21-\x7E]{1,128}")
#: A derived token, parsed back (the soak and the tests attribute emulator runs with it).
DERIVED_TOKEN = re.compile(r"mwaas-(?P<digest>[0-9a-f]{40})(?:-t(?P<first_try>\d+))?-g(?P<generation>\d+)")


@dataclass(frozen=True)
class Attempt:
    """Where a try stands since the task instance was last cleared.

    :param try_number: this try's number (1-based, never reset by a clear).
    :param first_try: the first try number since the last clear (1 when never cleared).
    """

    try_number: int
    first_try: int = 1

    @property
    def earlier_tries(self) -> int:
        """Tries of this attempt before this one: each may have started (at most) one run."""
        return self.try_number - self.first_try


def attempt_of(ti: Any) -> Attempt:
    """Read the attempt from a task instance (Airflow 3 runtime TI or Airflow 2 ORM TI).

    ``max_tries`` and ``task.retries`` give the first try since the last clear. When either is
    missing or inconsistent (a DAG edit lowered ``retries`` since), the answer is clamped to a
    valid range and never exceeds this try.
    """
    try_number = max(_as_int(getattr(ti, "try_number", 1)) or 1, 1)
    max_tries = _as_int(getattr(ti, "max_tries", None))
    retries = _as_int(getattr(getattr(ti, "task", None), "retries", None))
    if max_tries is None or retries is None or max_tries < 0:
        return Attempt(try_number, 1)
    first_try = min(max(max_tries - retries + 1, 1), try_number)
    return Attempt(try_number, first_try)


def task_identity_digest(dag_id: str, task_id: str, run_id: str, map_index: int | None) -> str:
    """Return a stable hex digest of one task instance's identity within its DAG run.

    JSON encoding keeps the fields unambiguous (no separator can be forged by an id's content).
    """
    identity = json.dumps([dag_id, task_id, run_id, -1 if map_index is None else map_index])
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()[:40]


def derive_client_token(
    dag_id: str,
    task_id: str,
    run_id: str,
    map_index: int | None = -1,
    generation: int = 0,
    first_try: int = 1,
) -> str:
    """Derive the ClientToken for one generation of one attempt of a task instance.

    :param dag_id: the DAG id.
    :param task_id: the task id.
    :param run_id: the DAG run id (any unicode, any length).
    :param map_index: the task's map index (-1 or ``None`` when not mapped).
    :param generation: 0 for the first run of this attempt, +1 after each run that cannot succeed.
    :param first_try: the attempt's first try number (:attr:`Attempt.first_try`); 1 (never cleared)
        keeps the token of releases before clears were told apart.
    """
    if generation < 0:
        raise ValueError(f"generation must be >= 0, got {generation}")
    if first_try < 1:
        raise ValueError(f"first_try must be >= 1, got {first_try}")
    attempt = f"-t{first_try}" if first_try > 1 else ""
    return f"{TOKEN_PREFIX}{task_identity_digest(dag_id, task_id, run_id, map_index)}{attempt}-g{generation}"


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
