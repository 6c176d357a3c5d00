"""Progress lines and failure diagnostics."""

from __future__ import annotations

from airflow_provider_mwaas.watch.diagnostics import progress_line


def test_task_instances_in_state_none_count_as_not_started_in_progress_lines() -> None:
    tis = [{"Status": "SUCCESS"}, {"Status": "NONE"}, {"Status": "NONE"}, {"Status": "UP_FOR_RETRY"}]
    assert progress_line("RUNNING", tis) == "RUNNING: 1/4 task instances done"


def test_every_ended_task_instance_counts_as_done() -> None:
    ended = ["SUCCESS", "FAILED", "UPSTREAM_FAILED", "REMOVED", "CANCELLED", "TIMEOUT"]
    tis = [{"Status": status} for status in [*ended, "RUNNING", "QUEUED", "SCHEDULED", "NONE"]]
    assert progress_line("RUNNING", tis) == "RUNNING: 6/10 task instances done"
