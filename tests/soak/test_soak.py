"""The reduced fault soak CI runs (about 50 workflow runs): every failure count must be 0.

Same harness as the full soak (``python benchmarks/soak.py``, about 500 runs): a real Airflow stack
against the emulator with 30 % throttling, 10 % HTTP 500, dropped connections and latency spikes on
every API call, task processes killed right after StartWorkflowRun returned, and triggerer restarts
(SIGKILL, SIGTERM) while tasks are deferred. Deselect with ``-m "not soak"``.
"""

from __future__ import annotations

import pytest

from tests.soak.harness import SoakConfig, print_report, run_soak

pytestmark = [pytest.mark.soak, pytest.mark.e2e, pytest.mark.timeout(420)]

REDUCED = SoakConfig(
    dag_runs=2,
    deferred=13,
    worker_wait=6,
    crash=2,
    failing=2,
    timeout=300.0,
)


def test_reduced_soak_has_no_duplicate_no_lost_run_and_no_wrong_task_state() -> None:
    assert REDUCED.runs_requested == 50

    report = run_soak(REDUCED)
    print_report(report)

    assert report.duplicates == 0, report.problems
    assert report.lost == 0, report.problems
    assert report.wrong_final_states == 0, report.problems
    assert report.runs_started == report.runs_requested + report.new_generation_after_success
    assert report.crashes == REDUCED.crash * REDUCED.dag_runs  # every crash happened and was recovered
    assert len(report.triggerer_restarts) == REDUCED.triggerer_restarts
    assert sum(report.faults_injected.values()) > 0  # the faults were really on
    assert report.ok, report.problems
