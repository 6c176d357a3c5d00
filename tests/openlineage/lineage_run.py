"""Run DAGs through ``dag.test()`` in a fresh interpreter with the OpenLineage setup a test chose.

The openlineage provider reads its configuration once per process (``functools.cache``) and Airflow
registers its listener when plugins first load, so each configuration needs an interpreter of its own.
Usage: ``python -m tests.openlineage.lineage_run <spec.json> <report.json>``; the spec::

    {"block_openlineage": false,            # hide the openlineage packages (the provider absent)
     "parse_folder": null,                  # a DAGs folder to parse with a DagBag first (optional)
     "dags": [{"tasks": [{"kind": "start" | "sensor", "task_id": ..., "kwargs": {...}}], "retries": 0}]}

Every task gets ``aws_conn_id="mwaa_serverless_default"``, a worker wait and no delay between polls unless
its kwargs say otherwise. Writes the report: per DAG, the states, tries and XComs ``run_dag`` read back.
The caller's environment (AIRFLOW_HOME, the emulator's connection, ``AIRFLOW__OPENLINEAGE__*``) is inherited.
"""

from __future__ import annotations

import importlib.abc
import itertools
import json
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

#: The packages the blocker hides: the provider and the client library...
HIDDEN = ("openlineage", "airflow.providers.openlineage")
#: ...and their distributions (Airflow discovers providers through their entry points).
HIDDEN_DISTRIBUTIONS = frozenset(
    {"apache-airflow-providers-openlineage", "openlineage-python", "openlineage-integration-common", "openlineage-sql"}
)


class OpenLineageBlocker(importlib.abc.MetaPathFinder):
    """Refuse every import of :data:`HIDDEN` as if the packages were not installed."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> None:
        if any(fullname == name or fullname.startswith(f"{name}.") for name in HIDDEN):
            raise ModuleNotFoundError(f"No module named {fullname!r} (hidden by the test)", name=fullname)
        return None


def hide_openlineage() -> None:
    """Make the openlineage packages look uninstalled: no import, no distribution (no provider entry point)."""
    import importlib.metadata

    import importlib_metadata

    sys.meta_path.insert(0, OpenLineageBlocker())
    for module in (importlib.metadata, importlib_metadata):
        real = module.distributions

        def distributions(*args: Any, _real: Any = real, **kwargs: Any) -> Any:
            for dist in _real(*args, **kwargs):
                name = (dist.metadata["Name"] or "").lower().replace("_", "-")
                if name not in HIDDEN_DISTRIBUTIONS:
                    yield dist

        module.distributions = distributions  # type: ignore[assignment]


_dag_ids = itertools.count()


def build_dag(spec: dict[str, Any]) -> Any:
    """A DAG of the spec's tasks, chained in order."""
    import pendulum
    from airflow.sdk import DAG, chain

    from airflow_provider_mwaas.operators.mwaa_serverless import StartWorkflowRunOperator
    from airflow_provider_mwaas.sensors.mwaa_serverless import WorkflowRunSensor

    kinds = {"start": StartWorkflowRunOperator, "sensor": WorkflowRunSensor}
    retries = spec.get("retries", 0)
    with DAG(
        dag_id=spec.get("dag_id") or f"lineage_{next(_dag_ids)}",
        schedule=None,
        start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
        default_args={"retries": retries, "retry_delay": timedelta(seconds=0)},
    ) as dag:
        tasks = []
        for task in spec["tasks"]:
            defaults: dict[str, Any] = {"aws_conn_id": "mwaa_serverless_default", "waiter_delay": 0}
            if task["kind"] == "start":
                defaults["deferrable"] = False
            tasks.append(kinds[task["kind"]](task_id=task["task_id"], **{**defaults, **task["kwargs"]}))
        chain(*tasks)
    return dag


def main() -> None:
    spec = json.loads(open(sys.argv[1]).read())  # noqa: SIM115 (a one-shot script)
    if spec.get("block_openlineage"):
        hide_openlineage()
    from tests.network_guard import install_network_guard

    install_network_guard()
    from tests.airflow_runs import run_dag

    parsed = None
    if spec.get("parse_folder"):
        from tests.airflow_runs import dagbag

        bag = dagbag(spec["parse_folder"])
        errors = {str(path): str(error) for path, error in bag.import_errors.items()}
        parsed = {"dag_ids": sorted(bag.dag_ids), "import_errors": errors}
    results = []
    for dag_spec in spec["dags"]:
        began = time.monotonic()
        outcome = run_dag(build_dag(dag_spec))
        results.append(
            {
                "dag_id": dag_spec.get("dag_id"),
                "state": outcome.state,
                "run_id": outcome.run_id,
                "task_states": outcome.task_states,
                "try_numbers": outcome.try_numbers,
                "xcoms": {f"{task}|{key}": value for (task, key), value in outcome.xcoms.items()},
                "seconds": round(time.monotonic() - began, 1),
            }
        )
    loaded = sorted(name for name in sys.modules if any(name == h or name.startswith(f"{h}.") for h in HIDDEN))
    report = {"results": results, "parsed": parsed, "openlineage_modules": loaded}
    Path(sys.argv[2]).write_text(json.dumps(report, default=str))


if __name__ == "__main__":
    main()
