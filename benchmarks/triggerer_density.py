"""Triggerer density: N concurrent waits in one process, upstream design vs ours, against the emulator.

One command: ``.venv/bin/python benchmarks/triggerer_density.py [--n 100 500 1000] [--delay 10]``.

It starts the emulator server in its own process, creates a workflow whose runs are held RUNNING and
starts max(N) runs. Then, for every N and every design, a FRESH Python process (one "triggerer": one
process, one event loop) runs N triggers waiting on N different runs of that workflow and measures:

* RSS per wait: (RSS with all N waiting - RSS before the first trigger) / N, after a warm-up client was
  built and closed so both designs start with botocore's model files loaded;
* time to bring all N up: from starting the N trigger tasks until every trigger holds a client and waits
  ("up"), and until every run's status has been read once ("all polled");
* event-loop lag: a task sleeps 50 ms in a loop; lag = how late it wakes (max and p99), during start-up
  (until all N are polled) and during the steady state;
* requests per interval: the emulator's request counters over the steady-state window / intervals;
* CPU: process CPU time (user+sys) during start-up, and as % of one core in the steady state.

Designs: ``upstream`` (benchmarks/upstream_style.py: hook + session + client per trigger, GetWorkflowRun
per run per interval), ``shared`` (our trigger with ``coalesce=False``: one shared client, GetWorkflowRun
per run), ``ours`` (our trigger as shipped: shared client + one coalesced ListWorkflowRuns poll).
Prints one table. No thresholds; the figures are for docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CONN_ID = "mwaas_bench"
DESIGNS = ("upstream", "shared", "ours")


def _rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


# -- the child: one triggerer ---------------------------------------------------------------------------


async def _child(design: str, url: str, arn: str, run_ids: list[str], delay: int, window: int) -> dict[str, Any]:
    from airflow_provider_mwaas.emulator.control import EmulatorControl
    from airflow_provider_mwaas.triggers import coalescing
    from airflow_provider_mwaas.triggers.mwaa_serverless import WorkflowRunCompletedTrigger

    sys.path.insert(0, str(HERE))
    from upstream_style import UpstreamStyleTrigger

    control = EmulatorControl(endpoint_url=url)
    first_poll: dict[str, float] = {}
    ready: dict[str, float] = {}

    def polled(run_id: str) -> None:
        first_poll.setdefault(run_id, time.perf_counter())

    def now_ready(run_id: str) -> None:
        ready.setdefault(run_id, time.perf_counter())

    original_deliver = coalescing.Watcher.deliver

    def deliver(self: coalescing.Watcher, result: coalescing.PollResult) -> None:
        polled(self.run_id)
        original_deliver(self, result)

    coalescing.Watcher.deliver = deliver  # type: ignore[method-assign]
    from airflow_provider_mwaas.hooks.mwaa_serverless import MwaaServerlessHook

    hook = MwaaServerlessHook(aws_conn_id=CONN_ID)
    original_poll = WorkflowRunCompletedTrigger._on_state

    async def on_state(self: Any, shared: Any, seen: Any, state: str, run: Any) -> Any:
        polled(self.run_id)
        return await original_poll(self, shared, seen, state, run)

    WorkflowRunCompletedTrigger._on_state = on_state  # type: ignore[method-assign]
    # "up" = the trigger holds a client and waits (its first request may still be queued)
    for name in ("_wait_coalesced", "_wait_polling"):
        original = getattr(WorkflowRunCompletedTrigger, name)

        async def waiting(self: Any, shared: Any, seen: Any, _original: Any = original) -> Any:
            now_ready(self.run_id)
            return await _original(self, shared, seen)

        setattr(WorkflowRunCompletedTrigger, name, waiting)

    # warm-up: botocore model files loaded and one client built and closed, in both designs alike
    async with await hook.get_async_conn() as client:
        await client.get_workflow_run(WorkflowArn=arn, RunId=run_ids[0])
    gc.collect()
    rss_before = _rss_mib()

    lags: list[tuple[float, float]] = []
    stop = asyncio.Event()

    async def heartbeat() -> None:
        while not stop.is_set():
            began = time.perf_counter()
            await asyncio.sleep(0.05)
            lags.append((began, time.perf_counter() - began - 0.05))

    beat = asyncio.ensure_future(heartbeat())
    await asyncio.sleep(0.5)
    params: dict[str, Any] = {"waiter_delay": delay, "waiter_max_attempts": 10_000, "aws_conn_id": CONN_ID}

    def make(run_id: str) -> Any:
        if design == "upstream":
            return UpstreamStyleTrigger(workflow_arn=arn, run_id=run_id, on_ready=now_ready, on_poll=polled, **params)
        return WorkflowRunCompletedTrigger(workflow_arn=arn, run_id=run_id, coalesce=design == "ours", **params)

    async def drive(trigger: Any) -> None:
        async for _ in trigger.run():
            return

    cpu_start, started = _cpu(), time.perf_counter()
    tasks = []
    for run_id in run_ids:  # as Airflow's TriggerRunner.create_triggers does: create, start, yield
        tasks.append(asyncio.ensure_future(drive(make(run_id))))
        await asyncio.sleep(0)
    while len(first_poll) < len(run_ids):
        await asyncio.sleep(0.01)
        if any(task.done() for task in tasks):
            raise SystemExit(f"a trigger ended early: {[t.exception() for t in tasks if t.done()][:1]}")
    up = time.perf_counter()
    cpu_up = _cpu() - cpu_start
    all_ready = max(ready.values())

    await asyncio.sleep(delay)  # let the first full interval settle
    gc.collect()
    counters_before = (await asyncio.to_thread(control.counters))["requests"]
    steady_start, cpu_steady_start = time.perf_counter(), _cpu()
    await asyncio.sleep(delay * window)
    steady_end, cpu_steady = time.perf_counter(), _cpu() - cpu_steady_start
    counters_after = (await asyncio.to_thread(control.counters))["requests"]
    rss_after = _rss_mib()

    stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await beat

    requests = {op: counters_after.get(op, 0) - counters_before.get(op, 0) for op in counters_after}
    requests = {op: n for op, n in requests.items() if n}
    startup = [lag for at, lag in lags if started <= at <= up]
    steady = [lag for at, lag in lags if steady_start <= at <= steady_end]
    return {
        "design": design,
        "n": len(run_ids),
        "rss_before_mib": rss_before,
        "rss_after_mib": rss_after,
        "rss_per_wait_kib": (rss_after - rss_before) * 1024 / len(run_ids),
        "ready_seconds": all_ready - started,
        "up_seconds": up - started,
        "startup_lag_max_ms": 1000 * max(startup, default=0.0),
        "startup_lag_p99_ms": 1000 * _percentile(startup, 0.99),
        "steady_lag_max_ms": 1000 * max(steady, default=0.0),
        "steady_lag_p99_ms": 1000 * _percentile(steady, 0.99),
        "requests_per_interval": sum(requests.values()) / window,
        "requests_by_operation": {op: n / window for op, n in requests.items()},
        "cpu_startup_seconds": cpu_up,
        "cpu_steady_percent": 100 * cpu_steady / (steady_end - steady_start),
    }


# -- the parent: emulator, runs, one child per (N, design), the table ------------------------------------


def _child_env(url: str, home: str) -> dict[str, str]:
    conn = {
        "conn_type": "aws",
        "login": "testing",
        "password": "testing",
        "extra": {"region_name": "us-east-1", "endpoint_url": url},
    }
    env = dict(os.environ)
    env.update(
        {
            f"AIRFLOW_CONN_{CONN_ID.upper()}": json.dumps(conn),
            "AIRFLOW_HOME": home,
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }
    )
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        env.pop(name, None)
    return env


def _start_runs(url: str, arn: str, count: int, threads: int = 1) -> list[str]:
    """``count`` new runs of ``arn`` (from ``threads`` threads), advanced to RUNNING (held) by three listings."""
    from concurrent.futures import ThreadPoolExecutor

    import boto3

    client = boto3.client(
        "mwaa-serverless",
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with ThreadPoolExecutor(threads) as pool:
        run_ids = list(pool.map(lambda _: str(client.start_workflow_run(WorkflowArn=arn)["RunId"]), range(count)))
    # in "call" mode each listing advances every listed run one state: STARTING -> QUEUED -> RUNNING (held),
    # so no design meets a run's one-off state changes inside its measurement window
    for _ in range(3):
        for _page in client.get_paginator("list_workflow_runs").paginate(WorkflowArn=arn):
            pass
    return run_ids


def run_benchmark(ns: list[int], designs: list[str], delay: int, window: int) -> list[dict[str, Any]]:
    """Start the emulator, the runs, and one child per (N, design); return the children's figures."""
    from airflow_provider_mwaas.emulator import EmulatorServer

    results = []
    with EmulatorServer(transitions="call") as server, tempfile.TemporaryDirectory() as home:
        assert server.url is not None
        control = server.control
        arn = control.create_workflow(name="density")
        control.hold(workflow_arn=arn)  # every run stays RUNNING: a steady state to measure
        run_ids = _start_runs(server.url, arn, max(ns))
        runs_file = Path(home) / "runs.json"
        runs_file.write_text(json.dumps(run_ids))
        env = _child_env(server.url, home)
        for n in ns:
            for design in designs:
                command = [sys.executable, __file__, "--child", design, server.url, arn, str(runs_file)]
                command += ["--n", str(n), "--delay", str(delay), "--window", str(window)]
                done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1800)
                lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
                if done.returncode != 0 or not lines:
                    raise SystemExit(f"{design} N={n} failed:\n{done.stderr[-3000:]}")
                result = json.loads(lines[-1])
                results.append(result)
                print(f"  measured {design:8} N={n:5}: up in {result['ready_seconds']:.2f}s", file=sys.stderr)
    return results


def print_table(results: list[dict[str, Any]], delay: int, window: int) -> None:
    print(
        f"triggerer_density: one process, one event loop per design and N; waiter_delay {delay}s, steady state "
        f"{window} intervals; emulator server in its own process (python {sys.version.split()[0]}, "
        f"{os.cpu_count()} cores)"
    )
    header = (
        f"{'design':9} {'N':>5} {'RSS/wait':>10} {'RSS total':>10} {'up in':>7} {'all polled':>10} "
        f"{'lag up max/p99':>16} "
        f"{'lag steady max/p99':>19} {'req/interval':>13} {'ceil(N/100)':>11} {'CPU up':>7} {'CPU steady':>10}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r['design']:9} {r['n']:5} {r['rss_per_wait_kib']:7.1f} KiB {r['rss_after_mib']:6.0f} MiB "
            f"{r['ready_seconds']:6.2f}s {r['up_seconds']:9.2f}s "
            f"{r['startup_lag_max_ms']:7.0f}/{r['startup_lag_p99_ms']:<4.0f} ms "
            f"{r['steady_lag_max_ms']:9.0f}/{r['steady_lag_p99_ms']:<4.0f} ms {r['requests_per_interval']:13.1f} "
            f"{math.ceil(r['n'] / 100):11d} {r['cpu_startup_seconds']:6.2f}s {r['cpu_steady_percent']:9.1f}%"
        )
    print("\nrequests per interval by operation:")
    for r in results:
        ops = ", ".join(f"{op} {n:g}" for op, n in sorted(r["requests_by_operation"].items()))
        print(f"  {r['design']:9} N={r['n']:5}: {ops or 'none'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[100, 500, 1000], help="concurrent waits")
    parser.add_argument("--designs", nargs="+", choices=DESIGNS, default=list(DESIGNS))
    parser.add_argument("--delay", type=int, default=10, help="waiter_delay in seconds (default 10)")
    parser.add_argument("--window", type=int, default=2, help="steady-state intervals measured (default 2)")
    parser.add_argument("--json", action="store_true", help="also print the raw figures as JSON")
    parser.add_argument("--child", nargs=4, metavar=("DESIGN", "URL", "ARN", "RUNS_FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        import logging

        logging.disable(logging.INFO)  # neither design pays for log output: both would log to files
        design, url, arn, runs_file = args.child
        run_ids = json.loads(Path(runs_file).read_text())[: args.n[0]]
        print(json.dumps(asyncio.run(_child(design, url, arn, run_ids, args.delay, args.window))), flush=True)
        return
    results = run_benchmark(args.n, args.designs, args.delay, args.window)
    print_table(results, args.delay, args.window)
    if args.json:
        print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
