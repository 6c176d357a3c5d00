"""Run a DAG for real with ``dag.test()`` and read back what Airflow recorded (states, tries, XComs)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any


@dataclass
class DagRunOutcome:
    """What a finished DAG run left in the metadata DB."""

    state: str
    run_id: str
    task_states: dict[str, str] = field(default_factory=dict)
    try_numbers: dict[str, int] = field(default_factory=dict)
    xcoms: dict[tuple[str, str], Any] = field(default_factory=dict)

    def xcom(self, task_id: str, key: str = "return_value", map_index: int = -1) -> Any:
        return self.xcoms.get((f"{task_id}[{map_index}]" if map_index >= 0 else task_id, key))


def run_dag(dag: Any, **kwargs: Any) -> DagRunOutcome:
    """``dag.test()`` the DAG and collect task states, try numbers and XComs of that DAG run."""
    from airflow.models import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    _serialize(dag)
    dag_run = dag.test(**kwargs)
    outcome = DagRunOutcome(state=str(dag_run.state), run_id=dag_run.run_id)
    with create_session() as session:
        for ti in session.query(TaskInstance).filter_by(dag_id=dag.dag_id, run_id=dag_run.run_id):
            name = f"{ti.task_id}[{ti.map_index}]" if ti.map_index >= 0 else ti.task_id
            outcome.task_states[name] = str(ti.state)
            outcome.try_numbers[name] = ti.try_number
        for row in session.query(XComModel).filter_by(dag_id=dag.dag_id, run_id=dag_run.run_id):
            name = f"{row.task_id}[{row.map_index}]" if row.map_index >= 0 else row.task_id
            outcome.xcoms[(name, row.key)] = XComModel.deserialize_value(row)
    return outcome


def _serialize(dag: Any) -> None:
    """Write ``dag`` to the metadata DB as the DAG processor would, so ``dag.test()`` accepts a DAG
    defined inside a test rather than in a file of the DAGs folder."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db

    DagBundlesManager().sync_bundles_to_db()
    bag = DagBag(dag_folder=os.devnull)
    bag.bag_dag(dag)
    sync_bag_to_db(bag, "dags-folder", None)
