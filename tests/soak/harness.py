"""The fault soak: many workflow runs through a real Airflow stack against a faulty emulator.

One emulator server (time-driven transitions) with fault injection on every API operation, and one
:class:`~tests.e2e.airflow_stack.AirflowStack` (api-server, scheduler with LocalExecutor, triggerer,
dag-processor) running ``tests/soak/dags/mwaas_soak_dag.py`` for several DAG runs of mapped tasks:

* ``deferred`` and ``worker_wait`` tasks start one run each; every one must succeed;
* ``crash`` tasks kill their own task process right after StartWorkflowRun returned, before the task
  recorded anything (try 1); their runs are held RUNNING until every retry has re-attached, so the
  retry must find the same run (a second run would be a duplicate);
* ``failing`` tasks run a workflow whose runs all fail: each try starts its own run (token generations
  ``g0``, ``g1``) and the task ends ``failed``;
* the triggerer is restarted (SIGKILL, then SIGTERM) while tasks are deferred.

Then every emulator run is attributed to its task instance through the token rule, and the table is
printed. ``python benchmarks/soak.py`` runs the full soak; ``tests/soak/test_soak.py`` a reduced one.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from airflow_provider_mwaas.service.model import operation_names
from tests.e2e.airflow_stack import AirflowStack
from tests.emulator_conn import emulator_conn_env
from tests.soak.accounting import (
    DAG_ID,
    FAILING_KINDS,
    FAILING_TRIES,
    ONE_RUN_KINDS,
    Expected,
    SoakReport,
    TaskKey,
    account,
)

SOAK_DAG = Path(__file__).resolve().parent / "dags" / "mwaas_soak_dag.py"
#: How far the runs of finished DAG runs are moved into the past before those DAG runs are cleared.
CLEAR_AFTER_AGE_SECONDS = 2 * 3600
#: botocore settings the soak's connection uses (``config_kwargs``): under ~45 % error answers botocore's
#: default of 10 retries per call leaves a small chance (0.45**11 ~ 1e-4 per call) of a call failing for
#: good; 20 retries make that ~1e-7 over thousands of calls. Timeouts bound a latency spike or a drop.
BOTOCORE_CONFIG: dict[str, Any] = {
    "retries": {"mode": "standard", "max_attempts": 20},
    "connect_timeout": 5,
    "read_timeout": 30,
}


@dataclass
class SoakConfig:
    """How big the soak is and which faults it injects.

    :param dag_runs: DAG runs triggered (all at once).
    :param deferred: map indexes of ``deferred`` per DAG run (and so on for the other kinds).
    :param throttle: fraction of API requests answered ``ThrottlingException``.
    :param internal_error: fraction answered HTTP 500 ``InternalServerException``.
    :param drop: fraction whose connection is dropped without an answer.
    :param latency: fraction delayed by ``latency_seconds`` (a latency spike).
    :param triggerer_restarts: triggerer restarts while tasks are deferred (SIGKILL first, then SIGTERM).
    :param deferred_share_at_kill: the first restart waits until this share of the ``deferred`` waits
        is deferred (their runs are held RUNNING until the restarts are done).
    :param clear_mid_wait: per DAG run, map indexes of ``deferred`` and of ``worker_wait`` cleared while
        they wait on their run (the run must be stopped and a new one started).
    :param clear_after: DAG runs cleared after they finished, their runs aged 2 hours first (every task
        must run again).
    :param seconds_per_state: emulator run progression (time-driven).
    :param parallelism: Airflow ``[core] parallelism`` (LocalExecutor worker slots).
    :param timeout: seconds to wait for every DAG run to end.
    :param keep_home: keep the stack's AIRFLOW_HOME (task logs, DB) for inspection; its path is printed.
    """

    dag_runs: int = 5
    deferred: int = 60
    worker_wait: int = 30
    crash: int = 4
    failing: int = 3
    throttle: float = 0.30
    internal_error: float = 0.10
    drop: float = 0.03
    latency: float = 0.05
    latency_seconds: float = 1.5
    triggerer_restarts: int = 2
    deferred_share_at_kill: float = 0.8
    clear_mid_wait: int = 1
    clear_after: int = 1
    seconds_per_state: float = 2.0
    parallelism: int = 4
    seed: int = 5
    timeout: float = 3600.0
    keep_home: bool = False

    @property
    def runs_requested(self) -> int:
        """Workflow runs the DAG runs must start: one per one-run attempt (1 + clears), one per failing try."""
        per_dag_run = self.deferred + self.worker_wait + self.crash + self.failing * FAILING_TRIES
        mid_wait = min(self.clear_mid_wait, self.deferred) + min(self.clear_mid_wait, self.worker_wait)
        cleared_again = min(self.clear_after, self.dag_runs) * per_dag_run
        return self.dag_runs * (per_dag_run + mid_wait) + cleared_again

    def map_width(self, kind: str) -> int:
        return int(getattr(self, kind))


def _log(message: str) -> None:
    print(f"[soak {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class _Db:
    """Read-only queries on the stack's SQLite metadata DB."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        for attempt in range(10):
            try:
                conn = sqlite3.connect(self.path, timeout=30)
                try:
                    conn.execute("PRAGMA query_only = ON")
                    return list(conn.execute(sql, params))
                finally:
                    conn.close()
            except sqlite3.OperationalError:  # locked by a writer for longer than the timeout
                if attempt == 9:
                    raise
                time.sleep(1)
        return []

    def task_instances(self) -> list[tuple[str, str, int, str | None, int]]:
        """(run_id, task_id, map_index, state, try_number) of the soak DAG."""
        return self.rows(  # type: ignore[return-value]
            "SELECT run_id, task_id, map_index, state, try_number FROM task_instance WHERE dag_id = ?", DAG_ID
        )

    def xcom(self, key: str) -> dict[tuple[str, str, int], Any]:
        result = {}
        for run_id, task_id, map_index, value in self.rows(
            "SELECT run_id, task_id, map_index, value FROM xcom WHERE dag_id = ? AND key = ?", DAG_ID, key
        ):
            result[(run_id, task_id, map_index)] = json.loads(value) if isinstance(value, (str, bytes)) else value
        return result

    def dag_runs(self) -> dict[str, str]:
        return dict(self.rows("SELECT run_id, state FROM dag_run WHERE dag_id = ?", DAG_ID))  # type: ignore[arg-type]


def run_soak(config: SoakConfig, *, verbose_stack: bool = True) -> SoakReport:
    """Run the soak described by ``config`` and return its figures (never raises on bad figures)."""
    from airflow_provider_mwaas.emulator import EmulatorServer

    report = SoakReport()
    t0 = time.monotonic()
    with EmulatorServer(host="127.0.0.1", port=0, transitions="time") as emulator:
        ctl = emulator.control
        ctl.configure_transitions(mode="time", seconds_per_state=config.seconds_per_state)
        arns = {name: ctl.create_workflow(name=f"soak-{name[4:]}") for name in WORKFLOWS}
        ctl.script_outcome(arns["arn_fail"], status="FAILED", error_message="soak: scripted failure", count=None)
        ctl.hold(workflow_arn=arns["arn_crash"])  # until every crash retry re-attached
        ctl.hold(workflow_arn=arns["arn_ok"])  # the deferred waits: until the triggerer restarts are done
        dag_config = {**arns, **{kind: config.map_width(kind) for kind in (*ONE_RUN_KINDS, *FAILING_KINDS)}}
        env = {
            **emulator_conn_env(emulator.url, config_kwargs=BOTOCORE_CONFIG),
            "MWAAS_SOAK_CONFIG": json.dumps(dag_config),
            "MWAAS_SOAK_CRASH": "1",
            "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "64",
        }
        with AirflowStack(
            [SOAK_DAG], extra_env=env, parallelism=config.parallelism, verbose=verbose_stack, keep_home=config.keep_home
        ) as stack:
            stack.wait_for_dag(DAG_ID)
            assert stack.home is not None
            db = _Db(stack.home / "airflow.db")
            ctl.set_faults(
                operations=FAULTED_OPERATIONS,
                throttle=config.throttle,
                internal_error=config.internal_error,
                drop=config.drop,
                latency=config.latency,
                latency_seconds=config.latency_seconds,
                seed=config.seed,
            )
            dag_run_ids = [stack.trigger_dag(DAG_ID, run_id=f"soak_{i:03d}") for i in range(config.dag_runs)]
            expected = {
                (dag_run, kind, idx): Expected(kind)
                for dag_run in dag_run_ids
                for kind in (*ONE_RUN_KINDS, *FAILING_KINDS)
                for idx in range(config.map_width(kind))
            }
            _log(f"triggered {len(dag_run_ids)} DAG runs")
            _drive(stack, ctl, db, config, arns, dag_run_ids, expected, report)
            _clear_finished(stack, ctl, db, config, dag_run_ids, expected, report)
            ctl.clear_faults()
            tis = {(run_id, task, idx): (state, tries) for run_id, task, idx, state, tries in db.task_instances()}
            account(report, tis, expected, ctl.runs(), db.xcom("return_value"), ctl.counters())
            report.dag_run_states = db.dag_runs()
    report.seconds = time.monotonic() - t0
    return report


#: Faults go into every operation but StopWorkflowRun: a clear's stop runs in ``on_kill``, which Airflow
#: gives seconds (5 s on a worker), and under ~45 % fault answers a few short attempts can all fail (the
#: run is then left running, with a log line; docs/guarantees.md). The soak measures the token rule.
FAULTED_OPERATIONS = [name for name in operation_names() if name != "StopWorkflowRun"]
#: Task kinds some of whose task instances are cleared while they wait on their run.
MID_WAIT_KINDS = ("deferred", "worker_wait")
IN_FLIGHT = ("STARTING", "QUEUED", "RUNNING")
#: The soak's workflows: deferred waits, worker waits, crashing tasks, failing tasks.
WORKFLOWS = ("arn_ok", "arn_worker", "arn_crash", "arn_fail")


def _drive(
    stack: AirflowStack,
    ctl: Any,
    db: _Db,
    config: SoakConfig,
    arns: dict[str, str],
    dag_run_ids: list[str],
    expected: dict[TaskKey, Expected],
    report: SoakReport,
) -> None:
    """Wait for every DAG run to end: clear waits mid-wait, restart the triggerer while most waits are
    deferred, then release the held runs."""
    crash_expected = config.crash * config.dag_runs
    deferred_total = config.deferred * config.dag_runs
    restarts_left = config.triggerer_restarts
    # Per DAG run, how many deferred / worker waits to clear mid-wait (whichever map indexes are caught
    # waiting on a run in flight first), and the runs those clears must stop.
    to_clear = Counter(
        {
            (dag_run, kind): min(config.clear_mid_wait, config.map_width(kind))
            for dag_run in dag_run_ids
            for kind in MID_WAIT_KINDS
        }
    )
    stopping: dict[str, TaskKey] = {}
    crash_released = ok_released = False
    started = time.monotonic()
    deadline = started + config.timeout
    last_progress = ""
    while time.monotonic() < deadline:
        tis = {(run_id, task, idx): state for run_id, task, idx, state, _ in db.task_instances()}
        states = Counter(tis.values())
        deferred = states.get("deferred", 0)
        tokens = db.xcom("client_token")  # pushed right after the run started (or was re-attached)
        runs = {run["RunId"]: run for run in ctl.runs()}
        if +to_clear:
            by_token = {run["ClientToken"]: run for run in runs.values()}
            for key, token in sorted(tokens.items()):
                run = by_token.get(token)
                waiting = "deferred" if key[1] == "deferred" else "running"
                if (
                    to_clear[key[:2]] > 0
                    and tis.get(key) == waiting
                    and run
                    and run["Status"] in IN_FLIGHT
                    and (key[1] != "deferred" or _trigger_runs(stack, key))
                ):
                    if key[1] == "worker_wait":
                        # Airflow kills a cleared running task seconds later (heartbeat); the run must still
                        # be in flight then (docs/guarantees.md: a run that ended first is adopted).
                        ctl.hold(run_id=run["RunId"])
                    _clear(stack, key, run["RunId"])
                    to_clear[key[:2]] -= 1
                    stopping[run["RunId"]] = key
                    expected[key].cleared_mid_wait = True
        for run_id in [r for r in stopping if runs[r]["Status"] in ("STOPPING", "STOPPED")]:
            del stopping[run_id]  # the clear stopped the run (on_kill): the triggerer may be killed now
        attached = sum(1 for (_, task, _) in tokens if task == "crash")
        # The kills land while most waits are deferred (their runs are held): first once the share is
        # reached (or after a minute), the last once every crash retry waits deferred on its held run.
        share_reached = deferred >= config.deferred_share_at_kill * deferred_total
        ready = (share_reached and not +to_clear and not stopping) or _waited(started, 180)
        if restarts_left and deferred and ready and (restarts_left > 1 or attached >= crash_expected):
            sig = signal.SIGKILL if restarts_left % 2 == 0 else signal.SIGTERM
            _log(f"restarting the triggerer ({sig.name}) with {deferred} task instances deferred")
            stack.stop_triggerer(sig)
            stack.start_triggerer()
            report.triggerer_restarts.append({"signal": sig.name, "deferred": deferred})
            restarts_left -= 1
        if not restarts_left and not crash_released and attached >= crash_expected:
            _log(f"all {attached} crash retries re-attached: releasing their held runs")
            ctl.release(workflow_arn=arns["arn_crash"])
            crash_released = True
        if not restarts_left and not ok_released:
            ctl.release(workflow_arn=arns["arn_ok"])
            ok_released = True
        dag_runs = db.dag_runs()
        progress = (
            f"{dict(sorted(states.items(), key=lambda item: str(item[0])))} dag runs {Counter(dag_runs.values())}"
        )
        if progress != last_progress:
            _log(progress)
            last_progress = progress
        ended = all(state in ("success", "failed") for state in dag_runs.values())
        if crash_released and len(dag_runs) == len(dag_run_ids) and ended:
            if +to_clear or stopping:
                report.problems.append(f"mid-wait clears not done: {dict(+to_clear)}, runs not stopped: {stopping}")
            return
        time.sleep(1.0)
    report.problems.append(f"DAG runs did not all end within {config.timeout:.0f}s: {db.dag_runs()}")
    ctl.release()


def _waited(since: float, seconds: float) -> bool:
    return time.monotonic() - since > seconds


def _trigger_runs(stack: AirflowStack, key: TaskKey) -> bool:
    """Whether a triggerer runs the task's trigger: Airflow calls no ``on_kill`` for a trigger that never
    ran, so a clear before that would leave the run going (docs/guarantees.md, "What does not hold")."""
    dag_run, task, idx = key
    folder = stack.task_log_dir(DAG_ID, dag_run, task) / f"map_index={idx}"
    return any("Waiting for workflow run" in path.read_text(errors="replace") for path in folder.glob("*.trigger.*"))


def _clear(stack: AirflowStack, key: TaskKey, run_id: str) -> None:
    """Clear one task instance while it waits on its run (the clear must stop the run)."""
    dag_run, task, idx = key
    body = {"dry_run": False, "task_ids": [[task, idx]], "dag_run_id": dag_run, "only_failed": False}
    stack.api("POST", f"/api/v2/dags/{DAG_ID}/clearTaskInstances", json=body)
    _log(f"cleared {key} while it waited on run {run_id}")


def _clear_finished(
    stack: AirflowStack,
    ctl: Any,
    db: _Db,
    config: SoakConfig,
    dag_run_ids: list[str],
    expected: dict[TaskKey, Expected],
    report: SoakReport,
) -> None:
    """Age every run by two hours, clear the first ``clear_after`` finished DAG runs, wait for them again."""
    cleared = dag_run_ids[: config.clear_after]
    if not cleared:
        return
    ctl.age_runs(CLEAR_AFTER_AGE_SECONDS)
    for dag_run in cleared:
        stack.api("POST", f"/api/v2/dags/{DAG_ID}/dagRuns/{dag_run}/clear", json={"dry_run": False})
        for key in expected:
            if key[0] == dag_run:
                expected[key].cleared_after_finish = True
    _log(f"cleared finished DAG runs {cleared} (runs aged {CLEAR_AFTER_AGE_SECONDS} s)")
    deadline = time.monotonic() + config.timeout
    while time.monotonic() < deadline:
        runs = db.dag_runs()
        if all(runs.get(dag_run) in ("success", "failed") for dag_run in cleared):
            return
        time.sleep(1.0)
    report.problems.append(f"cleared DAG runs did not end within {config.timeout:.0f}s: {db.dag_runs()}")


def print_report(report: SoakReport, out: Callable[[str], None] = print) -> None:
    out(report.table())
    if report.problems:
        out("Problems:")
        for problem in report.problems[:50]:
            out(f"  - {problem}")
    if report.notes:
        out("Notes:")
        for note in report.notes[:50]:
            out(f"  - {note}")
    out(f"RESULT: {'OK' if report.ok else 'FAILED'}")


def report_json(report: SoakReport) -> str:
    return json.dumps({**asdict(report), "ok": report.ok}, indent=1, default=str)
