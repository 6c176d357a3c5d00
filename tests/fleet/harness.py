"""The fleet run: CeleryExecutor (Redis broker), 2 workers, 2 triggerers, N deferred waits, one triggerer
SIGKILLed mid-wait. Used by ``tests/fleet/test_fleet.py`` (reduced) and ``scripts/fleet`` (full size).

Every server it needs is started and stopped here: a private ``redis-server`` on a free port, the MWAA
Serverless emulator, and a real Airflow stack (``tests/e2e/airflow_stack.py``). The runs are held
RUNNING until every wait is deferred and both triggerers hold some of them; then the triggerer holding
the most is SIGKILLed and the runs are released at that moment. Figures: runs per idempotency token
(duplicates), waits that ended without their run (lost), final task states, and how long after the kill
each wait's trigger fired, split by the killed triggerer's waits and the survivor's.
"""

from __future__ import annotations

import json
import signal
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.e2e.airflow_stack import AirflowStack
from tests.emulator_conn import emulator_conn_env
from tests.fleet.redis_server import redis_server
from tests.soak.harness import _Db as SoakDb

DAG_FILE = Path(__file__).resolve().parent / "dags" / "mwaas_fleet_dag.py"
DAG_ID = "mwaas_fleet"
TASK_ID = "deferred"


@dataclass
class FleetConfig:
    """Sizes of one fleet run.

    :param waits: deferred waits (map indexes).
    :param waiter_delay: the waits' poll interval, seconds.
    :param worker_concurrency: slots per Celery worker (2 workers).
    :param health_threshold: ``[triggerer] triggerer_health_check_threshold``, seconds: how old a
        triggerer's heartbeat is before its triggers go to another triggerer.
    :param hang_guard: seconds any single wait of the run may take before it is reported as a hang.
    """

    waits: int = 40
    waiter_delay: int = 5
    worker_concurrency: int = 2
    health_threshold: float = 8.0
    hang_guard: float = 600.0


@dataclass
class FleetReport:
    """What the fleet run measured; every problem is listed in :attr:`problems`."""

    waits: int = 0
    runs_started: int = 0
    duplicates: int = 0
    lost: int = 0
    not_success: int = 0
    triggers_per_triggerer: dict[str, int] = field(default_factory=dict)
    killed: str = ""
    moved_waits: int = 0
    moved_fired_after_kill: float = float("nan")  # the last of the killed triggerer's waits
    moved_taken_after_kill: float = float("nan")  # the last of them seen held by the survivor (Airflow's part)
    moved_fired_after_taken: float = float("nan")  # the longest from being taken over to firing
    survivor_fired_after_kill: float = float("nan")
    bound: float = 0.0  # health threshold + 2 x waiter_delay
    gc_freeze_lines: int = 0  # "[mwaas] triggerer_gc_freeze: ..." lines in the triggerers' and triggers' logs
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)


class _Db(SoakDb):
    """Read-only queries on the stack's SQLite metadata DB (the soak's, retrying while a writer holds it)."""

    def states(self) -> dict[int, str | None]:
        rows = self.rows("SELECT map_index, state FROM task_instance WHERE dag_id = ? AND task_id = ?", DAG_ID, TASK_ID)
        return {int(index): state for index, state in rows}

    def holders(self) -> dict[int, int | None]:
        """map index -> the TriggererJob id holding its trigger (``None``: not assigned yet)."""
        rows = self.rows(
            "SELECT ti.map_index, t.triggerer_id FROM task_instance ti JOIN trigger t ON ti.trigger_id = t.id "
            "WHERE ti.dag_id = ? AND ti.task_id = ?",
            DAG_ID,
            TASK_ID,
        )
        return {int(index): holder for index, holder in rows}

    def run_ids(self) -> dict[int, str]:
        rows = self.rows(
            "SELECT map_index, value FROM xcom WHERE dag_id = ? AND task_id = ? AND key = 'return_value'",
            DAG_ID,
            TASK_ID,
        )
        return {int(index): json.loads(value) if isinstance(value, (str, bytes)) else value for index, value in rows}


def _until(predicate: Any, timeout: float, what: str, interval: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"hang guard: {what} not reached within {timeout:.0f} s")
        time.sleep(interval)


def run_fleet(config: FleetConfig, *, verbose_stack: bool = True) -> FleetReport:
    """Run the fleet described by ``config``; return its figures (bad figures go to ``problems``)."""
    from airflow_provider_mwaas.emulator import EmulatorServer

    report = FleetReport(waits=config.waits, bound=config.health_threshold + 2 * config.waiter_delay)
    t0 = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="mwaas-fleet-") as workdir,
        redis_server(Path(workdir)) as broker,
        EmulatorServer(host="127.0.0.1", port=0, transitions="call") as emulator,
    ):
        ctl = emulator.control
        arn = ctl.create_workflow(name="fleet")
        ctl.hold(workflow_arn=arn)
        env = {
            **emulator_conn_env(emulator.url),
            "MWAAS_FLEET_CONFIG": json.dumps({"arn": arn, "waits": config.waits, "waiter_delay": config.waiter_delay}),
            "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": str(max(16, config.waits)),
            # the sizing guide's setting for many waits per triggerer: imports frozen out of full collections
            "AIRFLOW__MWAAS__TRIGGERER_GC_FREEZE": "True",
        }
        with AirflowStack(
            [DAG_FILE],
            extra_env=env,
            parallelism=2 * config.worker_concurrency,
            triggerers=2,
            # as the sizing guide says (capacity >= waits / (triggerers - 1)): the survivor can take every wait
            # of the killed one at once. Both hold some anyway: the waits defer a few at a time (the workers'
            # slots) and each triggerer takes the unassigned ones every loop (checked: "one triggerer held
            # every wait" is a problem).
            triggerer_capacity=config.waits,
            triggerer_health_threshold=config.health_threshold,
            celery_broker_url=broker,
            celery_workers=2,
            worker_concurrency=config.worker_concurrency,
            start_timeout=240,
            verbose=verbose_stack,
        ) as stack:
            assert stack.home is not None
            db = _Db(stack.home / "airflow.db")
            stack.wait_for_dag(DAG_ID)
            dag_run = stack.trigger_dag(DAG_ID)
            _until(
                lambda: list(db.states().values()).count("deferred") == config.waits,
                config.hang_guard,
                f"all {config.waits} waits deferred",
            )
            by_job = {c.job_id: name for name, c in stack.components.items() if name.startswith("triggerer")}
            holders = _until(
                lambda: (h := db.holders()) and len(h) == config.waits and None not in h.values() and h,
                120,
                "every trigger assigned to a triggerer",
            )
            report.triggers_per_triggerer = {by_job.get(j, str(j)): n for j, n in Counter(holders.values()).items()}
            if len(report.triggers_per_triggerer) < 2:
                report.problems.append(f"one triggerer held every wait: {report.triggers_per_triggerer}")
            victim_job = Counter(holders.values()).most_common(1)[0][0]
            report.killed = by_job.get(victim_job, str(victim_job))
            moved = {index for index, job in holders.items() if job == victim_job}
            report.moved_waits = len(moved)

            killed_at = time.monotonic()
            stack.stop_triggerer(signal.SIGKILL, name=report.killed)
            ctl.release(workflow_arn=arn)  # every run ends now: the survivor's waits at its next poll
            fired: dict[int, float] = {}
            taken: dict[int, float] = {}  # moved wait -> when its trigger was first seen on the survivor

            def all_fired() -> bool:
                now = time.monotonic() - killed_at
                for index, job in db.holders().items():
                    if index in moved and job is not None and job != victim_job:
                        taken.setdefault(index, now)
                for index, state in db.states().items():
                    if state != "deferred":
                        fired.setdefault(index, now)
                        taken.setdefault(index, now)  # taken and fired between two looks: at most now
                return len(fired) == config.waits

            _until(all_fired, config.hang_guard, "every trigger fired", interval=0.25)
            report.moved_fired_after_kill = max((fired[i] for i in moved), default=float("nan"))
            report.moved_taken_after_kill = max((taken[i] for i in moved), default=float("nan"))
            report.moved_fired_after_taken = max((fired[i] - taken[i] for i in moved), default=float("nan"))
            survivor = [seconds for index, seconds in fired.items() if index not in moved]
            report.survivor_fired_after_kill = max(survivor, default=float("nan"))
            final = stack.wait_for_run(DAG_ID, dag_run, timeout=config.hang_guard)
            states, run_ids = db.states(), db.run_ids()
            _account(report, ctl.runs(arn), states, run_ids)
            if final["state"] != "success":
                report.problems.append(f"DAG run ended {final['state']}")
            assert stack.home is not None
            logs = [*stack.home.glob("logs/**/*.log"), *stack.component_log_dir.glob("triggerer*")]
            report.gc_freeze_lines = sum(
                path.read_text(errors="replace").count("[mwaas] triggerer_gc_freeze:") for path in logs
            )
            if not report.gc_freeze_lines:
                report.problems.append("no triggerer logged [mwaas] triggerer_gc_freeze")
    report.seconds = time.monotonic() - t0
    return report


def _account(report: FleetReport, runs: list[dict[str, Any]], states: dict[int, Any], run_ids: dict[int, str]) -> None:
    """Duplicates (runs per token), lost waits (no successful run of their own) and final states."""
    report.runs_started = len(runs)
    per_token = Counter(run["ClientToken"] for run in runs)
    report.duplicates = sum(n - 1 for n in per_token.values())
    status = {run["RunId"]: run["Status"] for run in runs}
    report.lost = sum(1 for index in states if status.get(run_ids.get(index, "")) != "SUCCESS")
    report.not_success = sum(1 for state in states.values() if state != "success")
    if len(run_ids) != len(set(run_ids.values())):
        report.problems.append("two waits reported the same run")
    for name in ("duplicates", "lost", "not_success"):
        if getattr(report, name):
            report.problems.append(f"{name}: {getattr(report, name)}")
    if len(states) != report.waits:
        report.problems.append(f"{len(states)} task instances, expected {report.waits}")


def print_report(report: FleetReport) -> None:
    print(f"fleet: CeleryExecutor (Redis broker), 2 workers, 2 triggerers; {report.waits} deferred waits")
    rows = [
        ("runs started (emulator)", report.runs_started),
        ("duplicate runs (same token)", report.duplicates),
        ("lost waits", report.lost),
        ("tasks not success", report.not_success),
        ("triggers per triggerer before the kill", report.triggers_per_triggerer),
        ("triggerer SIGKILLed", f"{report.killed} ({report.moved_waits} waits)"),
        ("its waits fired, s after the kill (last)", f"{report.moved_fired_after_kill:.1f}"),
        ("  taken over by the survivor, s after the kill (last)", f"{report.moved_taken_after_kill:.1f}"),
        ("  fired, s after being taken over (longest)", f"{report.moved_fired_after_taken:.1f}"),
        ("survivor's waits fired, s after the kill (last)", f"{report.survivor_fired_after_kill:.1f}"),
        ("heartbeat timeout + 2 x waiter_delay, s", f"{report.bound:.0f}"),
        ("[mwaas] triggerer_gc_freeze lines in the logs", report.gc_freeze_lines),
        ("wall time, s", f"{report.seconds:.0f}"),
    ]
    for label, value in rows:
        print(f"  {label:54} {value}")
    print("  problems: " + ("; ".join(report.problems) if report.problems else "none"))


def main(argv: list[str] | None = None) -> int:
    """``scripts/fleet``: the fleet run at full size (500 waits); exit status 0 only with no problem."""
    import argparse

    parser = argparse.ArgumentParser(description="the fleet run (tests/fleet/harness.py) at full size")
    parser.add_argument("--waits", type=int, default=500)
    parser.add_argument("--waiter-delay", type=int, default=5)
    parser.add_argument("--worker-concurrency", type=int, default=4, help="slots per Celery worker (2 workers)")
    args = parser.parse_args(argv)
    config = FleetConfig(
        waits=args.waits, waiter_delay=args.waiter_delay, worker_concurrency=args.worker_concurrency, hang_guard=3600
    )
    report = run_fleet(config)
    print_report(report)
    return 1 if report.problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
