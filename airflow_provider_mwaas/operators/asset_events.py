"""The asset events of :class:`~.mwaa_serverless.StartWorkflowRunOperator`: the remote run in the extra of
the events Airflow emits for the task's ``Asset`` outlets, so that a downstream DAG finds the run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_mwaas.version_compat import asset_types

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_mwaas.hooks.mwaa_serverless import MwaaServerlessHook


class AssetEventsMixin:
    """:class:`~airflow_provider_mwaas.operators.mwaa_serverless.StartWorkflowRunOperator`'s asset event extras."""

    if TYPE_CHECKING:
        hook: MwaaServerlessHook
        log: Any
        outlets: Any
        workflow_arn: str
        workflow_version: str | None

    def _add_asset_event_extra(self, context: Context, run_id: str, state: str, workflow_version: str | None) -> None:
        """Put the run into the asset events Airflow emits for this task's ``Asset`` outlets on success.

        The extra (``workflow_arn``, ``workflow_version``, ``run_id``, ``state``) lets a downstream DAG
        scheduled on the asset find the remote run (``triggering_asset_events``). Keys a task set
        itself are kept. ``AssetAlias`` outlets are left to the user (they need a concrete asset).
        """
        assets = [outlet for outlet in self.outlets if isinstance(outlet, asset_types())]
        if not assets:
            return
        version = workflow_version or self.workflow_version or self._run_version(run_id)
        extra = {"workflow_arn": self.workflow_arn, "workflow_version": version, "run_id": run_id, "state": state}
        for asset in assets:
            context["outlet_events"][asset].extra.update(extra)  # type: ignore[index]

    def _run_version(self, run_id: str) -> str | None:
        """The version a run executed (the latest at its start when none was given), or ``None``.

        Never raises: the run already succeeded, and failing now would make a retry start a new run.
        """
        try:
            return self.hook.get_workflow_run(self.workflow_arn, run_id).get("WorkflowVersion")
        except Exception:
            self.log.warning("Could not read run %s's workflow version for its asset event", run_id, exc_info=True)
            return None
