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
from typing import TYPE_CHECKING, Any

from airflow_provider_mwaas.errors import WorkflowRunTokenError
from airflow_provider_mwaas.service.run_states import ATTACHABLE_STATES, SUCCESS_STATES
from airflow_provider_mwaas.watch.diagnostics import run_state

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_mwaas.hooks.mwaa_serverless import MwaaServerlessHook

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


# -- the rule applied: start this try's run, or take over an earlier try's --------------------------

#: Generations a retry may go past its earlier tries' (each conflict or unnamed run costs one) before
#: giving up: only reachable when the attempt arithmetic is off (``retries`` edited mid-attempt).
MAX_EXTRA_GENERATIONS = 8
#: ``_start_or_find``'s status for a run found through a ConflictException (an earlier try's).
CONFLICT = "CONFLICT"


class TokenRuleMixin:
    """:class:`~airflow_provider_mwaas.operators.mwaa_serverless.StartWorkflowRunOperator`'s use of the rule."""

    if TYPE_CHECKING:
        hook: MwaaServerlessHook
        log: Any
        workflow_arn: str
        workflow_version: str | None
        client_token: str | None

    def _start_or_attach(
        self, context: Context, override_parameters: dict[str, Any] | None
    ) -> tuple[str, str, dict[str, Any] | None, str]:
        """Start the run for this try, or take over the one an earlier try of this attempt left.

        The first try since the last clear starts generation 0 of a token no earlier attempt used,
        whatever the service remembers of older tokens. A retry asks for generation ``g`` = 0, 1, ...
        and reads the run it gets: STARTING/QUEUED/RUNNING -> re-attach; SUCCESS -> adopt (no new run);
        FAILED/TIMEOUT/STOPPED/STOPPING -> on to ``g + 1``. Each earlier try used at most one generation,
        so generation ``earlier_tries`` is always this try's own. A ConflictException (this try rendered
        other parameters than the try that used the token) names the earlier run, which the same rules
        then judge. See README, "The token rule", and docs/guarantees.md for the service behaviour relied on.

        :return: (run id, client token, the run as GetWorkflowRun returned it when an earlier try's run
            was taken over or ``None``, its state).
        """
        if self.client_token is not None:
            response = self._start(self.client_token, override_parameters)
            self.log.info("Run %s started (or re-attached) with the explicit client_token", response["RunId"])
            return response["RunId"], self.client_token, None, str(response.get("Status", "UNKNOWN"))

        ti = context["ti"]
        attempt = attempt_of(ti)
        if attempt.first_try > 1 and attempt.earlier_tries == 0:
            self.log.info("Try %d is the first since the task was cleared: a new run", attempt.try_number)
        for generation in range(attempt.earlier_tries + MAX_EXTRA_GENERATIONS + 1):
            token = derive_client_token(ti.dag_id, ti.task_id, ti.run_id, ti.map_index, generation, attempt.first_try)
            run_id, start_status, run = self._start_or_find(token, override_parameters)
            if run_id is None:  # an earlier try's run the service would not name: a duplicate is possible
                continue
            if generation >= attempt.earlier_tries and start_status != CONFLICT:
                # No earlier try of this attempt can have used this generation: the run is this try's own.
                self.log.info("Started workflow run %s (token generation %d)", run_id, generation)
                return run_id, token, None, start_status
            run = run or self.hook.get_workflow_run(self.workflow_arn, run_id)
            state = run_state(run)
            if state in ATTACHABLE_STATES or state in SUCCESS_STATES:
                verb = "Adopting" if state in SUCCESS_STATES else "Re-attaching to"
                self.log.info("%s run %s of generation %d: %s", verb, run_id, generation, state)
                return run_id, token, run, state
            self.log.info("Run %s of generation %d is %s and cannot succeed: moving on", run_id, generation, state)
        raise WorkflowRunTokenError(
            f"Try {attempt.try_number} found no free token generation after {generation + 1}: every one was "
            "used by a run that cannot succeed (did the task's retries change since it was last cleared?). "
            "Clear the task to start a new attempt, or pass client_token."
        )

    def _start_or_find(
        self, token: str, override_parameters: dict[str, Any] | None
    ) -> tuple[str | None, str, dict[str, Any] | None]:
        """StartWorkflowRun with ``token``: (run id, Status, ``None``); on ConflictException the run the
        service names, if any: (its id, :data:`CONFLICT`, its GetWorkflowRun response)."""
        from airflow_provider_mwaas.errors import MwaaServerlessApiError

        try:
            response = self._start(token, override_parameters)
            return str(response["RunId"]), str(response.get("Status", "UNKNOWN")), None
        except MwaaServerlessApiError as err:
            if err.code != "ConflictException":
                raise
            named = self._conflicting_run(err)
            if named is None:
                self.log.warning(
                    "Token %s was used by an earlier try with other parameters and the service did not say "
                    "which run it started: if that run is still in flight, the next generation starts a "
                    "second one (see docs/guarantees.md)",
                    token,
                )
            else:
                self.log.info(
                    "Token %s was used by an earlier try with other parameters: run %s", token, named["RunId"]
                )
                return str(named["RunId"]), CONFLICT, named
            return None, CONFLICT, None

    def _conflicting_run(self, err: Any) -> dict[str, Any] | None:
        """GetWorkflowRun of the run a ConflictException names in ``ResourceId``, if the service knows it."""
        from airflow_provider_mwaas.errors import MwaaServerlessApiError

        resource_id = err.details.get("ResourceId")
        if not isinstance(resource_id, str) or not resource_id:
            return None
        try:
            return self.hook.get_workflow_run(self.workflow_arn, resource_id)
        except (MwaaServerlessApiError, ValueError):
            return None

    def _start(self, token: str, override_parameters: dict[str, Any] | None) -> dict[str, Any]:
        return self.hook.start_workflow_run(
            self.workflow_arn,
            client_token=token,
            override_parameters=override_parameters,
            workflow_version=self.workflow_version,
        )
