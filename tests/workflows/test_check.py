"""``python -m airflow_provider_mwaas.workflows check``: offline findings with file, line and reason."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_provider_mwaas.workflows import check_definition
from airflow_provider_mwaas.workflows.__main__ import main

REPO = Path(__file__).resolve().parents[2]
GOOD = """\
orders:
  dag_id: orders
  schedule: null
  params:
    day: "2025-01-01"
  tasks:
    extract:
      operator: airflow.providers.standard.operators.bash.BashOperator
      bash_command: "echo {{ params.day }} {{ params.mwaa_serverless_workflow_id }}"
    load:
      operator: airflow.providers.standard.operators.empty.EmptyOperator
      dependencies: [extract]
"""


def _check(text: str, **kwargs: bool) -> list[tuple[int | None, str, str]]:
    return [(f.line, f.severity, f.reason) for f in check_definition(text, "wf.yaml", **kwargs)]


def test_a_good_definition_has_no_finding() -> None:
    assert _check(GOOD, import_operators=True) == []


def test_an_unknown_dependency_is_an_error_on_its_line() -> None:
    text = GOOD.replace("dependencies: [extract]", "dependencies: [extrac]")
    assert _check(text) == [(10, "error", "task 'load' depends on unknown task 'extrac'")]


def test_tasks_at_the_top_level_are_not_the_service_layout() -> None:
    findings = _check("tasks:\n  a:\n    operator: airflow.providers.standard.operators.empty.EmptyOperator\n")
    assert findings[0][:2] == (1, "error") and "top level" in findings[0][2]


def test_two_dags_in_one_definition_is_an_error() -> None:
    second = GOOD.replace("orders", "other")
    assert any(f[1] == "error" and "second DAG 'other'" in f[2] for f in _check(GOOD + second))


def test_operator_paths_must_be_qualified_and_importable() -> None:
    short = GOOD.replace("airflow.providers.standard.operators.empty.EmptyOperator", "EmptyOperator")
    assert _check(short) == [
        (
            11,
            "error",
            "task 'load': operator 'EmptyOperator' is not a fully qualified class path "
            "(e.g. airflow.providers.amazon.aws.operators.s3.S3CopyObjectOperator)",
        )
    ]
    ghost = GOOD.replace("standard.operators.empty.EmptyOperator", "nowhere.operators.GhostOperator")
    assert _check(ghost) == []  # not imported unless asked
    ((line, severity, reason),) = _check(ghost, import_operators=True)
    assert (line, severity) == (11, "error") and "cannot be imported here (ModuleNotFoundError" in reason


def test_ignored_and_unknown_dag_fields_and_undeclared_params_are_warnings() -> None:
    text = GOOD.replace("  schedule: null\n", "  schedule: null\n  catchup: false\n  max_active_runs: 3\n").replace(
        "{{ params.day }}", "{{ params.day }} {{ params['region'] }}"
    )
    assert _check(text) == [
        (4, "warning", "DAG field 'catchup' is ignored by MWAA Serverless"),
        (
            5,
            "warning",
            "DAG field 'max_active_runs' is not one MWAA Serverless documents (supported: dag_id, "
            "default_args, end_date, params, schedule, start_date, task_groups, tasks)",
        ),
        (
            11,
            "warning",
            "parameter 'region' is referenced but not declared under the DAG's 'params' "
            "(only a run with OverrideParameters would set it)",
        ),
    ]


def test_the_command_prints_file_line_reason_and_fails_on_errors(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(GOOD)
    bad.write_text(GOOD.replace("    load:\n", "    load\n"))
    out = io.StringIO()
    assert main(["check", str(good)], out) == 0
    assert "1 workflow definition(s) OK" in out.getvalue()
    out = io.StringIO()
    assert main(["check", str(good), str(bad)], out) == 1
    (line,) = out.getvalue().splitlines()
    assert line.startswith(f"{bad}:11: error: not valid YAML")


def test_strict_turns_warnings_into_failures(tmp_path: Path) -> None:
    path = tmp_path / "wf.yaml"
    path.write_text(GOOD.replace("  schedule: null\n", "  schedule: null\n  tags: [a]\n"))
    assert main(["check", str(path)], io.StringIO()) == 0
    assert main(["check", "--strict", str(path)], io.StringIO()) == 1


@pytest.mark.parametrize("args,code", [(["check"], 2), (["check", "/nonexistent.yaml"], 1)])
def test_usage_errors_and_missing_files(args: list[str], code: int) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "airflow_provider_mwaas.workflows", *args], capture_output=True, text=True, cwd=REPO
    )
    assert result.returncode == code, result
    if code == 1:
        assert "/nonexistent.yaml:1: error: cannot be read" in result.stdout


def test_the_example_workflows_pass(tmp_path: Path) -> None:
    files = sorted(str(p) for p in (REPO / "example_dags" / "workflows").glob("*.yaml"))
    assert files and main(["check", "--strict", *files], io.StringIO()) == 0
