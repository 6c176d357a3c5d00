"""The soak's figures: every emulator run attributed to its task instance and attempt by its token.

A derived token names the task instance (its digest), the attempt (the first try since the last clear)
and the generation (README, "The token rule"). Per task instance the soak knows how many attempts it
asked for (1, plus one per clear), so:

* one-run kinds (``deferred``, ``worker_wait``, ``crash``) must have exactly one run per attempt: a
  second run in one attempt is a **duplicate**; an attempt without a run is a **skipped re-run**; the
  last attempt's run must have succeeded and be the task's XCom, else the task **lost** its run. A run
  whose attempt a mid-wait clear ended must be STOPPED (the clear stopped it);
* ``failing`` tasks (every run fails) must have one run per try.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_mwaas.operators.client_token import DERIVED_TOKEN, task_identity_digest

DAG_ID = "mwaas_soak"
#: Task kinds whose every attempt must start exactly one run and end ``success``.
ONE_RUN_KINDS = ("deferred", "worker_wait", "crash")
#: Task kinds whose runs all fail: one run per try, the task ends ``failed``.
FAILING_KINDS = ("failing",)
#: ``failing`` has retries=1 in the DAG: two tries (two runs) per attempt.
FAILING_TRIES = 2

TaskKey = tuple[str, str, int]  # (dag run id, task id, map index)
#: A run in one of these states can no longer succeed: the next generation of its attempt is rightful.
CANNOT_SUCCEED = ("FAILED", "TIMEOUT", "STOPPED", "STOPPING")


@dataclass
class SoakReport:
    """The soak's figures; every failure count must be 0."""

    runs_requested: int = 0
    runs_started: int = 0
    duplicates: int = 0
    lost: int = 0
    skipped_reruns: int = 0
    wrong_final_states: int = 0
    task_instances: int = 0
    new_generation_after_success: int = 0
    airflow_retries_expected: int = 0
    airflow_retries_unexpected: int = 0
    faults_injected: dict[str, int] = field(default_factory=dict)
    api_requests: int = 0
    crashes: int = 0
    cleared_mid_wait: int = 0
    stopped_by_clear: int = 0
    cleared_after_finish: int = 0
    notes: list[str] = field(default_factory=list)
    triggerer_restarts: list[dict[str, Any]] = field(default_factory=list)
    dag_run_states: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            self.duplicates == self.lost == self.skipped_reruns == self.wrong_final_states == 0
            and self.new_generation_after_success == 0
            and self.runs_started == self.runs_requested
            and self.stopped_by_clear == self.cleared_mid_wait
            and not self.problems
        )

    def table(self) -> str:
        """The printed table (also pasted into docs/guarantees.md)."""
        faults = self.faults_injected
        retried = faults.get("throttle", 0) + faults.get("internal_error", 0) + faults.get("drop", 0)
        restarts = ", ".join(f"{r['signal']} with {r['deferred']} deferred" for r in self.triggerer_restarts) or "none"
        rows = [
            ("runs requested (one per attempt; one per try of failing tasks)", self.runs_requested),
            ("runs the emulator started", self.runs_started),
            ("duplicates (2+ runs for one DAG-run task attempt)", self.duplicates),
            ("lost (a task that ended without its run)", self.lost),
            ("skipped re-runs (a clear that started no new run)", self.skipped_reruns),
            ("wrong final task states", self.wrong_final_states),
            ("task instances", self.task_instances),
            ("runs started although the attempt's earlier run had succeeded", self.new_generation_after_success),
            ("tasks cleared mid-wait / their runs stopped", f"{self.cleared_mid_wait} / {self.stopped_by_clear}"),
            ("task instances re-run by clearing finished DAG runs (runs aged 2 h)", self.cleared_after_finish),
            ("Airflow task retries used: planned (crash + failing)", self.airflow_retries_expected),
            ("Airflow task retries used: unplanned", self.airflow_retries_unexpected),
            ("API requests answered with a fault, retried (botocore/trigger)", retried),
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


@dataclass
class Expected:
    """What the soak asked of one task instance: its kind and the clears it went through."""

    kind: str
    cleared_mid_wait: bool = False
    cleared_after_finish: bool = False

    @property
    def attempts(self) -> int:
        return 1 + int(self.cleared_mid_wait) + int(self.cleared_after_finish)


def account(
    report: SoakReport,
    task_instances: dict[TaskKey, tuple[str | None, int]],
    expected: dict[TaskKey, Expected],
    runs: list[dict[str, Any]],
    return_values: dict[TaskKey, Any],
    counters: dict[str, Any],
) -> None:
    """Fill ``report`` from the DB's task instances (state, try number), the emulator's runs and counters."""
    report.runs_started = len(runs)
    report.faults_injected = dict(counters.get("injected", {}))
    report.api_requests = sum(counters.get("requests", {}).values())
    report.task_instances = len(task_instances)
    if counters.get("runs_started") != len(runs):
        report.problems.append(f"emulator counters say {counters.get('runs_started')} runs, runs() lists {len(runs)}")

    owner = {task_identity_digest(DAG_ID, task, run_id, idx): (run_id, task, idx) for run_id, task, idx in expected}
    attempts: dict[TaskKey, dict[int, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for run in runs:
        match = DERIVED_TOKEN.fullmatch(run["ClientToken"] or "")
        key = owner.get(match["digest"]) if match else None
        if match is None or key is None:
            report.duplicates += 1
            report.problems.append(f"run {run['RunId']} has a token no task instance owns: {run['ClientToken']}")
            continue
        attempts[key][int(match["first_try"] or 1)].append({**run, "generation": int(match["generation"])})

    for key, want in sorted(expected.items()):
        if key not in task_instances:
            report.lost += 1
            report.problems.append(f"{key}: no task instance")
            continue
        state, tries = task_instances[key]
        by_attempt = attempts.get(key, {})
        if want.kind in FAILING_KINDS:
            _account_failing(report, key, state, tries, by_attempt)
        else:
            _account_one_run(report, key, want, state, by_attempt, return_values.get(key))
        # Tries the soak plans: one per attempt, plus the crash's retry, plus failing's second try per attempt.
        report.cleared_after_finish += int(want.cleared_after_finish)
        planned_retries = {"crash": 1, "failing": want.attempts}.get(want.kind, 0)
        planned_tries = want.attempts + planned_retries
        report.airflow_retries_expected += min(tries - want.attempts, planned_retries)
        report.airflow_retries_unexpected += max(0, tries - planned_tries)
        if want.kind == "crash" and tries >= 2:
            report.crashes += 1


def _account_one_run(
    report: SoakReport,
    key: TaskKey,
    want: Expected,
    state: str | None,
    by_attempt: dict[int, list[dict[str, Any]]],
    return_value: Any,
) -> None:
    report.runs_requested += want.attempts
    if state != "success":
        report.wrong_final_states += 1
        report.problems.append(f"{key}: ended {state}, expected success")
    ordered = [run for first_try in sorted(by_attempt) for run in sorted(by_attempt[first_try], key=_generation)]
    duplicates = 0
    for runs in by_attempt.values():
        runs = sorted(runs, key=_generation)
        # Within an attempt a new generation is right only after a run that can no longer succeed.
        for earlier, later in itertools.pairwise(runs):
            if earlier["Status"] not in CANNOT_SUCCEED:
                duplicates += 1
                report.new_generation_after_success += int(earlier["Status"] == "SUCCESS")
                report.problems.append(f"{key}: run {later['RunId']} started after {earlier['Status']} run")
    report.duplicates += duplicates
    rightful = len(ordered) - duplicates
    if rightful < want.attempts:
        report.skipped_reruns += want.attempts - rightful
        report.problems.append(f"{key}: {rightful} runs, expected {want.attempts} (1 + clears)")
    elif rightful > want.attempts:
        report.problems.append(f"{key}: {rightful} runs, expected {want.attempts}: {ordered}")
    if not ordered:
        report.lost += 1
        return
    latest = ordered[-1]
    if return_value != latest["RunId"] or latest["Status"] != "SUCCESS":
        report.lost += 1
        report.problems.append(f"{key}: XCom {return_value!r}, latest run {latest['RunId']} {latest['Status']}")
    if want.cleared_mid_wait:
        report.cleared_mid_wait += 1
        stopped = [run for run in ordered[:-1] if run["Status"] == "STOPPED"]
        report.stopped_by_clear += int(bool(stopped))
        if not stopped:
            report.problems.append(f"{key}: cleared mid-wait, but no earlier run was stopped: {ordered}")


def _generation(run: dict[str, Any]) -> int:
    return int(run["generation"])


def _account_failing(
    report: SoakReport, key: TaskKey, state: str | None, tries: int, by_attempt: dict[int, list[dict[str, Any]]]
) -> None:
    report.runs_requested += tries
    if state != "failed":
        report.wrong_final_states += 1
        report.problems.append(f"{key}: ended {state}, expected failed")
    started = sum(len(runs) for runs in by_attempt.values())
    if started < tries:
        report.lost += tries - started
        report.problems.append(f"{key}: {started} runs for {tries} tries")
    for first_try, runs in by_attempt.items():
        generations = [r["generation"] for r in runs]
        if len(set(generations)) != len(generations):
            report.duplicates += len(generations) - len(set(generations))
            report.problems.append(f"{key} attempt t{first_try}: generations {generations}")
