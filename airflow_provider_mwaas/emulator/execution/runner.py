"""The process one workflow run executes in: ``python -m airflow_provider_mwaas.emulator.execution.runner``.

Started by :mod:`.process` in the run's own ``AIRFLOW_HOME`` (see :mod:`.environment`) and its own
process group, so a broken workflow cannot take the emulator down and StopWorkflowRun can kill every
task it started. It reads its instructions as JSON on stdin (the override parameters are never written
to a file), loads the workflow's YAML with dag-factory, as MWAA Serverless does, through the loader
file in the DAGs folder, and runs one DAG run with ``dag.test()``. Progress goes, one JSON object a
line, to the events file:

* ``{"event": "loaded", "dag_id": ...}``: the DAG was built; the run is RUNNING from here;
* ``{"event": "task_failed", "task_id": ..., "error": ...}``: a task raised (from an Airflow listener);
* ``{"event": "finished", "state": "success"|"failed"}``: the DAG run's end state.

Task states, times and tries are read by the emulator from this Airflow's metadata database.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
from pathlib import Path
from typing import Any

#: Written next to the YAML in the DAGs folder; Airflow's DagBag only parses files naming "airflow" and "dag".
LOADER_TEMPLATE = """\
# airflow DAG loader written by the MWAA Serverless emulator: builds the workflow with dag-factory.
from dagfactory import load_yaml_dags

load_yaml_dags(globals_dict=globals(), config_filepath={definition!r})
"""


class _Events:
    def __init__(self, path: Path):
        self.path = path

    def write(self, **event: Any) -> None:
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(event, default=str) + "\n")


def _listen_for_failures(events: _Events) -> None:
    """Register an Airflow listener that records each failed task's error (its ErrorMessage)."""
    from airflow.listeners import hookimpl

    try:
        from airflow.sdk.listener import get_listener_manager
    except ImportError:  # Airflow 2: listeners live in core
        from airflow.listeners.listener import get_listener_manager  # type: ignore[assignment]

    class FailureListener:
        @hookimpl
        def on_task_instance_failed(self, previous_state: Any, task_instance: Any, error: Any) -> None:
            message = f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else str(error or "")
            events.write(event="task_failed", task_id=task_instance.task_id, error=message or "Task failed")

    get_listener_manager().add_listener(FailureListener())


def _guard_network() -> None:
    """With ``MWAAS_EXECUTION_LOOPBACK_ONLY`` set (the test suite sets it), refuse non-loopback connections."""
    import ipaddress
    import socket

    real_connect = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            host = str(address[0])
            try:
                local = host == "localhost" or ipaddress.ip_address(host.split("%")[0]).is_loopback
            except ValueError:
                local = False
            if not local:
                raise ConnectionRefusedError(f"MWAAS_EXECUTION_LOOPBACK_ONLY: connection to {address!r} refused")
        return real_connect(self, address)

    socket.socket.connect = connect  # type: ignore[method-assign,assignment]


def main() -> int:
    """Run the workflow described on stdin; the exit status is 0 for a successful DAG run."""
    if os.environ.get("MWAAS_EXECUTION_LOOPBACK_ONLY"):
        _guard_network()
    spec = json.load(sys.stdin)
    events = _Events(Path(spec["events"]))
    namespace = runpy.run_path(spec["loader"], run_name="mwaas_workflow_loader")
    try:
        from airflow.sdk import DAG
    except ImportError:  # Airflow 2
        from airflow.models.dag import DAG  # type: ignore[assignment,no-redef]

    dags = [value for value in namespace.values() if isinstance(value, DAG)]
    if len(dags) != 1:
        raise SystemExit(f"The workflow definition must build exactly one DAG; it built {len(dags)}")
    dag = dags[0]
    _listen_for_failures(events)
    events.write(event="loaded", dag_id=dag.dag_id, task_ids=list(dag.task_ids))
    dag_run = dag.test(run_conf=spec.get("conf") or None)
    state = str(getattr(dag_run.state, "value", dag_run.state))
    events.write(event="finished", state=state)
    return 0 if state == "success" else 1


if __name__ == "__main__":
    sys.exit(main())
