"""The README's code examples run as written."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def _example(name: str) -> str:
    match = re.search(rf"<!-- readme-example: {name} -->\n```python\n(.*?)```", README.read_text(), re.DOTALL)
    assert match, f"README example {name!r} not found"
    return match.group(1)


def test_readme_emulator_example_runs_as_written(airflow_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.airflow_runs import _serialize

    namespace: dict[str, Any] = {}
    exec(compile(_example("emulator"), str(README), "exec"), namespace)
    monkeypatch.delenv("AIRFLOW_CONN_MWAAS", raising=False)

    real_test = namespace["DAG"].test

    def test_with_the_dag_serialized(self: Any, *args: Any, **kwargs: Any) -> Any:
        # Stands in for "your DAG file is in the DAGs folder": dag.test() needs the DAG in the metadata DB.
        _serialize(self)
        return real_test(self, *args, **kwargs)

    monkeypatch.setattr(namespace["DAG"], "test", test_with_the_dag_serialized)
    namespace["test_my_dag_reports_the_failed_task_instance"]()
