"""The event-woken waits e2e: a real scheduler + 2 triggerers sharing one SQS queue (moto, through the
emulator's endpoint). Used by ``tests/e2e/test_event_wake_e2e.py`` (reduced) and
``scripts/event-wake-e2e`` (full size, 200 waits).

Two phases, each its own DAG run, workflow and queue (the emulator in ``time`` mode, runs held RUNNING
until every wait is deferred and held by a triggerer):

1. **kill**: the triggerer holding the most waits is SIGKILLed and the runs are released at that moment;
   each run's end goes the service's way: the emulator publishes it to EventBridge (moto), the rule that
   ``MwaaServerlessHook.ensure_events_queue`` made sends it to the queue. The survivor's waits
   end on their events (``waiter_delay`` is long); the killed triggerer's move to the survivor after the
   heartbeat timeout. Figures: runs per idempotency token (duplicates), waits that ended without their run
   (lost), waits that did not end within the hang guard (hung), and when each wait fired after the release.
2. **queue deleted**: the killed triggerer is restarted, a second DAG run waits, the queue is deleted and
   the runs are released: no event can come, every wait must still end, by polling at ``waiter_delay``.
   Figure: the "cannot be read" lines per triggerer log (one per queue per triggerer).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.e2e.airflow_stack import AirflowStack
from tests.emulator_conn import emulator_conn_env
from tests.soak.harness import _Db as SoakDb
from tests.sqs_events import sqs_client

DAG_FILE = Path(__file__).resolve().parent / "dags" / "mwaas_event_wake_dag.py"
DAG_ID = "mwaas_event_wake"
TASK_ID = "deferred"


@dataclass
class EventWakeConfig:
    """Sizes of one run.

    :param waits: deferred waits per phase (map indexes).
    :param waiter_delay: the waits' poll interval when the queue cannot be read, seconds.
    :param safety_interval: ``events_safety_interval``, seconds.
    :param health_threshold: ``[triggerer] triggerer_health_check_threshold``, seconds.
    :param hang_guard: seconds a phase's waits may take after the release before they count as hung.
    """

    waits: int = 20
    waiter_delay: int = 30
    safety_interval: int = 300
    health_threshold: float = 15.0
    hang_guard: float = 600.0


@dataclass
class EventWakeReport:
    """What the run measured; every problem is listed in :attr:`problems`."""

    waits: int = 0
    runs_started: int = 0
    duplicates: int = 0
    lost: int = 0
    hung: int = 0
    not_success: int = 0
    triggers_per_triggerer: dict[str, int] = field(default_factory=dict)
    killed: str = ""
    moved_waits: int = 0
    survivor_fired_max: float = float("nan")  # seconds after the release, the survivor's own waits
    survivor_fired_median: float = float("nan")
    moved_fired_max: float = float("nan")
    kill_phase_requests: dict[str, int] = field(default_factory=dict)
    deleted_fired_max: float = float("nan")
    deleted_not_success: int = 0
    unreadable_lines: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)
    failed_task_logs: dict[str, str] = field(default_factory=dict)  # "phase[index]" -> the log's tail


class _Db(SoakDb):
    def states(self, run_id: str) -> dict[int, str | None]:
        sql = "SELECT map_index, state FROM task_instance WHERE dag_id = ? AND task_id = ? AND run_id = ?"
        return {int(i): s for i, s in self.rows(sql, DAG_ID, TASK_ID, run_id)}

    def holders(self, run_id: str) -> dict[int, int | None]:
        sql = (
            "SELECT ti.map_index, t.triggerer_id FROM task_instance ti JOIN trigger t ON ti.trigger_id = t.id "
            "WHERE ti.dag_id = ? AND ti.task_id = ? AND ti.run_id = ?"
        )
        return {int(i): holder for i, holder in self.rows(sql, DAG_ID, TASK_ID, run_id)}

    def run_ids(self, run_id: str) -> dict[int, str]:
        sql = (
            "SELECT map_index, value FROM xcom WHERE dag_id = ? AND task_id = ? AND run_id = ? AND key = 'return_value'"
        )
        rows = self.rows(sql, DAG_ID, TASK_ID, run_id)
        return {int(i): json.loads(v) if isinstance(v, (str, bytes)) else v for i, v in rows}


def _until(predicate: Any, timeout: float, what: str, interval: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"hang guard: {what} not reached within {timeout:.0f} s")
        time.sleep(interval)


def _fired(db: _Db, run_id: str, waits: int, released_at: float, guard: float) -> tuple[dict[int, float], int]:
    """Seconds after the release at which each wait left ``deferred``; and how many never did (hung)."""
    fired: dict[int, float] = {}

    def all_fired() -> bool:
        for index, state in db.states(run_id).items():
            if state != "deferred":  # all were deferred at the release: the trigger fired
                fired.setdefault(index, time.monotonic() - released_at)
        return len(fired) == waits

    with contextlib.suppress(TimeoutError):  # the waits left are counted as hung
        _until(all_fired, guard, "every wait fired", interval=0.25)
    return fired, waits - len(fired)


def _deferred(db: _Db, run_id: str, config: EventWakeConfig) -> dict[int, int | None]:
    """Wait until every wait is deferred and held by a triggerer; return the holders."""
    _until(lambda: list(db.states(run_id).values()).count("deferred") == config.waits, 600, "all waits deferred")
    return _until(  # type: ignore[no-any-return]
        lambda: (h := db.holders(run_id)) and len(h) == config.waits and None not in h.values() and h,
        120,
        "every trigger assigned to a triggerer",
    )


def run_event_wake(config: EventWakeConfig, *, verbose_stack: bool = True) -> EventWakeReport:
    """Run both phases described by ``config``; return the figures (bad figures go to ``problems``)."""
    from airflow_provider_mwaas.emulator import EmulatorServer

    report = EventWakeReport(waits=config.waits)
    t0 = time.monotonic()
    with EmulatorServer(host="127.0.0.1", port=0, transitions="time") as emulator:
        ctl = emulator.control
        ctl.configure_transitions(mode="time", seconds_per_state=1.0)
        setting = {
            "waits": config.waits,
            "waiter_delay": config.waiter_delay,
            "safety_interval": config.safety_interval,
        }
        env = {
            **emulator_conn_env(emulator.url),
            "MWAAS_EVENT_WAKE_CONFIG": json.dumps(setting),
            "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": str(max(16, config.waits)),
        }
        with AirflowStack(
            [DAG_FILE],
            extra_env=env,
            parallelism=4,
            triggerers=2,
            triggerer_capacity=math.ceil(0.6 * config.waits),  # both triggerers hold some waits
            triggerer_health_threshold=config.health_threshold,
            start_timeout=240,
            verbose=verbose_stack,
        ) as stack:
            assert stack.home is not None
            db = _Db(stack.home / "airflow.db")
            stack.wait_for_dag(DAG_ID)
            _kill_phase(stack, db, ctl, emulator.url, config, report)
            _deleted_queue_phase(stack, db, ctl, emulator.url, config, report)
            for name in ("duplicates", "lost", "hung", "not_success", "deleted_not_success"):
                if getattr(report, name):
                    report.problems.append(f"{name}: {getattr(report, name)}")
    report.seconds = time.monotonic() - t0
    return report


@contextlib.contextmanager
def _environ(values: dict[str, str]) -> Iterator[None]:
    """``os.environ`` with ``values`` set, restored afterwards (the harness runs under pytest too)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def events_queue(url: str, arn: str, prefix: str) -> str:
    """What a user sets up: ``ensure_events_queue(arn)``, the rule routing the workflow's run-end events
    from the emulator's EventBridge to a new SQS queue; returns the queue URL."""
    from airflow_provider_mwaas.hooks.mwaa_serverless import MwaaServerlessHook

    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    with _environ(emulator_conn_env(url, "mwaas_event_wake_setup")):
        return MwaaServerlessHook(aws_conn_id="mwaas_event_wake_setup").ensure_events_queue(arn, name, name)


def _kill_phase(stack: AirflowStack, db: _Db, ctl: Any, url: str, config: EventWakeConfig, report: Any) -> None:
    arn = ctl.create_workflow(name="wake-kill")
    queue = events_queue(url, arn, "wake-kill")
    ctl.hold(workflow_arn=arn)
    dag_run = stack.trigger_dag(DAG_ID, conf={"workflow_arn": arn, "queue_url": queue})
    holders = _deferred(db, dag_run, config)
    by_job = {c.job_id: name for name, c in stack.components.items() if name.startswith("triggerer")}
    report.triggers_per_triggerer = {by_job.get(j, str(j)): n for j, n in Counter(holders.values()).items()}
    if len(report.triggers_per_triggerer) < 2:
        report.problems.append(f"one triggerer held every wait: {report.triggers_per_triggerer}")
    victim = Counter(holders.values()).most_common(1)[0][0]
    report.killed = by_job.get(victim, str(victim))
    moved = {index for index, job in holders.items() if job == victim}
    report.moved_waits = len(moved)
    time.sleep(3)  # every trigger has made its first poll (it runs a second after its assignment)
    before = ctl.counters()["requests"]
    stack.stop_triggerer(signal.SIGKILL, name=report.killed)
    released_at = time.monotonic()
    ctl.release(workflow_arn=arn)  # each run ends 1 s later and the emulator publishes its end
    fired, report.hung = _fired(db, dag_run, config.waits, released_at, config.hang_guard)
    after = ctl.counters()["requests"]
    report.kill_phase_requests = {op: after[op] - before.get(op, 0) for op in after if after[op] - before.get(op, 0)}
    survivor = sorted(seconds for index, seconds in fired.items() if index not in moved)
    if survivor:
        report.survivor_fired_max, report.survivor_fired_median = survivor[-1], survivor[len(survivor) // 2]
    report.moved_fired_max = max((fired[i] for i in moved if i in fired), default=float("nan"))
    final = stack.wait_for_run(DAG_ID, dag_run, timeout=config.hang_guard)
    if final["state"] != "success":
        report.problems.append(f"kill phase: DAG run ended {final['state']}")
    _account(report, ctl.runs(arn), db.states(dag_run), db.run_ids(dag_run))
    _keep_failed_logs(stack, report, "kill", dag_run, db.states(dag_run))


def _deleted_queue_phase(
    stack: AirflowStack, db: _Db, ctl: Any, url: str, config: EventWakeConfig, report: Any
) -> None:
    stack.start_triggerer(name=report.killed)  # two triggerers again, both reading the new queue
    arn = ctl.create_workflow(name="wake-deleted")
    queue = events_queue(url, arn, "wake-deleted")
    ctl.hold(workflow_arn=arn)
    dag_run = stack.trigger_dag(DAG_ID, conf={"workflow_arn": arn, "queue_url": queue})
    _deferred(db, dag_run, config)
    time.sleep(3)  # the consumers read the queue
    sqs_client(url).delete_queue(QueueUrl=queue)
    released_at = time.monotonic()
    ctl.release(workflow_arn=arn)
    fired, hung = _fired(db, dag_run, config.waits, released_at, config.hang_guard)
    report.hung += hung
    report.deleted_fired_max = max(fired.values(), default=float("nan"))
    final = stack.wait_for_run(DAG_ID, dag_run, timeout=config.hang_guard)
    report.deleted_not_success = sum(1 for state in db.states(dag_run).values() if state != "success")
    _keep_failed_logs(stack, report, "queue deleted", dag_run, db.states(dag_run))
    if final["state"] != "success":
        report.problems.append(f"queue-deleted phase: DAG run ended {final['state']}")
    assert stack.home is not None
    trigger_logs = sum(  # the line goes to the triggerer's log; counted in the triggers' logs too
        p.read_text(errors="replace").count(f"Events queue {queue} cannot") for p in stack.home.glob("logs/**/*.log")
    )
    for path in sorted(stack.component_log_dir.glob("triggerer*")):
        report.unreadable_lines[path.name] = path.read_text(errors="replace").count(f"Events queue {queue} cannot")
    report.unreadable_lines["trigger logs"] = trigger_logs
    if sum(report.unreadable_lines.values()) > 3:  # at most one per triggerer process of this phase
        report.problems.append(f"more than one 'cannot be read' line per triggerer: {report.unreadable_lines}")


def _keep_failed_logs(stack: AirflowStack, report: Any, phase: str, run_id: str, states: dict[int, Any]) -> None:
    """The last lines of every try's log of each task that did not succeed (printed by :func:`print_report`:
    a failure in CI says why without a kept home)."""
    assert stack.home is not None
    for index, state in sorted(states.items()):
        if state == "success":
            continue
        pattern = f"logs/dag_id={DAG_ID}/run_id={run_id}/task_id={TASK_ID}/map_index={index}/*.log"
        tails = [
            f"--- {p.name}\n" + "\n".join(p.read_text(errors="replace").splitlines()[-40:])
            for p in sorted(stack.home.glob(pattern))
        ]
        mentions = [  # what the scheduler and the triggerers said of it
            f"{path.name}: {line}"
            for path in sorted(stack.component_log_dir.glob("*.log"))
            for line in path.read_text(errors="replace").splitlines()
            if f"map_index={index}" in line and run_id in line
        ]
        tails.append("--- component logs naming it\n" + "\n".join(mentions[-30:]))
        report.failed_task_logs[f"{phase}[{index}] {state}"] = "\n".join(tails)


def _account(report: Any, runs: list[dict[str, Any]], states: dict[int, Any], run_ids: dict[int, str]) -> None:
    """Duplicates (runs per token), lost waits (no successful run of their own) and final states."""
    report.runs_started = len(runs)
    per_token = Counter(run["ClientToken"] for run in runs)
    report.duplicates = sum(n - 1 for n in per_token.values())
    status = {run["RunId"]: run["Status"] for run in runs}
    report.lost = sum(1 for index in states if status.get(run_ids.get(index, "")) != "SUCCESS")
    report.not_success = sum(1 for state in states.values() if state != "success")
    if len(states) != report.waits:
        report.problems.append(f"{len(states)} task instances, expected {report.waits}")


def print_report(report: EventWakeReport, config: EventWakeConfig) -> None:
    print(
        f"event-woken waits e2e: LocalExecutor, 2 triggerers sharing one SQS queue; {report.waits} deferred waits "
        f"per phase; waiter_delay {config.waiter_delay} s, events_safety_interval {config.safety_interval} s"
    )
    rows = [
        ("kill phase: runs started (emulator)", report.runs_started),
        ("duplicate runs (same token)", report.duplicates),
        ("lost waits", report.lost),
        ("hung waits (both phases)", report.hung),
        ("tasks not success", report.not_success),
        ("triggers per triggerer before the kill", report.triggers_per_triggerer),
        ("triggerer SIGKILLed", f"{report.killed} ({report.moved_waits} waits)"),
        (
            "survivor's waits fired, s after release (median / max)",
            f"{report.survivor_fired_median:.1f} / {report.survivor_fired_max:.1f}",
        ),
        ("killed triggerer's waits fired, s after release (max)", f"{report.moved_fired_max:.1f}"),
        ("kill phase requests after the release", report.kill_phase_requests),
        ("queue deleted: waits fired, s after release (max)", f"{report.deleted_fired_max:.1f}"),
        ("queue deleted: tasks not success", report.deleted_not_success),
        ("queue deleted: 'cannot be read' lines per triggerer log", report.unreadable_lines),
        ("wall time, s", f"{report.seconds:.0f}"),
    ]
    for label, value in rows:
        print(f"  {label:56} {value}")
    print("  problems: " + ("; ".join(report.problems) if report.problems else "none"))
    for name, text in report.failed_task_logs.items():
        print(f"===== task {name}: its log =====\n{text}")


def main(argv: list[str] | None = None) -> int:
    """``scripts/event-wake-e2e``: the run at full size (200 waits); exit status 0 only with no problem."""
    import argparse

    parser = argparse.ArgumentParser(description="the event-woken waits e2e (tests/e2e/event_wake_harness.py)")
    parser.add_argument("--waits", type=int, default=200)
    parser.add_argument("--waiter-delay", type=int, default=30)
    parser.add_argument("--safety-interval", type=int, default=300)
    args = parser.parse_args(argv)
    # the setup's and the queue deletion's boto3 clients talk to the local emulator only (under pytest,
    # conftest sets these)
    os.environ.update(
        {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
    )
    os.environ.update({"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull})
    config = EventWakeConfig(
        waits=args.waits, waiter_delay=args.waiter_delay, safety_interval=args.safety_interval, hang_guard=1800
    )
    report = run_event_wake(config)
    print_report(report, config)
    return 1 if report.problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
