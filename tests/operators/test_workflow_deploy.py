"""DeployWorkflowOperator through real Airflow (dag.test) against the emulator over HTTP (MWAA Serverless + S3)."""

from __future__ import annotations

import hashlib
import itertools
import uuid
from pathlib import Path
from typing import Any

import pendulum
import pytest

from airflow_provider_mwaas.operators.mwaa_serverless import StartWorkflowRunOperator
from airflow_provider_mwaas.operators.mwaa_serverless_workflow import DeployWorkflowOperator
from tests.airflow_runs import run_dag

pytestmark = pytest.mark.usefixtures("airflow_db")
_dag_ids = itertools.count()

ROLE = "arn:aws:iam::123456789012:role/mwaas-orders"
V1 = """\
orders:
  dag_id: orders
  tasks:
    extract:
      operator: airflow.providers.standard.operators.empty.EmptyOperator
    load:
      operator: airflow.providers.standard.operators.empty.EmptyOperator
      dependencies: [extract]
"""
V2 = (
    V1
    + """\
    notify:
      operator: airflow.providers.standard.operators.empty.EmptyOperator
      dependencies: [load]
"""
)


def _uploads(s3: Any, bucket: str) -> int:
    return len(s3.list_object_versions(Bucket=bucket).get("Versions", []))


def _write(tmp_path: Path, text: str, name: str = "orders.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def _dag(deploy: dict[str, Any], *, start: bool = False) -> Any:
    from airflow.sdk import DAG

    dag = DAG(dag_id=f"test_deploy_{next(_dag_ids)}", schedule=None, start_date=pendulum.datetime(2025, 1, 1, tz="UTC"))
    with dag:
        params = {"aws_conn_id": "mwaa_serverless_default", "workflow_name": "orders", "role_arn": ROLE, **deploy}
        task = DeployWorkflowOperator(task_id="deploy", **params)
        if start:
            StartWorkflowRunOperator(
                task_id="start",
                aws_conn_id="mwaa_serverless_default",
                workflow_arn=task.output["workflow_arn"],
                workflow_version=task.output["workflow_version"],
                waiter_delay=0,
                deferrable=False,
            )
    return dag


def _writes(emulator: Any) -> dict[str, int]:
    requests = emulator.control.counters()["requests"]
    return {op: requests.get(op, 0) for op in ("CreateWorkflow", "UpdateWorkflow", "DeleteWorkflow")}


def test_first_deploy_creates_the_workflow_from_a_content_addressed_copy(
    emulator: Any, aws_conn_env: str, tmp_path: Path, s3: Any, mwaas: Any, bucket: str
) -> None:
    outcome = run_dag(_dag({"definition_file": _write(tmp_path, V1), "s3_bucket": bucket, "description": "v1"}))

    assert outcome.state == "success", outcome.task_states
    arn = outcome.xcom("deploy")
    assert outcome.xcom("deploy", "workflow_arn") == arn
    assert outcome.xcom("deploy", "deployment") == "created"
    digest = hashlib.sha256(V1.encode()).hexdigest()
    key = f"mwaa-serverless/workflows/orders/{digest}.yaml"
    assert outcome.xcom("deploy", "definition_s3_location") == {"Bucket": bucket, "ObjectKey": key}
    live = mwaas.get_workflow(WorkflowArn=arn)
    assert live["WorkflowVersion"] == outcome.xcom("deploy", "workflow_version")
    assert live["DefinitionS3Location"] == {"Bucket": bucket, "ObjectKey": key}
    assert (live["Name"], live["RoleArn"], live["Description"]) == ("orders", ROLE, "v1")
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == V1.encode()
    assert _writes(emulator) == {"CreateWorkflow": 1, "UpdateWorkflow": 0, "DeleteWorkflow": 0}
    assert emulator.control.counters()["runs_started"] == 0


def test_same_inputs_again_change_nothing_no_upload_no_version_no_write(
    emulator: Any, aws_conn_env: str, tmp_path: Path, s3: Any, mwaas: Any, bucket: str
) -> None:
    deploy = {"definition_file": _write(tmp_path, V1), "s3_bucket": bucket, "description": "orders"}
    first = run_dag(_dag(deploy))
    arn, version = first.xcom("deploy"), first.xcom("deploy", "workflow_version")
    uploads, writes = _uploads(s3, bucket), _writes(emulator)

    second = run_dag(_dag(deploy))

    assert second.state == "success"
    assert second.xcom("deploy", "deployment") == "unchanged"
    assert (second.xcom("deploy"), second.xcom("deploy", "workflow_version")) == (arn, version)
    assert _writes(emulator) == writes  # no CreateWorkflow/UpdateWorkflow request at all
    assert _uploads(s3, bucket) == uploads == 1  # nothing uploaded (the bucket is versioned)
    assert [v["WorkflowVersion"] for v in mwaas.list_workflow_versions(WorkflowArn=arn)["WorkflowVersions"]] == [
        version
    ]
    assert emulator.control.counters()["runs_started"] == 0


def test_changed_definition_makes_a_new_version_and_the_run_starts_on_it(
    emulator: Any, aws_conn_env: str, tmp_path: Path, s3: Any, mwaas: Any, bucket: str
) -> None:
    path = _write(tmp_path, V1)
    first = run_dag(_dag({"definition_file": path, "s3_bucket": bucket}, start=True))
    assert first.state == "success", first.task_states
    arn, v1 = first.xcom("deploy"), first.xcom("deploy", "workflow_version")
    Path(path).write_text(V2)

    second = run_dag(_dag({"definition_file": path, "s3_bucket": bucket}, start=True))

    assert second.state == "success", second.task_states
    v2 = second.xcom("deploy", "workflow_version")
    assert second.xcom("deploy", "deployment") == "updated"
    assert second.xcom("deploy") == arn
    assert v2 != v1
    versions = mwaas.list_workflow_versions(WorkflowArn=arn)["WorkflowVersions"]
    assert [(v["WorkflowVersion"], v["IsLatestVersion"]) for v in versions] == [(v2, True), (v1, False)]
    assert _writes(emulator)["UpdateWorkflow"] == 1
    assert _uploads(s3, bucket) == 2
    runs = emulator.control.runs(arn)
    assert [r["WorkflowVersion"] for r in runs] == [v1, v2]
    run_id = second.xcom("start")
    assert run_id == runs[1]["RunId"]
    tasks = mwaas.list_task_instances(WorkflowArn=arn, RunId=run_id)["TaskInstances"]
    assert [t["TaskInstanceId"] for t in tasks] == ["extract", "load", "notify"]


def test_changed_setting_alone_makes_a_new_version_without_uploading(
    emulator: Any, aws_conn_env: str, tmp_path: Path, s3: Any, mwaas: Any, bucket: str
) -> None:
    path = _write(tmp_path, V1)
    first = run_dag(_dag({"definition_file": path, "s3_bucket": bucket, "description": "first"}))
    second = run_dag(_dag({"definition_file": path, "s3_bucket": bucket, "description": "second"}))

    assert second.xcom("deploy", "deployment") == "updated"
    assert second.xcom("deploy", "workflow_version") != first.xcom("deploy", "workflow_version")
    assert mwaas.get_workflow(WorkflowArn=second.xcom("deploy"))["Description"] == "second"
    assert _uploads(s3, bucket) == 1


def test_settings_left_unset_are_carried_forward_on_update(
    emulator: Any, aws_conn_env: str, tmp_path: Path, mwaas: Any, bucket: str
) -> None:
    path = _write(tmp_path, V1)
    first = run_dag(_dag({"definition_file": path, "s3_bucket": bucket, "description": "keep me", "engine_version": 1}))
    Path(path).write_text(V2)
    run_dag(_dag({"definition_file": path, "s3_bucket": bucket}))

    live = mwaas.get_workflow(WorkflowArn=first.xcom("deploy"))
    assert (live["Description"], live["EngineVersion"]) == ("keep me", 1)


def test_templated_inputs_are_rendered(
    emulator: Any, aws_conn_env: str, tmp_path: Path, mwaas: Any, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_VAR_DEFS_BUCKET", bucket)
    _write(tmp_path, V1)
    outcome = run_dag(
        _dag(
            {
                "definition_file": str(tmp_path) + "/{{ 'orders' }}.yaml",
                "s3_bucket": "{{ var.value.defs_bucket }}",
                "description": "deployed by {{ dag.dag_id }}",
                "engine_version": "{{ 1 }}",
            }
        )
    )
    assert outcome.state == "success", outcome.task_states
    live = mwaas.get_workflow(WorkflowArn=outcome.xcom("deploy"))
    assert live["Description"].startswith("deployed by test_deploy_")
    assert live["EngineVersion"] == 1


def test_definition_in_s3_is_read_checked_and_copied_to_its_content_address(
    emulator: Any, aws_conn_env: str, s3: Any, mwaas: Any, bucket: str
) -> None:
    s3.put_object(Bucket=bucket, Key="src/orders.yaml", Body=V1.encode())
    deploy = {"definition_s3_location": f"s3://{bucket}/src/orders.yaml"}
    first = run_dag(_dag(deploy))
    # The source object is overwritten in place: the content address reveals the change.
    s3.put_object(Bucket=bucket, Key="src/orders.yaml", Body=V2.encode())
    second = run_dag(_dag(deploy))

    assert [first.xcom("deploy", "deployment"), second.xcom("deploy", "deployment")] == ["created", "updated"]
    live = mwaas.get_workflow(WorkflowArn=second.xcom("deploy"))
    assert live["DefinitionS3Location"]["ObjectKey"].endswith(hashlib.sha256(V2.encode()).hexdigest() + ".yaml")


def test_relative_definition_file_is_resolved_against_the_dag_file_folder(
    emulator: Any, aws_conn_env: str, bucket: str
) -> None:
    # The DAG is defined in this test file: its folder is tests/operators.
    here = Path(__file__).parent
    path = here / f"_tmp_{uuid.uuid4().hex[:8]}.yaml"
    path.write_text(V1)
    try:
        outcome = run_dag(_dag({"definition_file": path.name, "s3_bucket": bucket}))
    finally:
        path.unlink()
    assert outcome.xcom("deploy", "deployment") == "created"


def test_a_different_encryption_on_an_existing_workflow_fails_clearly(
    emulator: Any, aws_conn_env: str, tmp_path: Path, bucket: str, capfd: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, V1)
    run_dag(_dag({"definition_file": path, "s3_bucket": bucket}))
    kms = {"Type": "CUSTOMER_MANAGED_KEY", "KmsKeyId": "alias/orders"}

    outcome = run_dag(_dag({"definition_file": path, "s3_bucket": bucket, "encryption_configuration": kms}))

    assert outcome.task_states["deploy"] == "failed"
    assert "UpdateWorkflow cannot change a workflow's encryption" in "".join(capfd.readouterr())
    assert _writes(emulator)["UpdateWorkflow"] == 0


def test_a_missing_bucket_fails_without_creating_the_workflow(
    emulator: Any, aws_conn_env: str, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    outcome = run_dag(_dag({"definition_file": _write(tmp_path, V1), "s3_bucket": "no-such-bucket-here"}))

    assert outcome.task_states["deploy"] == "failed"
    assert "PutObject s3://no-such-bucket-here/" in "".join(capfd.readouterr())
    assert _writes(emulator)["CreateWorkflow"] == 0
