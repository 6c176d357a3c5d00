"""DAG files import our operators and sensor at every parse: that must not pull in the AWS SDKs."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = (
    "boto3",
    "botocore",
    "aiobotocore",
    "airflow.providers.amazon.aws.hooks",
    "moto",
    # the OpenLineage hooks import the openlineage provider only when its listener calls them
    "openlineage",
    "airflow.providers.openlineage",
    "airflow_provider_mwaas.openlineage.facets",
    "airflow_provider_mwaas.openlineage.parent",
)


@pytest.mark.parametrize(
    "module",
    [
        "airflow_provider_mwaas.operators.mwaa_serverless",
        "airflow_provider_mwaas.sensors.mwaa_serverless",
        "airflow_provider_mwaas.links.mwaa_serverless",
        "airflow_provider_mwaas.get_provider_info",
        "airflow_provider_mwaas.triggers.workflow_run_events",  # asset watchers build it at every parse
    ],
)
def test_importing_for_dag_parsing_loads_no_aws_sdk(module: str) -> None:
    # Counted over what ``import airflow.sdk`` loads itself (its provider discovery imports every installed
    # provider's get_provider_info, the openlineage provider's included).
    code = (
        "import sys, json, airflow.sdk\n"
        "before = set(sys.modules)\n"
        f"import {module}\n"
        f"print(json.dumps(sorted(m for m in set(sys.modules) - before if m.startswith({HEAVY!r}))))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_operator_is_constructible_and_serialisable_without_the_sdks() -> None:
    code = """
import sys, json
from airflow.sdk import DAG
from airflow_provider_mwaas.operators.mwaa_serverless import StartWorkflowRunOperator
with DAG("parse_only", schedule=None) as dag:
    StartWorkflowRunOperator(task_id="t", workflow_arn="{{ var.value.arn }}", override_parameters={"a": "{{ ds }}"})
from airflow.serialization.serialized_objects import DagSerialization
DagSerialization.to_dict(dag)
print(json.dumps(sorted(m for m in sys.modules if m.startswith(("boto3", "botocore", "aiobotocore")))))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_asset_watcher_trigger_is_constructible_without_the_sdks() -> None:
    # Counted over what airflow.sdk loads itself, as above; an Asset whose URI has a scheme (s3://...) makes
    # Airflow load every provider's URI handlers (amazon's import boto3): not ours to count.
    code = """
import sys, json
from airflow.sdk import Asset, AssetWatcher
before = set(sys.modules)
from airflow_provider_mwaas.triggers.workflow_run_events import WorkflowRunEventsTrigger
trigger = WorkflowRunEventsTrigger(
    queue_url="https://sqs.us-east-1.amazonaws.com/123456789012/q",
    workflow_arn="arn:aws:airflow-serverless:us-east-1:123456789012:workflow/orders-abc",
)
Asset("orders_succeeded", watchers=[AssetWatcher(name="w", trigger=trigger)])  # a URI scheme loads amazon's
trigger.serialize()
print(json.dumps(sorted(m for m in set(sys.modules) - before if m.startswith(("boto3", "botocore", "aiobotocore")))))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
