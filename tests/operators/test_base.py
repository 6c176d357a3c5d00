"""The AWS connection parameters every operator takes, once, in MwaaServerlessBaseOperator."""

from __future__ import annotations

import pendulum
import pytest

from airflow_provider_mwaas.operators.base import MwaaServerlessBaseOperator
from airflow_provider_mwaas.operators.mwaa_serverless import StartWorkflowRunOperator, StopWorkflowRunOperator
from airflow_provider_mwaas.operators.mwaa_serverless_workflow import DeleteWorkflowOperator, DeployWorkflowOperator

ARN = "arn:aws:airflow-serverless:us-east-1:123456789012:workflow/orders-abcdefghij"
OPERATORS = {
    StartWorkflowRunOperator: {"workflow_arn": ARN},
    StopWorkflowRunOperator: {"workflow_arn": ARN, "run_id": "r1"},
    DeployWorkflowOperator: {"workflow_name": "orders", "role_arn": "arn:aws:iam::123456789012:role/r"},
    DeleteWorkflowOperator: {"workflow_arn": ARN},
}
AWS_PARAMS = {"aws_conn_id": "team_b", "region_name": "eu-west-1", "verify": False, "botocore_config": {"x": 1}}


@pytest.mark.parametrize("operator_class", list(OPERATORS), ids=lambda c: c.__name__)
def test_dag_default_args_reach_the_aws_parameters(operator_class: type) -> None:
    from airflow.sdk import DAG

    with DAG("defaults", schedule=None, start_date=pendulum.datetime(2025, 1, 1), default_args=AWS_PARAMS):
        operator = operator_class(task_id="t", **OPERATORS[operator_class])

    assert isinstance(operator, MwaaServerlessBaseOperator)
    assert operator.hook_params == AWS_PARAMS
    assert set(AWS_PARAMS) <= set(operator.template_fields)


@pytest.mark.parametrize("operator_class", list(OPERATORS), ids=lambda c: c.__name__)
def test_explicit_aws_parameters_win_over_default_args(operator_class: type) -> None:
    from airflow.sdk import DAG

    with DAG("defaults", schedule=None, start_date=pendulum.datetime(2025, 1, 1), default_args=AWS_PARAMS):
        operator = operator_class(task_id="t", aws_conn_id="explicit", **OPERATORS[operator_class])

    assert operator.aws_conn_id == "explicit"
    assert operator.region_name == "eu-west-1"
