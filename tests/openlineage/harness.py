"""Start ``tests.openlineage.lineage_run`` with the openlineage provider's file transport and read back
what it emitted, what Airflow recorded and what the emulator saw."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.emulator_conn import emulator_conn_env

REPO_ROOT = Path(__file__).resolve().parents[2]

NAMESPACE = "mwaas-lineage-test"
ARN_PREFIX = "arn:aws:airflow-serverless:us-east-1:"


@dataclass
class LineageRun:
    """One interpreter's DAG runs: Airflow's outcome per DAG, the OpenLineage events and the output."""

    results: list[dict[str, Any]]
    parsed: dict[str, Any] | None
    openlineage_modules: list[str]
    events: list[dict[str, Any]] = field(default_factory=list)
    output: str = ""
    events_text: str = ""

    def task_events(self, dag_id: str, task_id: str, event_type: str | None = None) -> list[dict[str, Any]]:
        """The events of one task's job (``<dag_id>.<task_id>``), in emission order."""
        name = f"{dag_id}.{task_id}"
        return [
            e for e in self.events if e["job"]["name"] == name and (event_type is None or e["eventType"] == event_type)
        ]


def run_lineage(
    spec: dict[str, Any], tmp_path: Path, emulator_url: str, env: dict[str, str] | None = None
) -> LineageRun:
    """Run ``spec`` (see ``lineage_run``) in a fresh interpreter; OpenLineage writes to a file in ``tmp_path``.

    :param env: more environment (e.g. ``AIRFLOW__OPENLINEAGE__DISABLED``).
    """
    events_file = tmp_path / "openlineage-events.jsonl"
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(spec))
    report_file = tmp_path / "report.json"
    child_env = {
        **os.environ,
        **emulator_conn_env(emulator_url),
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(
            {"type": "file", "log_file_path": str(events_file), "append": True}
        ),
        "AIRFLOW__OPENLINEAGE__NAMESPACE": NAMESPACE,
        # Emit in a thread of the task's process: the default forks the (pytest-started) interpreter.
        "AIRFLOW__OPENLINEAGE__EXECUTE_IN_THREAD": "True",
        **(env or {}),
    }
    result = subprocess.run(
        [sys.executable, "-m", "tests.openlineage.lineage_run", str(spec_file), str(report_file)],
        cwd=REPO_ROOT,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    report = json.loads(report_file.read_text())
    text = events_file.read_text() if events_file.exists() else ""
    return LineageRun(
        results=report["results"],
        parsed=report["parsed"],
        openlineage_modules=report["openlineage_modules"],
        events=[json.loads(line) for line in text.splitlines() if line.strip()],
        output=output,
        events_text=text,
    )
