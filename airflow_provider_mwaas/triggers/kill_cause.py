"""Why a trigger's ``on_kill`` runs: a user acted on the task, or the trigger only moved to another triggerer.

Airflow 3.3's triggerer calls ``on_kill`` for every trigger it stops running because the trigger is no
longer assigned to it (``TriggerRunnerSupervisor.update_triggers`` -> ``cancel_triggers``). That is the
path of a user's mark success/failed or clear, and also of a trigger another triggerer took over because
this one's heartbeat was late (found by ``./scripts/fleet``: the moved trigger stopped its run, and the
new triggerer failed the task). The task's state alone cannot tell them apart: a cleared task may be
deferred again, by its next try, before the old trigger's ``on_kill`` runs.

What does: whether a try of the task is still waiting on *this* run. A trigger that moved leaves its
task instance ``deferred`` with the run it started in XCom (the operator's run link,
:attr:`~airflow_provider_mwaas.links.mwaa_serverless.WorkflowRunLink.key`). A mark success/failed moves
the task out of ``deferred``; a clear starts a new try, whose XCom Airflow clears when it starts and the
operator then fills with the new try's run (a clear bumps ``clear_number``, so the token rule starts a
new run). So the run is left alone only when the task is deferred and its XCom names this very run,
which is also right when a user-fixed ``client_token`` made the next try wait on the same run.
"""

from __future__ import annotations

import logging
from typing import Any

from airflow_provider_mwaas.links.mwaa_serverless import WorkflowRunLink

_log = logging.getLogger(__name__)

DEFERRED = "deferred"


async def still_waited_on(trigger: Any, run_id: str) -> bool:
    """Whether ``trigger``'s task instance is deferred and its XCom names ``run_id`` (so the trigger moved).

    Reads through the triggerer's supervisor (``RuntimeTaskInstance.get_task_states`` and
    ``XCom.get_one``, through asgiref so the sync calls leave the event loop, as the standard provider's
    ``WorkflowTrigger`` does). When either cannot be read (no task instance attached, an older Airflow, an
    error), it answers ``False``: the kill counts as a user's and the run is stopped, as documented.
    """
    ti = getattr(trigger, "task_instance", None)
    if ti is None:
        return False
    try:
        from airflow.sdk.bases.xcom import BaseXCom
        from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance
        from asgiref.sync import sync_to_async

        states: dict[str, Any] = await sync_to_async(RuntimeTaskInstance.get_task_states)(
            dag_id=ti.dag_id, map_index=ti.map_index, task_ids=[ti.task_id], run_ids=[ti.run_id]
        )
        if DEFERRED not in [state for per_run in states.values() for state in (per_run or {}).values()]:
            return False
        link = await sync_to_async(BaseXCom.get_one)(
            key=WorkflowRunLink.key, dag_id=ti.dag_id, task_id=ti.task_id, run_id=ti.run_id, map_index=ti.map_index
        )
    except Exception as err:  # any failure to ask: keep the documented behaviour (stop the run)
        _log.warning("Could not read task %s's state and run (%s): treating the kill as a user's", ti.task_id, err)
        return False
    return isinstance(link, dict) and link.get("run_id") == run_id
