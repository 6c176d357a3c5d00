"""The token rule applied by :class:`~.mwaa_serverless.StartWorkflowRunOperator`: start this try's run, or
take over the one an earlier try of the same attempt left (tokens: :mod:`.client_token`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_mwaas.errors import WorkflowRunTokenError
from airflow_provider_mwaas.operators.client_token import attempt_of, derive_client_token
from airflow_provider_mwaas.service.run_states import ATTACHABLE_STATES, SUCCESS_STATES
from airflow_provider_mwaas.watch.diagnostics import run_state

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_mwaas.hooks.mwaa_serverless import MwaaServerlessHook

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
