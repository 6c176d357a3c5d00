"""DeployWorkflowOperator's ``Code`` package and tags, through dag.test() against the emulator over HTTP."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_mwaas.deploy.code_package import FIXED_TIME, package_folder
from tests.airflow_runs import run_dag
from tests.operators.test_workflow_deploy import V1, _dag, _uploads, _write, _writes

pytestmark = pytest.mark.usefixtures("airflow_db")


def _code(tmp_path: Path, body: str = "def transform(**context):\n    return 1\n") -> str:
    folder = tmp_path / "code"
    (folder / "shop").mkdir(parents=True, exist_ok=True)
    (folder / "shop" / "__init__.py").write_text("")
    (folder / "shop" / "steps.py").write_text(body)
    (folder / "shop" / "__pycache__").mkdir(exist_ok=True)
    (folder / "shop" / "__pycache__" / "steps.cpython-311.pyc").write_bytes(b"changes every build")
    return str(folder)


def test_code_package_is_reproducible_and_leaves_caches_out(tmp_path: Path) -> None:
    folder = Path(_code(tmp_path))
    first = package_folder(folder)
    (folder / "shop" / "steps.py").touch()  # a new mtime, same bytes
    (folder / "shop" / "__pycache__" / "steps.cpython-311.pyc").write_bytes(b"rebuilt")
    second = package_folder(folder)
    assert first.sha256 == second.sha256 and first.content == second.content
    assert first.files == ("shop/__init__.py", "shop/steps.py")
    with zipfile.ZipFile(io.BytesIO(first.content)) as archive:
        assert {info.date_time for info in archive.infolist()} == {FIXED_TIME}
    (folder / "shop" / "steps.py").write_text("def transform(**context):\n    return 2\n")
    assert package_folder(folder).sha256 != first.sha256


def test_code_changed_makes_a_new_version_unchanged_uploads_nothing(
    emulator: Any,
    aws_conn_env: str,
    tmp_path: Path,
    s3: Any,
    mwaas: Any,
    bucket: str,
) -> None:
    deploy = {"definition_file": _write(tmp_path, V1), "s3_bucket": bucket, "code_folder": _code(tmp_path)}
    created = run_dag(_dag(deploy))
    assert created.state == "success", created.task_states
    arn = created.xcom("deploy")
    live = mwaas.get_workflow(WorkflowArn=arn)
    sha = package_folder(Path(deploy["code_folder"])).sha256
    key = f"mwaa-serverless/workflows/orders/code/{sha}.zip"
    assert live["Code"] == {"S3Location": {"Bucket": bucket, "ObjectKey": key}}
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == package_folder(Path(deploy["code_folder"])).content
    assert _uploads(s3, bucket) == 2  # the definition and the code

    again = run_dag(_dag(deploy))
    assert again.xcom("deploy", "deployment") == "unchanged"
    assert _uploads(s3, bucket) == 2 and _writes(emulator)["UpdateWorkflow"] == 0

    _code(tmp_path, "def transform(**context):\n    return 'changed'\n")
    changed = run_dag(_dag(deploy))
    assert changed.xcom("deploy", "deployment") == "updated"
    assert changed.xcom("deploy", "workflow_version") != created.xcom("deploy", "workflow_version")
    assert _uploads(s3, bucket) == 3  # only the new code package; the definition was already there
    new_key = mwaas.get_workflow(WorkflowArn=arn)["Code"]["S3Location"]["ObjectKey"]
    assert new_key != key and new_key.endswith(".zip")


def test_an_update_without_code_folder_keeps_the_live_code(
    emulator: Any,
    aws_conn_env: str,
    tmp_path: Path,
    mwaas: Any,
    bucket: str,
) -> None:
    with_code = {"definition_file": _write(tmp_path, V1), "s3_bucket": bucket, "code_folder": _code(tmp_path)}
    arn = run_dag(_dag(with_code)).xcom("deploy")
    code = mwaas.get_workflow(WorkflowArn=arn)["Code"]
    outcome = run_dag(_dag({"definition_file": with_code["definition_file"], "s3_bucket": bucket, "description": "d"}))
    assert outcome.xcom("deploy", "deployment") == "updated"
    assert mwaas.get_workflow(WorkflowArn=arn)["Code"] == code


def test_tags_are_added_and_removed_on_an_existing_workflow(
    emulator: Any,
    aws_conn_env: str,
    tmp_path: Path,
    mwaas: Any,
    bucket: str,
) -> None:
    base = {"definition_file": _write(tmp_path, V1), "s3_bucket": bucket}
    arn = run_dag(_dag({**base, "tags": {"team": "data", "tier": "gold"}})).xcom("deploy")
    assert mwaas.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"team": "data", "tier": "gold"}
    versions = len(mwaas.list_workflow_versions(WorkflowArn=arn)["WorkflowVersions"])

    outcome = run_dag(_dag({**base, "tags": {"team": "analytics", "owner": "ana"}}))
    assert outcome.state == "success", outcome.task_states
    assert mwaas.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"team": "analytics", "owner": "ana"}
    assert outcome.xcom("deploy", "deployment") == "unchanged"  # tags make no version
    assert len(mwaas.list_workflow_versions(WorkflowArn=arn)["WorkflowVersions"]) == versions

    before = emulator.control.counters()["requests"]
    run_dag(_dag({**base, "tags": {"team": "analytics", "owner": "ana"}}))
    after = emulator.control.counters()["requests"]
    assert after.get("TagResource", 0) == before.get("TagResource", 0)  # in step: no tag write
    assert after.get("UntagResource", 0) == before.get("UntagResource", 0)

    run_dag(_dag(base))  # tags=None: not managed, left alone
    assert mwaas.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"team": "analytics", "owner": "ana"}


def test_a_missing_code_folder_is_refused_before_any_request(
    emulator: Any,
    aws_conn_env: str,
    tmp_path: Path,
    bucket: str,
) -> None:
    before = sum(emulator.control.counters()["requests"].values())
    outcome = run_dag(
        _dag({"definition_file": _write(tmp_path, V1), "s3_bucket": bucket, "code_folder": str(tmp_path / "nope")})
    )
    assert outcome.state == "failed"
    assert sum(emulator.control.counters()["requests"].values()) == before
