"""End to end: a DAG scheduled by a remote run's success event (asset watcher), on a real Airflow stack.

The emulator (time-driven) publishes its runs' events to its EventBridge; ``ensure_events_queue`` routes
them to an SQS queue; the example's downstream DAG watches it. The upstream DAG starts one run that
fails and one that succeeds, without waiting: the downstream DAG must run exactly once, for the
successful run, with that run in its asset event.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.airflow_stack import REPO_ROOT, AirflowStack

pytestmark = [pytest.mark.long, pytest.mark.e2e, pytest.mark.timeout(300)]

emulator_mod = pytest.importorskip("airflow_provider_mwaas.emulator", reason="emulator not available")

EXAMPLE_DAG = REPO_ROOT / "example_dags" / "example_mwaa_serverless_events.py"
UPSTREAM = "example_mwaa_serverless_events_upstream"
DOWNSTREAM = "example_mwaa_serverless_events_downstream"
CONN_ID = "mwaa_serverless_default"
TIMEOUT = 90.0


@pytest.fixture(scope="module")
def setup() -> Iterator[dict[str, Any]]:
    from airflow_provider_mwaas.hooks.mwaa_serverless import MwaaServerlessHook
    from airflow_provider_mwaas.service.run_events import RUN_DETAIL_TYPES

    with emulator_mod.EmulatorServer(host="127.0.0.1", port=0, transitions="time") as emulator:
        emulator.control.configure_transitions(mode="time", seconds_per_state=1.0)
        arn = emulator.control.create_workflow(name="events-e2e")
        conn = {
            "conn_type": "aws",
            "login": "testing",
            "password": "testing",
            "extra": {"region_name": "us-east-1", "endpoint_url": emulator.url},
        }
        env = {f"AIRFLOW_CONN_{CONN_ID.upper()}": json.dumps(conn)}
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", env[f"AIRFLOW_CONN_{CONN_ID.upper()}"])
            # Failed events too: the watcher must pass over them.
            types = [RUN_DETAIL_TYPES["SUCCESS"], RUN_DETAIL_TYPES["FAILED"]]
            queue_url = MwaaServerlessHook(aws_conn_id=CONN_ID).ensure_events_queue(arn, detail_types=types)
        env.update({"AIRFLOW_VAR_MWAAS_WORKFLOW_ARN": arn, "AIRFLOW_VAR_MWAAS_EVENTS_QUEUE_URL": queue_url})
        with AirflowStack([EXAMPLE_DAG], extra_env=env) as stack:
            stack.wait_for_dag(UPSTREAM)
            stack.wait_for_dag(DOWNSTREAM)
            yield {"stack": stack, "emulator": emulator, "arn": arn}


def test_downstream_runs_once_per_successful_remote_run_and_not_for_a_failed_one(setup: dict[str, Any]) -> None:
    stack: AirflowStack = setup["stack"]
    emulator, arn = setup["emulator"], setup["arn"]
    try:
        emulator.control.script_outcome(arn, status="FAILED")  # the next run fails
        for _ in range(2):  # one remote run each, started one after the other
            run = stack.trigger_dag(UPSTREAM)
            assert stack.wait_for_run(UPSTREAM, run, timeout=TIMEOUT)["state"] == "success"

        def remote_runs_ended() -> list[dict[str, Any]] | None:
            runs = emulator.control.runs(arn)
            return runs if len(runs) == 2 and all(r["Status"] in ("SUCCESS", "FAILED") for r in runs) else None

        failed, succeeded = stack.wait_for(remote_runs_ended, TIMEOUT, "both remote runs to end")
        assert (failed["Status"], succeeded["Status"]) == ("FAILED", "SUCCESS")

        def downstream_done() -> list[dict[str, Any]] | None:
            runs = stack.get(f"/api/v2/dags/{DOWNSTREAM}/dagRuns")["dag_runs"]
            return runs if runs and all(r["state"] in ("success", "failed") for r in runs) else None

        [downstream] = stack.wait_for(downstream_done, TIMEOUT, "the downstream DAG run")
        assert downstream["state"] == "success"
        events = stack.get(f"/api/v2/dags/{DOWNSTREAM}/dagRuns/{downstream['dag_run_id']}/upstreamAssetEvents")
        [event] = events["asset_events"]
        payload = event["extra"]["payload"]
        assert (payload["run_id"], payload["workflow_arn"], payload["state"]) == (succeeded["RunId"], arn, "SUCCESS")
        # The failed run's event went out before the successful one's: the watcher read it and passed over it.
        assert emulator.control.counters()["events"]["published"] > 0
        assert len(stack.get(f"/api/v2/dags/{DOWNSTREAM}/dagRuns")["dag_runs"]) == 1
    except Exception:
        stack.dump_logs(lines=120)
        raise
