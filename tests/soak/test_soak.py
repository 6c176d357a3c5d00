"""The reduced fault soak CI runs (52 workflow runs): every failure count must be 0.

Same harness as the full soak (``python benchmarks/soak.py``, about 500 runs): a real Airflow stack
against the emulator with 30 % throttling, 10 % HTTP 500, dropped connections and latency spikes on
every API call, task processes killed right after StartWorkflowRun returned, and triggerer restarts
(SIGKILL, SIGTERM) while tasks are deferred. Deselect with ``-m "not soak"``.
"""

from __future__ import annotations

import pytest

from tests.soak.harness import SoakConfig, print_report, run_soak

pytestmark = [pytest.mark.long, pytest.mark.soak, pytest.mark.e2e, pytest.mark.timeout(420)]

REDUCED = SoakConfig(
    dag_runs=2,
    deferred=8,
    worker_wait=4,
    crash=2,
    failing=1,
    timeout=300.0,
)


def test_reduced_soak_has_no_duplicate_no_lost_run_and_no_wrong_task_state() -> None:
    # 2 x (8 + 4 + 2 + 1 x 2) = 32, + 2 x 2 cleared mid-wait, + 16 for the DAG run cleared when finished
    assert REDUCED.runs_requested == 52

    report = run_soak(REDUCED)
    print_report(report)

    assert report.duplicates == 0, report.problems
    assert report.lost == 0, report.problems
    assert report.wrong_final_states == 0, report.problems
    assert report.skipped_reruns == 0, report.problems
    assert report.new_generation_after_success == 0, report.problems
    assert report.runs_started == report.runs_requested == REDUCED.runs_requested
    assert report.cleared_mid_wait == report.stopped_by_clear == 2 * REDUCED.clear_mid_wait * REDUCED.dag_runs
    assert report.cleared_after_finish == 8 + 4 + 2 + 1  # every task instance of the cleared DAG run
    assert report.crashes == REDUCED.crash * REDUCED.dag_runs  # every crash happened and was recovered
    assert len(report.triggerer_restarts) == REDUCED.triggerer_restarts
    # the first kill lands while most deferred waits are deferred
    assert report.triggerer_restarts[0]["deferred"] >= REDUCED.deferred_share_at_kill * 8 * 2
    assert sum(report.faults_injected.values()) > 0  # the faults were really on
    assert report.ok, report.problems
