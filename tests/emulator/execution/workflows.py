"""Workflows (YAML and code packages) the executing-mode tests deploy, and helpers to run them."""

from __future__ import annotations

import io
import time
import zipfile
from typing import Any

import boto3

from airflow_provider_mwaas.emulator.models import mwaaserverless_backends

REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/mwaas-exec"
BUCKET = "workflow-data"
TERMINAL = ("SUCCESS", "FAILED", "TIMEOUT", "STOPPED")

THREE_TASKS = """\
three_tasks:
  dag_id: three_tasks
  schedule: null
  tasks:
    write_object:
      operator: airflow.providers.amazon.aws.operators.s3.S3CreateObjectOperator
      s3_bucket: workflow-data
      s3_key: out/greeting.txt
      data: "hello {{ params.who }}"
    transform:
      operator: airflow.providers.standard.operators.python.PythonOperator
      python_callable: shop.steps.transform
      dependencies: [write_object]
    report:
      operator: airflow.providers.standard.operators.bash.BashOperator
      bash_command: "echo who-from-env=$who"
      dependencies: [transform]
"""

SHOP_STEPS = """\
def transform(**context):
    print("transform saw", context["params"]["who"])
    return "ok"


def explode(**context):
    raise RuntimeError("second task exploded on purpose")
"""

SECOND_TASK_RAISES = THREE_TASKS.replace("three_tasks", "second_raises").replace(
    "shop.steps.transform", "shop.steps.explode"
)

SLEEPER = """\
sleeper:
  dag_id: sleeper
  schedule: null
  tasks:
    nap:
      operator: airflow.providers.standard.operators.bash.BashOperator
      bash_command: "sleep 120"
"""

NOT_IMPORTABLE = """\
broken:
  dag_id: broken
  schedule: null
  tasks:
    ghost:
      operator: airflow.providers.nowhere.operators.ghost.GhostOperator
"""


def code_package(files: dict[str, str]) -> bytes:
    """A zip archive of ``files`` (path -> text)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return buffer.getvalue()


SHOP_CODE = code_package({"shop/__init__.py": "", "shop/steps.py": SHOP_STEPS})


def deploy(name: str, definition: str, code: bytes | None = None) -> str:
    """Upload the definition (and code) to the emulator's S3 and create the workflow; its ARN."""
    s3 = boto3.client("s3", region_name=REGION)
    if BUCKET not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key=f"defs/{name}.yaml", Body=definition.encode())
    params: dict[str, Any] = {
        "Name": name,
        "DefinitionS3Location": {"Bucket": BUCKET, "ObjectKey": f"defs/{name}.yaml"},
        "RoleArn": ROLE,
    }
    if code is not None:
        s3.put_object(Bucket=BUCKET, Key=f"code/{name}.zip", Body=code)
        params["Code"] = {"S3Location": {"Bucket": BUCKET, "ObjectKey": f"code/{name}.zip"}}
    return str(boto3.client("mwaa-serverless", region_name=REGION).create_workflow(**params)["WorkflowArn"])


def wait_for(client: Any, arn: str, run_id: str, states: tuple[str, ...], timeout: float = 240) -> list[dict[str, Any]]:
    """Poll GetWorkflowRun until the run is in one of ``states``; every RunDetail seen, in order."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen.append(client.get_workflow_run(WorkflowArn=arn, RunId=run_id)["RunDetail"])
        if seen[-1]["RunState"] in states:
            return seen
        time.sleep(0.25)
    raise AssertionError(f"run {run_id} did not reach {states} in {timeout}s: last {seen[-1]}")


def executed_run(run_id: str) -> Any:
    """The backend's run object (to reach its execution's process)."""
    return mwaaserverless_backends[ACCOUNT][REGION].runs[run_id]
