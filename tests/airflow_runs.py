"""Run a DAG for real with ``dag.test()`` and read back what Airflow recorded (states, tries, XComs).

Works on every Airflow the version matrix tests (2.11, 3.0-3.3): where to register a DAG and read
XCom rows differs between releases, and only here.
"""

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
    from airflow.utils.session import create_session

    xcom_model, airflow_3 = _xcom_model()
    _serialize(dag)
    dag_run = dag.test(**kwargs)
    outcome = DagRunOutcome(state=_state(dag_run.state), run_id=dag_run.run_id)
    with create_session() as session:
        for ti in session.query(TaskInstance).filter_by(dag_id=dag.dag_id, run_id=dag_run.run_id):
            name = f"{ti.task_id}[{ti.map_index}]" if ti.map_index >= 0 else ti.task_id
            outcome.task_states[name] = _state(ti.state)
            outcome.try_numbers[name] = ti.try_number
        for row in session.query(xcom_model).filter_by(dag_id=dag.dag_id, run_id=dag_run.run_id):
            name = f"{row.task_id}[{row.map_index}]" if row.map_index >= 0 else row.task_id
            outcome.xcoms[(name, row.key)] = xcom_model.deserialize_value(row) if airflow_3 else row.value
    return outcome


def dagbag(folder: str) -> Any:
    """A DagBag of ``folder`` (the class moved to ``airflow.dag_processing.dagbag`` in Airflow 3.2)."""
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef]
    return DagBag(dag_folder=folder)


def _state(value: Any) -> str:
    """``success`` from a state enum or string (``str()`` of Airflow 2's enums is ``TaskInstanceState.X``)."""
    return str(getattr(value, "value", value))


def _xcom_model() -> tuple[Any, bool]:
    """The XCom table's model, and whether its rows need ``deserialize_value`` (Airflow 2 deserializes
    the value as it loads a row; Airflow 3 leaves it to the caller)."""
    try:
        from airflow.models.xcom import XComModel  # Airflow 3

        return XComModel, True
    except ImportError:
        from airflow.models.xcom import XCom  # Airflow 2

        return XCom, False


def _serialize(dag: Any) -> None:
    """Write ``dag`` to the metadata DB as the DAG processor would, so ``dag.test()`` accepts a DAG
    defined inside a test rather than in a file of the DAGs folder."""
    try:
        from airflow.dag_processing.bundles.manager import DagBundlesManager
    except ImportError:  # Airflow 2: no bundles, and dag.test() registers the DAG itself
        dag.sync_to_db()
        return
    DagBundlesManager().sync_bundles_to_db()
    if getattr(dag, "relative_fileloc", "") is None:  # Airflow 3.0 serializes it, and only a file's DAG has one
        dag.relative_fileloc = dag.fileloc
    bag = dagbag(os.devnull)
    bag.bag_dag(dag)
    try:
        from airflow.dag_processing.dagbag import sync_bag_to_db  # Airflow >= 3.2
    except ImportError:
        try:
            from airflow.models.dagbag import sync_bag_to_db  # type: ignore[no-redef]  # Airflow 3.1
        except ImportError:  # Airflow 3.0
            bag.sync_to_db("dags-folder", None)
            return
    sync_bag_to_db(bag, "dags-folder", None)
