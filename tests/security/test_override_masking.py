"""Override parameter values are masked from the moment they are rendered (fast, through ``dag.test()``).

Regression: values used to be registered as ``mask_secret(value, name=key)``, which Airflow's masker
ignores unless the key looks sensitive, and only in ``execute``, after the rendered fields were stored.
"""

from __future__ import annotations

import json
from typing import Any

import pendulum
import pytest

from tests.airflow_runs import run_dag

PLANTED = "PlantedRenderedValue-0c1d2e3f"
NESTED = "PlantedNestedValue-4a5b6c7d"


@pytest.mark.usefixtures("airflow_db")
@pytest.mark.parametrize("form", ["dict", "json_string"])
def test_rendered_override_values_are_masked_in_rendered_fields_and_logs(
    emulator: Any,
    workflow_arn: str,
    aws_conn_env: str,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    form: str,
) -> None:
    from airflow.models.renderedtifields import RenderedTaskInstanceFields
    from airflow.sdk import DAG
    from airflow.utils.session import create_session

    from airflow_provider_mwaas.operators.mwaa_serverless import StartWorkflowRunOperator

    monkeypatch.setenv("AIRFLOW_VAR_MWAAS_PLANTED", PLANTED)
    overrides: Any = {"target": "{{ var.value.mwaas_planted }}", "nested": {"list": [NESTED]}}
    if form == "json_string":
        overrides = '{"target": "{{ var.value.mwaas_planted }}", "nested": {"list": ["' + NESTED + '"]}}'
    dag_id = f"test_override_masking_{form}"
    with DAG(dag_id, schedule=None, start_date=pendulum.datetime(2025, 1, 1, tz="UTC")) as dag:
        StartWorkflowRunOperator(
            task_id="start",
            workflow_arn=workflow_arn,
            aws_conn_id=aws_conn_env,
            override_parameters=overrides,
            waiter_delay=0,
            deferrable=False,
        )

    outcome = run_dag(dag)

    assert outcome.task_states["start"] == "success"
    with create_session() as session:
        row = session.query(RenderedTaskInstanceFields).filter_by(dag_id=dag_id, run_id=outcome.run_id).one()
        rendered = json.dumps(row.rendered_fields)
    assert PLANTED not in rendered and NESTED not in rendered
    assert "***" in rendered
    out = capfd.readouterr()
    assert PLANTED not in out.out + out.err
    assert PLANTED not in repr(outcome.xcoms)
