"""The backend's run operations: ``StartWorkflowRun`` (idempotent on ``ClientToken``), get, stop, list."""

from __future__ import annotations

import itertools
import threading
from typing import TYPE_CHECKING, Any

from ..exceptions import ConflictException, ResourceNotFoundException
from ..state import STATE
from .listing import RunIndex
from .run import RunStart, WorkflowRun
from .shapes import TERMINAL, compact

if TYPE_CHECKING:
    from .workflows import Workflow


class RunsMixin:
    """Runs of every workflow of one backend, by id and by workflow, and the tokens that started them."""

    runs: dict[str, WorkflowRun]
    run_index: RunIndex
    run_tokens: dict[tuple[str, str], str]
    _sequence: itertools.count[int]
    _lock: threading.RLock

    if TYPE_CHECKING:

        def _workflow(self, arn: str) -> Workflow: ...

    def start_workflow_run(self, params: dict[str, Any]) -> dict[str, Any]:
        """``StartWorkflowRun``; idempotent on ``ClientToken`` (a replay returns the same run)."""
        with self._lock:
            workflow = self._workflow(params["WorkflowArn"])
            token = params.get("ClientToken")
            request = {k: params.get(k) for k in ("WorkflowVersion", "OverrideParameters")}
            known = self.run_tokens.get((workflow.arn, token)) if token is not None else None
            run = self.runs[known] if known is not None else None
            if run is not None and STATE.assumptions.remembers(run.age_seconds(), run.peek in TERMINAL):
                if run.request != request:
                    if STATE.assumptions.conflict_names_run:
                        raise ConflictException(
                            "WorkflowRun",
                            run.run_id,
                            f"ClientToken {token} was already used with different parameters (run {run.run_id})",
                        )
                    raise ConflictException(
                        "ClientToken", str(token), f"ClientToken {token} was already used with different parameters"
                    )
                return {"RunId": run.run_id, "Status": run.peek, "StartedAt": run.created_at}
            version = workflow.version(params.get("WorkflowVersion"))
            start = RunStart(workflow, version, token, request, next(self._sequence))
            if STATE.executor is not None:  # executing mode: see emulator/execution
                run = STATE.executor.start_run(self, start)
            else:
                run = WorkflowRun(
                    start,
                    outcome=STATE.outcomes.take_script(workflow.arn),
                    held=STATE.outcomes.holds(workflow.arn),
                )
            self.runs[run.run_id] = run
            self.run_index.add(run)
            if token is not None:
                self.run_tokens[(workflow.arn, token)] = run.run_id
            STATE.counters.count_run_started()
            return {"RunId": run.run_id, "Status": run.peek, "StartedAt": run.created_at}

    def _run(self, workflow_arn: str, run_id: str) -> WorkflowRun:
        self._workflow(workflow_arn)
        run = self.runs.get(run_id)
        if run is None or run.workflow_arn != workflow_arn:
            raise ResourceNotFoundException("WorkflowRun", run_id, f"Run {run_id} of {workflow_arn} not found")
        return run

    def get_workflow_run(self, workflow_arn: str, run_id: str) -> dict[str, Any]:
        """``GetWorkflowRun``; in ``call`` mode each call advances the run."""
        run = self._run(workflow_arn, run_id)
        run.read()
        return compact(
            {
                "WorkflowArn": run.workflow_arn,
                "WorkflowVersion": run.workflow_version,
                "RunId": run.run_id,
                "RunType": "ON_DEMAND",
                "OverrideParameters": run.override_parameters,
                "RunDetail": run.detail(),
            }
        )

    def stop_workflow_run(self, workflow_arn: str, run_id: str) -> dict[str, Any]:
        """``StopWorkflowRun``; a run already terminal keeps its state."""
        run = self._run(workflow_arn, run_id)
        status = run.stop()
        return {
            "WorkflowArn": run.workflow_arn,
            "WorkflowVersion": run.workflow_version,
            "RunId": run.run_id,
            "Status": status,
        }

    def list_workflow_runs(
        self,
        workflow_arn: str,
        workflow_version: str | None = None,
        max_results: int | None = None,
        next_token: str | None = None,
    ) -> tuple[list[WorkflowRun], str | None]:
        """``ListWorkflowRuns``: one page and the next token, newest first (or as
        ``STATE.assumptions.listing_order`` says); O(page), see :mod:`.listing`."""
        self._workflow(workflow_arn)
        return self.run_index.page(
            workflow_arn, workflow_version, STATE.assumptions.listing_order, max_results, next_token, self.runs
        )
