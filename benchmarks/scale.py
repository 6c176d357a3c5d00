"""Scale: issue 16's table, ours side by side with the upstream-style trigger, in one run.

One command: ``.venv/bin/python benchmarks/scale.py [--n 1000 10000] [--upstream-n 1000] [--delay 10]``.

It starts the emulator server in its own process. For each design and N, a FRESH process (one
"triggerer": one process, one event loop) waits on N new runs of one workflow, held RUNNING:

1. start-up: N triggers created the way Airflow's ``TriggerRunner.create_triggers`` does (create,
   start, ``await asyncio.sleep(0)``); measured until every run has been asked about once ("all
   asked"), with the event-loop lag (a 50 ms heartbeat: how late it wakes; p99 and max);
2. steady state: ``--window`` intervals: requests per interval (emulator counters), lag, RSS per wait;
3. finish: the emulator switches to ``time`` mode and the runs are released in ``--groups`` groups
   spread over one interval (``--failed`` of them scripted to fail); each run ends exactly
   ``seconds_per_state`` after its release (the emulator stamps ``CompletedOn``). Measured: requests in
   each interval until every wait ended (the worst interval is printed), and the detection latency of
   every run = the moment its trigger's event came - the run's ``CompletedOn``.

``--frozen-n`` adds our trigger with ``[mwaas] triggerer_gc_freeze`` set (the imports frozen out of the
garbage collector's full collections when the first wait starts). A "full GC of the imports" row times
one full collection before any wait: the floor of every pause while the heap grows.

A further column measures the worker-side wait (``MwaaServerlessHook.wait_for_workflow_run`` in
``--worker-n`` threads, one per worker slot) through the same finish, for its detection latency.
Prints one table, with N, waiter_delay and the machine. No thresholds; the figures are for
docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from triggerer_density import CONN_ID, _child_env, _cpu, _percentile, _rss_mib, _start_runs  # noqa: E402

SECONDS_PER_STATE = 1.0  # a released run ends this long after its release


class GcPauses:
    """The garbage collector's pauses (``gc.callbacks``): the other thing that can hold the loop."""

    def __init__(self) -> None:
        self.pauses: list[tuple[float, float, int]] = []  # (start, seconds, generation)
        self._began = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
        else:
            self.pauses.append((self._began, time.perf_counter() - self._began, int(info["generation"])))

    def between(self, start: float, end: float) -> tuple[float, int]:
        """(longest pause in ms, full collections) between two ``perf_counter`` moments."""
        inside = [(seconds, gen) for at, seconds, gen in self.pauses if start <= at <= end]
        return 1000 * max((s for s, _ in inside), default=0.0), sum(1 for _, gen in inside if gen == 2)


class Lag:
    """A 50 ms heartbeat task: how late it wakes, kept per phase."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, float]] = []
        self._stop = asyncio.Event()
        self._task = asyncio.ensure_future(self._beat())

    async def _beat(self) -> None:
        while not self._stop.is_set():
            began = time.perf_counter()
            await asyncio.sleep(0.05)
            self.samples.append((began, time.perf_counter() - began - 0.05))

    def between(self, start: float, end: float) -> tuple[float, float]:
        """(p99, max) lag in ms between two ``perf_counter`` moments."""
        values = [lag for at, lag in self.samples if start <= at <= end]
        return 1000 * _percentile(values, 0.99), 1000 * max(values, default=0.0)

    async def stop(self) -> None:
        self._stop.set()
        await self._task


async def _finish(control: Any, arn: str, run_ids: list[str], delay: int, groups: int, failed: int, ended: Any) -> Any:
    """Release the runs in groups over one interval; sample request counters every interval until all ended."""
    for run_id in run_ids[: failed * groups : groups][:failed]:  # failing runs spread over the groups
        await asyncio.to_thread(control.script_outcome, arn, status="FAILED", error_message="boom", run_id=run_id)
    await asyncio.to_thread(control.configure_transitions, mode="time", seconds_per_state=SECONDS_PER_STATE)
    chunks = [run_ids[g::groups] for g in range(groups)]

    async def release() -> None:
        for g, chunk in enumerate(chunks):
            await asyncio.to_thread(control.release, run_ids=chunk)
            if g < groups - 1:
                await asyncio.sleep(delay / groups)

    releasing = asyncio.ensure_future(release())
    intervals: list[dict[str, int]] = []
    previous = (await asyncio.to_thread(control.counters))["requests"]
    deadline = time.monotonic() + 4 * delay + 60
    while not ended() and time.monotonic() < deadline:
        await asyncio.sleep(delay)
        now = (await asyncio.to_thread(control.counters))["requests"]
        intervals.append(
            {op: now.get(op, 0) - previous.get(op, 0) for op in now if now.get(op, 0) - previous.get(op, 0)}
        )
        previous = now
    await releasing
    return intervals


def _latencies(control: Any, arn: str, events: dict[str, float]) -> list[float]:
    completed = {r["RunId"]: r["CompletedOn"] for r in control.runs(arn)}
    return [at - datetime.fromisoformat(completed[run_id]).timestamp() for run_id, at in events.items()]


async def _child(design: str, url: str, arn: str, run_ids: list[str], args: argparse.Namespace) -> dict[str, Any]:
    from upstream_style import UpstreamStyleTrigger

    from airflow_provider_mwaas.emulator.control import EmulatorControl
    from airflow_provider_mwaas.hooks.mwaa_serverless import MwaaServerlessHook
    from airflow_provider_mwaas.triggers import watcher as watcher_module
    from airflow_provider_mwaas.triggers.mwaa_serverless import WorkflowRunCompletedTrigger

    control, delay = EmulatorControl(endpoint_url=url), args.delay
    asked: dict[str, float] = {}
    events: dict[str, float] = {}
    original_deliver = watcher_module.Watcher.deliver

    def deliver(self: Any, result: Any) -> None:
        asked.setdefault(self.run_id, time.perf_counter())
        original_deliver(self, result)

    watcher_module.Watcher.deliver = deliver  # type: ignore[method-assign]
    hook = MwaaServerlessHook(aws_conn_id=CONN_ID)
    async with await hook.get_async_conn() as client:  # warm-up: botocore's model files loaded
        await client.get_workflow_run(WorkflowArn=arn, RunId=run_ids[0])
    gc.collect()
    collect_began = time.perf_counter()
    gc.collect()  # a full collection of the imports alone: the floor of any pause while triggers arrive
    imports_gc_ms = 1000 * (time.perf_counter() - collect_began)
    rss_before, objects_before = _rss_mib(), len(gc.get_objects())
    lag, pauses = Lag(), GcPauses()
    await asyncio.sleep(0.5)
    params: dict[str, Any] = {"waiter_delay": delay, "waiter_max_attempts": 10_000, "aws_conn_id": CONN_ID}

    def polled(run_id: str) -> None:
        asked.setdefault(run_id, time.perf_counter())

    def make(run_id: str) -> Any:
        if design == "upstream":
            return UpstreamStyleTrigger(workflow_arn=arn, run_id=run_id, on_poll=polled, **params)
        return WorkflowRunCompletedTrigger(workflow_arn=arn, run_id=run_id, **params)

    async def drive(trigger: Any) -> None:
        async for _ in trigger.run():
            events[trigger.run_id] = time.time()
            return

    started, cpu_start = time.perf_counter(), _cpu()
    tasks = []
    for run_id in run_ids:  # as Airflow's TriggerRunner.create_triggers does: create, start, yield
        tasks.append(asyncio.ensure_future(drive(make(run_id))))
        await asyncio.sleep(0)
    created = time.perf_counter()
    while len(asked) < len(run_ids):  # noqa: ASYNC110 - polling a plain dict filled by instrumentation
        await asyncio.sleep(0.01)
    all_asked, cpu_up = time.perf_counter(), _cpu() - cpu_start

    await asyncio.sleep(delay)  # the first full interval settles
    gc.collect()
    before = (await asyncio.to_thread(control.counters))["requests"]
    steady_start = time.perf_counter()
    await asyncio.sleep(delay * args.window)
    steady_end = time.perf_counter()
    after = (await asyncio.to_thread(control.counters))["requests"]
    rss_after, objects_after = _rss_mib(), len(gc.get_objects())

    finish_start = time.perf_counter()
    intervals = await _finish(
        control, arn, run_ids, delay, args.groups, args.failed, lambda: all(task.done() for task in tasks)
    )
    finish_end = time.perf_counter()
    await lag.stop()
    latencies = await asyncio.to_thread(_latencies, control, arn, events)
    steady = {op: after.get(op, 0) - before.get(op, 0) for op in after if after.get(op, 0) - before.get(op, 0)}
    worst: dict[str, int] = max(intervals, key=lambda counts: sum(counts.values()), default={})
    return {
        "design": design,
        "n": len(run_ids),
        "rss_per_wait_kib": (rss_after - rss_before) * 1024 / len(run_ids),
        # gc.get_objects() leaves out frozen objects: those the option froze are added back
        "gc_objects": (objects_before, (objects_after + gc.get_freeze_count() - objects_before) / len(run_ids)),
        "frozen_objects": gc.get_freeze_count(),
        "imports_gc_ms": imports_gc_ms,
        "created_seconds": created - started,
        "all_asked_seconds": all_asked - started,
        "cpu_startup_seconds": cpu_up,
        "lag_startup": lag.between(started, all_asked),
        "lag_steady": lag.between(steady_start, steady_end),
        "lag_finish": lag.between(finish_start, finish_end),
        "gc_startup": pauses.between(started, all_asked),
        "gc_steady": pauses.between(steady_start, steady_end),
        "steady_per_interval": sum(steady.values()) / args.window,
        "steady_by_operation": {op: n / args.window for op, n in steady.items()},
        "finish_worst_interval": sum(worst.values()),
        "finish_worst_by_operation": worst,
        "finish_intervals": [sum(counts.values()) for counts in intervals],
        "ended": len(events),
        "latency_median": _percentile(latencies, 0.5),
        "latency_max": max(latencies, default=float("nan")),
    }


def _worker_child(url: str, arn: str, run_ids: list[str], args: argparse.Namespace) -> dict[str, Any]:
    """Worker-side waits (one thread per worker slot) through the same finish: detection latency."""
    from airflow_provider_mwaas.emulator.control import EmulatorControl
    from airflow_provider_mwaas.hooks.mwaa_serverless import MwaaServerlessHook

    control, events = EmulatorControl(endpoint_url=url), {}
    hook = MwaaServerlessHook(aws_conn_id=CONN_ID)
    hook.conn  # noqa: B018 - the client is built before the waits start, as on a worker

    def wait(run_id: str) -> None:
        hook.wait_for_workflow_run(arn, run_id, waiter_delay=args.delay, waiter_max_attempts=10_000, log=lambda _: None)
        events[run_id] = time.time()

    threads = [threading.Thread(target=wait, args=(run_id,), daemon=True) for run_id in run_ids]
    for thread in threads:
        thread.start()
    time.sleep(args.delay)
    asyncio.run(_finish(control, arn, run_ids, args.delay, args.groups, 0, lambda: len(events) == len(run_ids)))
    for thread in threads:
        thread.join(timeout=4 * args.delay + 60)
    latencies = _latencies(control, arn, events)
    return {
        "design": "worker",
        "n": len(run_ids),
        "ended": len(events),
        "latency_median": _percentile(latencies, 0.5),
        "latency_max": max(latencies, default=float("nan")),
    }


# -- the parent ------------------------------------------------------------------------------------------


def _held_runs(url: str, control: Any, arn: str, count: int) -> list[str]:
    """``count`` new runs of ``arn``, held RUNNING (started from 8 threads)."""
    control.configure_transitions(mode="call")
    control.hold(workflow_arn=arn)
    return _start_runs(url, arn, count, threads=8)


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    from airflow_provider_mwaas.emulator import EmulatorServer

    plan = [("upstream", n) for n in args.upstream_n] + [("ours", n) for n in args.n]
    plan += [("ours-frozen", n) for n in args.frozen_n]
    plan += [("worker", args.worker_n)] if args.worker_n else []
    results = []
    with EmulatorServer(transitions="call") as server, tempfile.TemporaryDirectory() as home:
        assert server.url is not None
        env = _child_env(server.url, home)
        for design, n in plan:
            arn = server.control.create_workflow(name=f"scale-{design}-{n}")
            runs_file = Path(home) / "runs.json"
            runs_file.write_text(json.dumps(_held_runs(server.url, server.control, arn, n)))
            command = [sys.executable, __file__, "--child", design, server.url, arn, str(runs_file)]
            command += ["--delay", str(args.delay), "--window", str(args.window), "--groups", str(args.groups)]
            command += ["--failed", str(args.failed)]
            child_env = dict(env, AIRFLOW__MWAAS__TRIGGERER_GC_FREEZE=str(design == "ours-frozen"))
            done = subprocess.run(command, env=child_env, capture_output=True, text=True, timeout=3600)
            lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
            if done.returncode != 0 or not lines:
                raise SystemExit(f"{design} N={n} failed:\n{done.stderr[-3000:]}")
            results.append(json.loads(lines[-1]))
            print(f"  measured {design:8} N={n:6}", file=sys.stderr)
    return results


def _fmt(result: dict[str, Any], key: str) -> str:
    r = result
    if key not in r and key != "latency":
        return "-"
    if key == "rss_per_wait_kib":
        return f"{r[key]:.1f} KiB"
    if key == "all_asked_seconds":
        return f"{r[key]:.1f} s (created in {r['created_seconds']:.1f} s)"
    if key == "gc_objects":
        return f"{r[key][0]} / {r[key][1]:.0f} ({r.get('frozen_objects', 0)} frozen)"
    if key == "imports_gc_ms":
        return f"{r[key]:.0f} ms"
    if key.startswith("gc_"):
        return f"{r[key][0]:.0f} ms / {r[key][1]}"
    if key.startswith("lag_"):
        p99, top = r[key]
        return f"{p99:.0f} / {top:.0f} ms"
    if key == "steady_per_interval":
        return f"{r[key]:.1f}"
    if key == "finish_worst_interval":
        return f"{r[key]} ({', '.join(f'{op} {n}' for op, n in sorted(r['finish_worst_by_operation'].items()))})"
    if key == "latency":
        return f"{r['latency_median']:.1f} / {r['latency_max']:.1f} s"
    if key == "ended":
        return f"{r[key]} of {r['n']}"
    return str(r[key])


def print_table(results: list[dict[str, Any]], args: argparse.Namespace) -> None:
    print(
        f"scale: waiter_delay D = {args.delay} s; runs released in {args.groups} groups over one interval, "
        f"{args.failed} scripted to fail; one process per column; python {sys.version.split()[0]}, "
        f"{os.cpu_count()} cores, {platform.machine()}, {platform.platform(terse=True)}"
    )
    rows = [
        ("RSS per wait", "rss_per_wait_kib", "<= 10 KiB"),
        ("GC-tracked objects: before / per wait", "gc_objects", ""),
        ("full GC of the imports, no wait yet", "imports_gc_ms", ""),
        ("every run asked after start", "all_asked_seconds", "<= 5 s"),
        ("lag p99 / max, start-up", "lag_startup", "p99 <= 50 ms"),
        ("lag p99 / max, steady", "lag_steady", "p99 <= 50 ms"),
        ("lag p99 / max, finish", "lag_finish", ""),
        ("longest GC pause / full GCs, start-up", "gc_startup", ""),
        ("longest GC pause / full GCs, steady", "gc_steady", ""),
        ("requests per interval, steady", "steady_per_interval", "<= ceil(N/100) + 10"),
        ("requests, worst finish interval", "finish_worst_interval", "<= ceil(N/100) + 10 + failed"),
        ("waits ended", "ended", "all"),
        ("detection latency median / max", "latency", "max <= D + 1 s"),
    ]
    heads = [f"{r['design']} N={r['n']}" for r in results]
    width = [max(len(h), *(len(_fmt(r, key)) for _, key, _ in rows)) for h, r in zip(heads, results, strict=True)]
    print(f"{'measure':33} " + " ".join(f"{h:>{w}}" for h, w in zip(heads, width, strict=True)) + "  goal (ours)")
    for label, key, goal in rows:
        cells = " ".join(f"{_fmt(r, key):>{w}}" for r, w in zip(results, width, strict=True))
        print(f"{label:33} {cells}  {goal}")
    ceilings = ", ".join(f"N={r['n']}: {math.ceil(r['n'] / 100)}" for r in results if r["design"] != "worker")
    print(
        f"ceil(N/100): {ceilings}; finish intervals (requests each): "
        + "; ".join(f"{r['design']} N={r['n']}: {r.get('finish_intervals', '-')}" for r in results)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="*", default=[1000, 10_000], help="waits, our trigger")
    parser.add_argument("--upstream-n", type=int, nargs="*", default=[1000], help="waits, upstream-style trigger")
    parser.add_argument(
        "--frozen-n", type=int, nargs="*", default=[], help="waits, our trigger with [mwaas] triggerer_gc_freeze"
    )
    parser.add_argument("--worker-n", type=int, default=20, help="worker-side waits (threads); 0 skips")
    parser.add_argument("--delay", type=int, default=10, help="waiter_delay in seconds (default 10)")
    parser.add_argument("--window", type=int, default=2, help="steady-state intervals measured (default 2)")
    parser.add_argument("--groups", type=int, default=5, help="release groups over one interval (default 5)")
    parser.add_argument("--failed", type=int, default=10, help="runs scripted to fail (default 10)")
    parser.add_argument("--json", action="store_true", help="also print the raw figures as JSON")
    parser.add_argument("--child", nargs=4, metavar=("DESIGN", "URL", "ARN", "RUNS_FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        import logging

        logging.disable(logging.INFO)  # no design pays for log output: a triggerer would log to files
        design, url, arn, runs_file = args.child
        run_ids = json.loads(Path(runs_file).read_text())
        if design == "worker":
            result = _worker_child(url, arn, run_ids, args)
        else:
            result = asyncio.run(_child(design, url, arn, run_ids, args))
        print(json.dumps(result), flush=True)
        return
    results = run(args)
    print_table(results, args)
    if args.json:
        print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
