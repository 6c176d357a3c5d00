"""The one definition of the ClientToken rule (see README, "The token rule").

A token is derived from the task instance's identity in its DAG run plus a *generation*::

    mwaas-<40 hex chars of sha256(dag_id, task_id, run_id, map_index)>-g<generation>

It is deterministic, always 1-128 characters of ``[\\x21-\\x7E]`` whatever the ids hold, and differs
between DAG runs and map indexes. Generation 0 is tried first; a later try moves to generation
``n + 1`` only when the run started under generation ``n`` has already ended, so a retry re-attaches to
a run that is still in flight and starts a fresh one after a terminal run.
"""

from __future__ import annotations

import hashlib
import json
import re

TOKEN_PREFIX = "mwaas-"  # noqa: S105 (an idempotency token prefix, not a secret)
#: The service's ClientToken rule (shape ``IdempotencyTokenString``), checked by the hypothesis tests.
TOKEN_PATTERN = re.compile(r"[\x21-\x7E]{1,128}")


def task_identity_digest(dag_id: str, task_id: str, run_id: str, map_index: int | None) -> str:
    """Return a stable hex digest of one task instance's identity within its DAG run.

    JSON encoding keeps the fields unambiguous (no separator can be forged by an id's content).
    """
    identity = json.dumps([dag_id, task_id, run_id, -1 if map_index is None else map_index])
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()[:40]


def derive_client_token(dag_id: str, task_id: str, run_id: str, map_index: int | None = -1, generation: int = 0) -> str:
    """Derive the ClientToken for one generation of one task instance.

    :param dag_id: the DAG id.
    :param task_id: the task id.
    :param run_id: the DAG run id (any unicode, any length).
    :param map_index: the task's map index (-1 or ``None`` when not mapped).
    :param generation: 0 for the first run of this task in this DAG run, +1 after each terminal run.
    """
    if generation < 0:
        raise ValueError(f"generation must be >= 0, got {generation}")
    return f"{TOKEN_PREFIX}{task_identity_digest(dag_id, task_id, run_id, map_index)}-g{generation}"
