"""A successful run emits an asset event naming the remote run, and that event schedules a downstream DAG.

The example pair (``example_dags/example_mwaa_serverless_assets.py``) runs for real: the producer
through ``dag.test()`` against the emulator (worker wait and deferred), which records the asset event
through Airflow's execution API exactly as a worker does. ``dag.test()`` does not schedule other DAGs,
so the proof that the consumer gets scheduled is the scheduler's own run-creation step
(``SchedulerJobRunner._create_dagruns_for_dags``) turning the queued ``AssetDagRunQueue`` row into an
asset-triggered DAG run whose consumed event is ours (the function the scheduler loop calls, run
once in-process: no executor, so no stack to start).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.airflow_runs import run_dag

EXAMPLE = Path(__file__).resolve().parents[2] / "example_dags" / "example_mwaa_serverless_assets.py"
PRODUCER = "example_mwaa_serverless_asset_producer"
CONSUMER = "example_mwaa_serverless_asset_consumer"


def _example_dags() -> dict[str, Any]:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(EXAMPLE))
    assert bag.import_errors == {}
    return {dag_id: bag.get_dag(dag_id) for dag_id in (PRODUCER, CONSUMER)}


def _serialize_unpaused(*dags: Any) -> None:
    """Write the DAGs to the DB as the DAG processor does (one bag: neither is marked stale), unpaused."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db
    from airflow.models.dag import DagModel
    from airflow.utils.session import create_session

    DagBundlesManager().sync_bundles_to_db()
    bag = DagBag(dag_folder=os.devnull)
    for dag in dags:
        bag.bag_dag(dag)
    sync_bag_to_db(bag, "dags-folder", None)
    with create_session() as session:
        for dag in dags:
            session.get(DagModel, dag.dag_id).is_paused = False


def _forget_asset_state() -> None:
    from airflow.models.asset import AssetDagRunQueue, AssetEvent
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    with create_session() as session:
        session.query(AssetDagRunQueue).delete()
        session.query(DagRun).filter(DagRun.dag_id == CONSUMER).delete()
        session.query(AssetEvent).delete()


def _asset_events() -> list[Any]:
    from airflow.models.asset import AssetEvent
    from airflow.utils.session import create_session

    with create_session() as session:
        events = session.query(AssetEvent).order_by(AssetEvent.id).all()
        session.expunge_all()
        return events


def _queued_for(dag_id: str) -> int:
    from airflow.models.asset import AssetDagRunQueue
    from airflow.utils.session import create_session

    with create_session() as session:
        return session.query(AssetDagRunQueue).filter(AssetDagRunQueue.target_dag_id == dag_id).count()


def _scheduler_creates_dag_runs() -> list[tuple[str, str, list[dict[str, Any]]]]:
    """Run the scheduler's DAG-run creation step once; return the consumer's runs with their events' extras."""
    from airflow.jobs.job import Job
    from airflow.jobs.scheduler_job_runner import SchedulerJobRunner
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from airflow.utils.sqlalchemy import prohibit_commit

    runner = SchedulerJobRunner(job=Job())
    with create_session() as session, prohibit_commit(session) as guard:
        runner._create_dagruns_for_dags(guard, session)
        guard.commit()
    with create_session() as session:
        runs = session.query(DagRun).filter(DagRun.dag_id == CONSUMER).all()
        return [(str(run.run_type), str(run.state), [e.extra for e in run.consumed_asset_events]) for run in runs]


@pytest.fixture
def example_pair(airflow_db: Path, monkeypatch: pytest.MonkeyPatch, workflow_arn: str, aws_conn_env: str) -> Any:
    monkeypatch.setenv("AIRFLOW_VAR_MWAAS_WORKFLOW_ARN", workflow_arn)
    monkeypatch.setenv("AIRFLOW_VAR_MWAAS_WAITER_DELAY", "0")
    dags = _example_dags()
    _serialize_unpaused(*dags.values())
    _forget_asset_state()
    yield dags
    _forget_asset_state()


@pytest.mark.parametrize("deferrable", [False, True], ids=["worker_wait", "deferred"])
def test_success_emits_an_asset_event_naming_the_run_and_the_scheduler_triggers_the_consumer(
    example_pair: dict[str, Any], emulator: Any, workflow_arn: str, deferrable: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if deferrable:
        monkeypatch.setenv("AIRFLOW_VAR_MWAAS_WAITER_DELAY", "1")
    producer = example_pair[PRODUCER]
    producer.get_task("refresh_orders").deferrable = deferrable

    outcome = run_dag(producer)

    assert outcome.state == "success", outcome.task_states
    [run] = emulator.control.runs(workflow_arn)
    version = _latest_version(emulator, workflow_arn)
    [event] = _asset_events()
    assert event.source_dag_id == PRODUCER and event.source_task_id == "refresh_orders"
    assert event.extra == {
        "workflow_arn": workflow_arn,
        "workflow_version": version,
        "run_id": run["RunId"],
        "state": "SUCCESS",
    }
    assert outcome.xcom("refresh_orders") == run["RunId"]
    assert _queued_for(CONSUMER) == 1  # the row the scheduler acts on

    consumer_runs = _scheduler_creates_dag_runs()

    assert consumer_runs == [("asset_triggered", "queued", [event.extra])]
    assert _queued_for(CONSUMER) == 0


def test_a_failed_run_emits_no_asset_event(example_pair: dict[str, Any], emulator: Any, workflow_arn: str) -> None:
    emulator.control.script_outcome(workflow_arn, status="FAILED", error_message="boom", count=None)

    outcome = run_dag(example_pair[PRODUCER])

    assert outcome.task_states["refresh_orders"] == "failed"
    assert _asset_events() == []
    assert _queued_for(CONSUMER) == 0
    assert _scheduler_creates_dag_runs() == []


def test_the_version_given_to_the_operator_is_the_one_in_the_event(
    airflow_db: Path, emulator: Any, workflow_arn: str, aws_conn_env: str
) -> None:
    from airflow.sdk import DAG, Asset

    from airflow_provider_mwaas.operators.mwaa_serverless import StartWorkflowRunOperator

    version = _latest_version(emulator, workflow_arn)
    asset = Asset(name="mwaas_pinned_version", uri="mwaas://pinned/version")
    with DAG("mwaas_asset_pinned_version", schedule=None) as dag:
        StartWorkflowRunOperator(
            task_id="start",
            aws_conn_id=aws_conn_env,
            workflow_arn=workflow_arn,
            workflow_version=version,
            waiter_delay=0,
            outlets=[asset],
        )
    _forget_asset_state()
    before = emulator.control.counters()["requests"].get("GetWorkflowRun", 0)

    outcome = run_dag(dag)

    assert outcome.state == "success", outcome.task_states
    [event] = [e for e in _asset_events() if e.source_dag_id == "mwaas_asset_pinned_version"]
    assert event.extra["workflow_version"] == version
    # The worker path reads the version from the run it already polled: no extra request for the event.
    assert emulator.control.counters()["requests"]["GetWorkflowRun"] - before == 3
    _forget_asset_state()


def _latest_version(emulator: Any, workflow_arn: str) -> str:
    import boto3

    client = boto3.client("mwaa-serverless", endpoint_url=emulator.url, region_name="us-east-1")
    return str(client.get_workflow(WorkflowArn=workflow_arn)["WorkflowVersion"])
