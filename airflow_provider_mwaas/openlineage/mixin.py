"""The OpenLineage hooks of ``StartWorkflowRunOperator`` and ``WorkflowRunSensor``.

The openlineage provider's listener calls ``get_openlineage_facets_on_start/complete/failure`` on the
task (its ``DefaultExtractor``); they build the facets in :mod:`~airflow_provider_mwaas.openlineage.facets`.
Imported at every DAG parse: no OpenLineage, boto3 or provider module is imported here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_mwaas.version_compat import conf

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context
    from airflow.providers.openlineage.extractors import OperatorLineage

#: The configuration option that gives ``openlineage_inject_parent_info`` its default.
INJECT_PARENT_INFO_OPTION = ("mwaas", "openlineage_inject_parent_info")


def watched_state(watch: Any) -> str | None:
    """The state a ``RunWatch`` last saw, ``None`` before it saw one (or without a watch)."""
    state = getattr(watch, "state", None)
    return None if state in (None, "UNKNOWN") else str(state)


def inject_parent_info_default() -> bool:
    """``[mwaas] openlineage_inject_parent_info`` (default ``False``)."""
    section, option = INJECT_PARENT_INFO_OPTION
    return conf.getboolean(section, option, fallback=False)


class OpenLineageMixin:
    """OpenLineage facets of one remote workflow run, for a task that starts or watches it.

    The task provides ``workflow_arn`` and :meth:`_lineage_run`; ``workflow_version`` (the version the run
    executed, ``_executed_version``, once known) and ``override_parameters`` are read when it has them. Facets
    name ``override_parameters``' keys, never their values.
    """

    workflow_arn: str

    def _lineage_run(self) -> tuple[str | None, str | None]:
        """The run this try started or watches, and its last known state (``None`` while unknown)."""
        raise NotImplementedError

    def _lineage_override_keys(self) -> list[str] | None:
        """The keys of the parameters sent (set by :meth:`_with_lineage_parent`), else of the task's own;
        ``None`` for a task that sends none (the sensor)."""
        sent = getattr(self, "_sent_override_keys", None)
        if sent is not None:
            return list(sent)
        if not hasattr(self, "override_parameters"):
            return None
        from airflow_provider_mwaas.openlineage.facets import parameter_keys

        return parameter_keys(self.override_parameters)

    def _operator_lineage(self) -> OperatorLineage:
        from airflow_provider_mwaas.openlineage.facets import operator_lineage

        run_id, state = self._lineage_run()
        return operator_lineage(
            workflow_arn=self.workflow_arn,
            workflow_version=getattr(self, "_executed_version", None) or getattr(self, "workflow_version", None),
            run_id=run_id,
            state=state,
            override_parameter_keys=self._lineage_override_keys(),
        )

    def get_openlineage_facets_on_start(self) -> OperatorLineage:
        """Facets of the task's start event: the workflow (and the run, when already known)."""
        return self._operator_lineage()

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> OperatorLineage:
        """Facets of the task's complete event: the run, its state, the external-query facet."""
        return self._operator_lineage()

    def get_openlineage_facets_on_failure(self, task_instance: Any) -> OperatorLineage:
        """Facets of the task's fail event: the run and its state, when a run was started."""
        return self._operator_lineage()

    def _with_lineage_parent(
        self, context: Context, override_parameters: dict[str, Any] | None, parent_try_number: int, inject: bool
    ) -> dict[str, Any] | None:
        """Return the parameters to send: with the parent job's identity added when ``inject``.

        Records the keys sent (for the facets). See :func:`~airflow_provider_mwaas.openlineage.parent.
        inject_parent_info` for the keys and why ``parent_try_number`` is not this try's.
        """
        if inject:
            from airflow_provider_mwaas.openlineage.parent import inject_parent_info

            override_parameters = inject_parent_info(override_parameters, context, parent_try_number)
        self._sent_override_keys = sorted(override_parameters or {})
        return override_parameters
