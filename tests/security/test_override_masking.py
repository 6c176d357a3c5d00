"""Override parameters through ``dag.test()``: values under sensitive keys are masked from the moment they
are rendered; every other value (a date, a workflow ARN) stays readable everywhere.

Regressions: values were once registered as ``mask_secret(value, name=key)`` (ignored by Airflow unless
the key looks sensitive) and only in ``execute``, after the rendered fields were stored; later every
value was masked, so ``{{ ds }}`` turned each date of the task log into ``***``.
"""

from __future__ import annotations

import json
from typing import Any

import pendulum
import pytest

from tests.airflow_runs import run_dag

PLANTED_TOKEN = "PlantedRenderedToken-0c1d2e3f"  # under api_token: Airflow's rule
PLANTED_NAMED = "PlantedUserNamed-4a5b6c7d"  # under a key the user names
PLANTED_NESTED = "PlantedNestedLeaf-8e9f0a1b"  # a list item nested under the user-named key
PLANTED = (PLANTED_TOKEN, PLANTED_NAMED, PLANTED_NESTED)
LOGICAL_DATE = pendulum.datetime(2031, 7, 9, tz="UTC")
DS = "2031-07-09"


def _dag(dag_id: str, workflow_arn: str, aws_conn_id: str, **operator_kwargs: Any) -> Any:
    from airflow.sdk import DAG

    from airflow_provider_mwaas.operators.mwaa_serverless import StartWorkflowRunOperator

    with DAG(dag_id, schedule=None, start_date=pendulum.datetime(2025, 1, 1, tz="UTC"), params={"name": "x"}) as dag:
        StartWorkflowRunOperator(
            task_id="start",
            workflow_arn=workflow_arn,
            aws_conn_id=aws_conn_id,
            waiter_delay=0,
            deferrable=False,
            **operator_kwargs,
        )
    return dag


def _rendered_overrides(dag_id: str, run_id: str) -> Any:
    from airflow.models.renderedtifields import RenderedTaskInstanceFields
    from airflow.utils.session import create_session

    with create_session() as session:
        row = session.query(RenderedTaskInstanceFields).filter_by(dag_id=dag_id, run_id=run_id).one()
        return row.rendered_fields["override_parameters"]


@pytest.mark.usefixtures("airflow_db")
def test_a_date_and_an_arn_in_override_parameters_stay_readable_in_rendered_fields_and_logs(
    emulator: Any, workflow_arn: str, aws_conn_env: str, capfd: pytest.CaptureFixture[str]
) -> None:
    from airflow.providers.common.compat.sdk import redact

    dag = _dag(
        "test_override_readable",
        workflow_arn,
        aws_conn_env,
        override_parameters={"run_date": "{{ ds }}", "workflow": workflow_arn},
    )

    outcome = run_dag(dag, logical_date=LOGICAL_DATE)

    assert outcome.task_states["start"] == "success"
    assert _rendered_overrides(dag.dag_id, outcome.run_id) == {"run_date": DS, "workflow": workflow_arn}
    line = f"run scheduled__{DS}T00:00:00+00:00 of {workflow_arn}"
    assert redact(line) == line  # the masker leaves every later log line with them alone
    out = capfd.readouterr()
    assert "***" not in out.out + out.err
    assert DS not in repr(outcome.xcoms) and "run_date" not in repr(outcome.xcoms)


@pytest.mark.usefixtures("airflow_db")
@pytest.mark.parametrize("form", ["dict", "json_string"])
def test_values_under_sensitive_and_user_named_keys_are_masked_from_rendering_on(
    emulator: Any,
    workflow_arn: str,
    aws_conn_env: str,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    form: str,
) -> None:
    monkeypatch.setenv("AIRFLOW_VAR_MWAAS_TOKEN", PLANTED_TOKEN)  # a Variable name Airflow does not mask
    monkeypatch.setenv("AIRFLOW_VAR_MWAAS_NAMED", PLANTED_NAMED)
    monkeypatch.setenv("AIRFLOW_VAR_MWAAS_SENSITIVE_KEYS", '["customer"]')
    overrides: Any = {
        "run_date": "{{ ds }}",
        "api_token": "{{ var.value.mwaas_token }}",
        "customer": {"ref": "{{ var.value.mwaas_named }}", "history": [PLANTED_NESTED]},
    }
    keys: Any = ["customer"]
    if form == "json_string":
        overrides = json.dumps(overrides)
        keys = "{{ var.value.mwaas_sensitive_keys }}"  # templated too
    dag_id = f"test_override_masking_{form}"
    dag = _dag(dag_id, workflow_arn, aws_conn_env, override_parameters=overrides, sensitive_override_keys=keys)

    outcome = run_dag(dag, logical_date=LOGICAL_DATE)

    assert outcome.task_states["start"] == "success"
    rendered = json.dumps(_rendered_overrides(dag_id, outcome.run_id))
    assert [secret for secret in PLANTED if secret in rendered] == []
    assert "***" in rendered and DS in rendered
    out = capfd.readouterr()
    assert [secret for secret in PLANTED if secret in out.out + out.err] == []
    assert [secret for secret in PLANTED if secret in repr(outcome.xcoms)] == []
    runs = emulator.control.runs()
    assert len(runs) == 1  # the service still got the real values (masking is for logs only)


def test_bad_sensitive_override_keys_are_refused_before_any_request(
    emulator: Any, workflow_arn: str, aws_conn_env: str
) -> None:
    from airflow_provider_mwaas.errors import InvalidParameterError
    from airflow_provider_mwaas.operators.mwaa_serverless import StartWorkflowRunOperator

    operator = StartWorkflowRunOperator(
        task_id="start", workflow_arn=workflow_arn, aws_conn_id=aws_conn_env, sensitive_override_keys="customer"
    )
    with pytest.raises(InvalidParameterError, match=r"Invalid sensitive_override_keys: 'customer'\. Allowed: a list"):
        operator.execute({})
    assert sum(emulator.control.counters()["requests"].values()) == 0


@pytest.mark.usefixtures("airflow_db")
def test_templated_sensitive_override_keys_rendering_to_a_word_fail_the_task_at_once(
    emulator: Any, workflow_arn: str, aws_conn_env: str, capfd: pytest.CaptureFixture[str]
) -> None:
    dag = _dag(
        "test_override_bad_keys",
        workflow_arn,
        aws_conn_env,
        override_parameters={"customer": "some-value"},
        sensitive_override_keys="{{ params.name }}",
        retries=2,
    )

    outcome = run_dag(dag)

    assert outcome.task_states["start"] == "failed"
    assert outcome.try_numbers["start"] == 1  # not retried: a retry renders the same value
    out = capfd.readouterr()
    assert "InvalidParameterError: Invalid sensitive_override_keys: 'x'" in out.out + out.err
    assert emulator.control.counters()["requests"].get("StartWorkflowRun", 0) == 0
