"""Opt-in parent info injection: the starting task's OpenLineage identity, passed to the workflow run.

With ``openlineage_inject_parent_info`` on, ``StartWorkflowRunOperator`` adds one key to the run's
OverrideParameters::

    "openlineage": {"parentJobNamespace": ..., "parentJobName": "<dag_id>.<task_id>", "parentRunId": <uuid>}

These are the names the openlineage provider reads from a DAG run's ``conf`` to emit a ``ParentRunFacet``
(``get_parent_information_from_dagrun_conf``), so a workflow that receives its OverrideParameters as
run conf and runs with OpenLineage points back at this task; a task of the workflow can also read them
as ``params.openlineage``. The values come from the provider's own macros (``lineage_job_namespace``,
``lineage_job_name``, ``lineage_run_id``).

**The token rule.** ``lineage_run_id`` is derived per try (dag, task, logical date, map index and the
try number). Sending this try's id would make a retry's StartWorkflowRun differ from the try that used
the same ClientToken, which the service answers with a ConflictException instead of the run. So the
injected ``parentRunId`` is the OpenLineage run of the *first try that uses the token*: the attempt's
first try (the first since the task was last cleared; a clear starts a new token anyway) for a derived
token, try 1 for an explicit ``client_token``. Every try of an attempt thus sends the same parameters and
a retry re-attaches by plain replay. Root keys (``rootParent*``) are not sent: the DAG run's OpenLineage
id changes with ``dag_run.clear_number``, which Airflow 3.3 bumps when *another* task of the run is
cleared, and would break that replay; the child's provider then uses the parent as the root, and the
parent's own events carry the DAG run.

A key ``openlineage`` the task already sends is left alone (the user's value wins). Without the
openlineage provider, a warning is logged and the parameters are sent untouched.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

#: The OverrideParameters key that carries the parent info (the openlineage provider's DAG-run-conf key).
PARENT_KEY = "openlineage"
PARENT_FIELDS = ("parentJobNamespace", "parentJobName", "parentRunId")
_log = logging.getLogger(__name__)


class _AtTry:
    """A task instance seen at another try number (the provider's macros read ``try_number`` from it)."""

    def __init__(self, ti: Any, try_number: int) -> None:
        self._ti = ti
        self.try_number = try_number

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ti, name)


def parent_info(context: Context, try_number: int) -> dict[str, str]:
    """The parent job's namespace, name and run id (the OpenLineage run of try ``try_number``).

    :raises ImportError: the openlineage provider is not installed.
    """
    from airflow.providers.openlineage.plugins.macros import lineage_job_name, lineage_job_namespace, lineage_run_id

    ti = context["ti"]
    return {
        "parentJobNamespace": lineage_job_namespace(),
        "parentJobName": lineage_job_name(ti),
        "parentRunId": lineage_run_id(_AtTry(ti, try_number)),
    }


def inject_parent_info(
    override_parameters: dict[str, Any] | None, context: Context, try_number: int
) -> dict[str, Any] | None:
    """Return ``override_parameters`` with :data:`PARENT_KEY` added (a new dict; the input is not changed).

    :param override_parameters: the checked parameters (``None``: none).
    :param context: the task's context.
    :param try_number: the try whose OpenLineage run is the parent (see the module docstring).
    """
    if override_parameters and PARENT_KEY in override_parameters:
        _log.info("override_parameters already has an %r key: OpenLineage parent info not injected", PARENT_KEY)
        return override_parameters
    try:
        info = parent_info(context, try_number)
    except ImportError:
        _log.warning(
            "openlineage_inject_parent_info is on but the openlineage provider is not installed "
            "(pip install 'airflow-provider-mwaas[openlineage]'): parameters sent without parent info"
        )
        return override_parameters
    _log.info("Injecting OpenLineage parent info under %r: %s", PARENT_KEY, info)
    return {**(override_parameters or {}), PARENT_KEY: info}
