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
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from airflow_provider_mwaas.utils.client_token import derive_client_token
from tests.e2e.airflow_stack import AirflowStack

SOAK_DAG = Path(__file__).resolve().parent / "dags" / "mwaas_soak_dag.py"
DAG_ID = "mwaas_soak"
#: Task kinds whose every task instance must end ``success`` with exactly one run.
ONE_RUN_KINDS = ("deferred", "worker_wait", "crash")
#: Task kinds whose runs all fail: one run per try, the task ends ``failed``.
FAILING_KINDS = ("failing",)
#: ``failing`` has retries=1 in the DAG: two tries, two runs.
FAILING_TRIES = 2
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
    seconds_per_state: float = 2.0
    parallelism: int = 4
    seed: int = 5
    timeout: float = 3600.0
    keep_home: bool = False

    @property
    def runs_requested(self) -> int:
        """Workflow runs the DAG runs must start: one per one-run task instance, one per failing try."""
        per_dag_run = self.deferred + self.worker_wait + self.crash + self.failing * FAILING_TRIES
        return self.dag_runs * per_dag_run

    def map_width(self, kind: str) -> int:
        return int(getattr(self, kind))


@dataclass
class SoakReport:
    """The soak's figures; every ``*_failures`` style count must be 0."""

    runs_requested: int = 0
    runs_started: int = 0
    duplicates: int = 0
    lost: int = 0
    wrong_final_states: int = 0
    task_instances: int = 0
    airflow_retries_expected: int = 0
    airflow_retries_unexpected: int = 0
    faults_injected: dict[str, int] = field(default_factory=dict)
    api_requests: int = 0
    crashes: int = 0
    new_generation_after_success: int = 0
    notes: list[str] = field(default_factory=list)
    triggerer_restarts: list[dict[str, Any]] = field(default_factory=list)
    dag_run_states: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            self.duplicates == 0
            and self.lost == 0
            and self.wrong_final_states == 0
            and self.runs_started == self.runs_requested + self.new_generation_after_success
            and not self.problems
        )

    def table(self) -> str:
        """The printed table (also pasted into docs/guarantees.md)."""
        faults = self.faults_injected
        botocore_retried = faults.get("throttle", 0) + faults.get("internal_error", 0) + faults.get("drop", 0)
        restarts = ", ".join(f"{r['signal']} with {r['deferred']} deferred" for r in self.triggerer_restarts) or "none"
        rows = [
            ("runs requested", self.runs_requested),
            ("runs the emulator started", self.runs_started),
            ("duplicates (2+ runs for one DAG-run task try-generation)", self.duplicates),
            ("lost (a task that ended without its run)", self.lost),
            ("wrong final task states", self.wrong_final_states),
            ("task instances", self.task_instances),
            (
                "runs of a later token generation after the earlier try's run had succeeded",
                self.new_generation_after_success,
            ),
            ("Airflow task retries used: planned (crash + failing)", self.airflow_retries_expected),
            ("Airflow task retries used: unplanned", self.airflow_retries_unexpected),
            ("API requests answered with a fault, retried (botocore/trigger)", botocore_retried),
            (
                "  of which throttled / 5xx / dropped",
                f"{faults.get('throttle', 0)} / {faults.get('internal_error', 0)} / {faults.get('drop', 0)}",
            ),
            ("latency spikes", faults.get("latency", 0)),
            ("API requests in total", self.api_requests),
            ("worker crashes after StartWorkflowRun returned", self.crashes),
            ("triggerer restarts while deferred", restarts),
            ("wall time", f"{self.seconds:.0f} s"),
        ]
        width = max(len(name) for name, _ in rows)
        lines = [f"| {'measure'.ljust(width)} | value |", f"|{'-' * (width + 2)}|-------|"]
        lines += [f"| {name.ljust(width)} | {value} |" for name, value in rows]
        return "\n".join(lines)


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

    report = SoakReport(runs_requested=config.runs_requested)
    t0 = time.monotonic()
    with EmulatorServer(host="127.0.0.1", port=0, transitions="time") as emulator:
        ctl = emulator.control
        ctl.configure_transitions(mode="time", seconds_per_state=config.seconds_per_state)
        arns = {
            "arn_ok": ctl.create_workflow(name="soak-ok"),
            "arn_crash": ctl.create_workflow(name="soak-crash"),
            "arn_fail": ctl.create_workflow(name="soak-fail"),
        }
        ctl.script_outcome(arns["arn_fail"], status="FAILED", error_message="soak: scripted failure", count=None)
        ctl.hold(workflow_arn=arns["arn_crash"])
        dag_config = {**arns, **{kind: config.map_width(kind) for kind in (*ONE_RUN_KINDS, *FAILING_KINDS)}}
        conn = {
            "conn_type": "aws",
            "login": "testing",
            "password": "testing",
            "extra": {"region_name": "us-east-1", "endpoint_url": emulator.url, "config_kwargs": BOTOCORE_CONFIG},
        }
        env = {
            "AIRFLOW_CONN_MWAA_SERVERLESS_DEFAULT": json.dumps(conn),
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
                throttle=config.throttle,
                internal_error=config.internal_error,
                drop=config.drop,
                latency=config.latency,
                latency_seconds=config.latency_seconds,
                seed=config.seed,
            )
            dag_run_ids = [stack.trigger_dag(DAG_ID, run_id=f"soak_{i:03d}") for i in range(config.dag_runs)]
            _log(f"triggered {len(dag_run_ids)} DAG runs, {config.runs_requested} workflow runs requested")
            _drive(stack, ctl, db, config, arns, dag_run_ids, report)
            ctl.clear_faults()
            _account(db, ctl.runs(), ctl.counters(), config, dag_run_ids, report)
    report.seconds = time.monotonic() - t0
    return report


def _drive(
    stack: AirflowStack,
    ctl: Any,
    db: _Db,
    config: SoakConfig,
    arns: dict[str, str],
    dag_run_ids: list[str],
    report: SoakReport,
) -> None:
    """Wait for every DAG run to end, restarting the triggerer and releasing the crash runs on the way."""
    crash_expected = config.crash * config.dag_runs
    released = crash_expected == 0
    restarts_left = config.triggerer_restarts
    deadline = time.monotonic() + config.timeout
    last_progress = ""
    while time.monotonic() < deadline:
        tis = db.task_instances()
        states = Counter(state for *_, state, _ in tis)
        deferred = states.get("deferred", 0)
        # Crash tasks that re-attached on their retry pushed client_token (try 1 died before any push).
        attached = sum(1 for (_, task, _) in db.xcom("client_token") if task == "crash")
        if restarts_left and deferred and (restarts_left > 1 or attached >= crash_expected):
            # First restart as soon as tasks are deferred; the last once every crash retry waits deferred
            # on its held run, so those waits certainly span the restart.
            sig = signal.SIGKILL if restarts_left % 2 == 0 else signal.SIGTERM
            _log(f"restarting the triggerer ({sig.name}) with {deferred} task instances deferred")
            stack.stop_triggerer(sig)
            stack.start_triggerer()
            report.triggerer_restarts.append({"signal": sig.name, "deferred": deferred})
            restarts_left -= 1
        if not released and attached >= crash_expected and not restarts_left:
            _log(f"all {attached} crash retries re-attached: releasing their held runs")
            ctl.release(workflow_arn=arns["arn_crash"])
            released = True
        runs = db.dag_runs()
        # a task instance not scheduled yet has no state (None): sort by text
        progress = f"{dict(sorted(states.items(), key=lambda item: str(item[0])))} dag runs {Counter(runs.values())}"
        if progress != last_progress:
            _log(progress)
            last_progress = progress
        if released and len(runs) == len(dag_run_ids) and all(s in ("success", "failed") for s in runs.values()):
            return
        time.sleep(1.0)
    report.problems.append(f"DAG runs did not all end within {config.timeout:.0f}s: {db.dag_runs()}")
    if not released:
        ctl.release(workflow_arn=arns["arn_crash"])


def _account(
    db: _Db,
    runs: list[dict[str, Any]],
    counters: dict[str, Any],
    config: SoakConfig,
    dag_run_ids: list[str],
    report: SoakReport,
) -> None:
    """Attribute every emulator run to its task instance and count duplicates, losses and wrong states."""
    report.runs_started = len(runs)
    report.faults_injected = dict(counters.get("injected", {}))
    report.api_requests = sum(counters.get("requests", {}).values())
    report.dag_run_states = db.dag_runs()
    if counters.get("runs_started") != len(runs):
        report.problems.append(f"emulator counters say {counters.get('runs_started')} runs, runs() lists {len(runs)}")

    tis = {(run_id, task, idx): (state, tries) for run_id, task, idx, state, tries in db.task_instances()}
    report.task_instances = len(tis)
    return_values = db.xcom("return_value")
    # Every token a task instance could have used: generation g of its identity.
    token_owner: dict[str, tuple[tuple[str, str, int], int]] = {}
    for key in tis:
        run_id, task, idx = key
        for generation in range(6):  # more than any task's tries
            token_owner[derive_client_token(DAG_ID, task, run_id, idx, generation)] = (key, generation)
    runs_by_ti: dict[tuple[str, str, int], list[dict[str, Any]]] = defaultdict(list)
    runs_by_token: Counter[str] = Counter()
    for run in runs:
        runs_by_token[run["ClientToken"]] += 1
        owner = token_owner.get(run["ClientToken"])
        if owner is None:
            report.duplicates += 1
            report.problems.append(f"run {run['RunId']} has a token no task instance owns: {run['ClientToken']}")
            continue
        runs_by_ti[owner[0]].append(run)
    for token, count in runs_by_token.items():
        if count > 1:  # two runs for one try-generation
            report.duplicates += count - 1
            report.problems.append(f"{count} runs share token {token}")

    for dag_run in dag_run_ids:
        for kind in (*ONE_RUN_KINDS, *FAILING_KINDS):
            for idx in range(config.map_width(kind)):
                key = (dag_run, kind, idx)
                if key not in tis:
                    report.wrong_final_states += 1
                    report.lost += 1
                    report.problems.append(f"{key}: no task instance")
                    continue
                state, tries = tis[key]
                own_runs = runs_by_ti.get(key, [])
                failing = kind in FAILING_KINDS
                expected_state = "failed" if failing else "success"
                expected_runs = tries if failing else 1
                if state != expected_state:
                    report.wrong_final_states += 1
                    report.problems.append(f"{key}: ended {state}, expected {expected_state}")
                if not failing and len(own_runs) > 1:
                    # A later generation is only started after the earlier generation's run ENDED (the token
                    # rule); a second run while the first was in flight would share its token. Distinct
                    # generations are not duplicates by definition, but the workflow did run again: count it.
                    report.new_generation_after_success += len(own_runs) - 1
                    report.notes.append(
                        f"{key}: {tries} tries, runs {[(r['ClientToken'][-2:], r['Status']) for r in own_runs]}"
                    )
                if len(own_runs) < expected_runs:
                    report.lost += expected_runs - len(own_runs)
                    report.problems.append(f"{key}: {len(own_runs)} runs, expected {expected_runs}")
                elif not failing:
                    latest = max(own_runs, key=lambda r: r["ClientToken"])  # the highest generation
                    if return_values.get(key) != latest["RunId"] or latest["Status"] != "SUCCESS":
                        report.lost += 1
                        report.problems.append(f"{key}: XCom {return_values.get(key)!r} vs runs {own_runs}")
                planned = 1 if kind in ("crash", *FAILING_KINDS) else 0
                report.airflow_retries_expected += min(tries - 1, planned)
                report.airflow_retries_unexpected += max(0, tries - 1 - planned)
                if kind == "crash" and tries >= 2:
                    report.crashes += 1
    if report.crashes != config.crash * config.dag_runs:
        report.problems.append(f"{report.crashes} crash tasks retried, expected {config.crash * config.dag_runs}")


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
