"""Whether a trigger's ``on_kill`` comes from a user's action, or the trigger only left this triggerer.

Airflow 3.3's triggerer calls ``on_kill`` for every trigger it stops running because the trigger is no
longer assigned to it (``TriggerRunnerSupervisor.update_triggers`` -> ``cancel_triggers``). That is the
path of a user's mark success/failed or clear, but also of a trigger another triggerer took over
because this one's heartbeat was late. The fleet test (``./scripts/fleet``, 500 waits, two triggerers
on 2 busy cores) found it: a trigger moved while the first triggerer was slow, the first one's
``on_kill`` stopped the run, and the second saw the run STOPPED and failed the task. A user's action
moves the task instance out of ``deferred`` before its trigger is cancelled; a move leaves it deferred.
"""

from __future__ import annotations

import logging
from typing import Any

_log = logging.getLogger(__name__)

DEFERRED = "deferred"


async def task_left_deferred(trigger: Any) -> bool:
    """Whether ``trigger``'s task instance is no longer ``deferred`` (so a user acted on it).

    Reads the state through the triggerer's supervisor (``RuntimeTaskInstance.get_task_states``, as the
    standard provider's ``WorkflowTrigger`` does, through asgiref so the sync call leaves the loop). When
    the state cannot be read (no task instance attached, an older Airflow), the kill counts as a user's.
    """
    ti = getattr(trigger, "task_instance", None)
    if ti is None:
        return True
    try:
        from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance
        from asgiref.sync import sync_to_async

        states: dict[str, Any] = await sync_to_async(RuntimeTaskInstance.get_task_states)(
            dag_id=ti.dag_id, map_index=ti.map_index, task_ids=[ti.task_id], run_ids=[ti.run_id]
        )
    except Exception as err:  # any failure to ask: keep the documented behaviour (stop the run)
        _log.warning("Could not read the state of task %s (%s): treating the kill as a user's", ti.task_id, err)
        return True
    seen = [state for per_run in states.values() for state in (per_run or {}).values()]
    return DEFERRED not in seen
