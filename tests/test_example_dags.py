"""Every example DAG imports cleanly, and the main one runs to success against the emulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.airflow_runs import run_dag

EXAMPLE_DAGS = Path(__file__).resolve().parent.parent / "example_dags"


def _dagbag() -> Any:
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(EXAMPLE_DAGS))


def test_example_dags_have_no_import_errors() -> None:
    dagbag = _dagbag()
    assert dagbag.import_errors == {}
    assert "example_mwaa_serverless" in dagbag.dag_ids


@pytest.mark.parametrize("deferrable", [False, True], ids=["worker_wait", "deferred"])
def test_example_dag_runs_to_success_against_the_emulator(
    airflow_db: Path,
    emulator: Any,
    workflow_arn: str,
    aws_conn_env: str,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    deferrable: bool,
) -> None:
    monkeypatch.setenv("AIRFLOW_VAR_MWAAS_WORKFLOW_ARN", workflow_arn)
    monkeypatch.setenv("AIRFLOW_VAR_MWAAS_WAITER_DELAY", "1" if deferrable else "0")
    dag = _dagbag().get_dag("example_mwaa_serverless")
    dag.get_task("start_workflow_run").deferrable = deferrable

    outcome = run_dag(dag)

    assert outcome.state == "success", outcome.task_states
    runs = emulator.control.runs(workflow_arn)
    assert len(runs) == 1
    assert outcome.xcom("report") == {"run_id": runs[0]["RunId"], "status": "SUCCESS"}
    text = "".join(capfd.readouterr()) + caplog.text
    assert "task instances done" in text
    if deferrable:
        assert "running trigger in line" in text
