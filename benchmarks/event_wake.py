"""Event-woken waits vs polling: detection latency after a run ends, and requests per hour, side by side.

One command: ``.venv/bin/python benchmarks/event_wake.py [--n 500] [--scale-n 10000] [--delay 60]``.

It starts the emulator server (which also serves moto's SQS) in its own process. Each column is a
FRESH process (one "triggerer": one process, one event loop) running our trigger on N runs of one
workflow, held RUNNING, with ``waiter_delay`` D:

* ``polling``: the coalesced poller alone (a ListWorkflowRuns poll every D seconds);
* ``events``: the same with ``events_queue_url`` (safety-net polls every S seconds while the queue is
  readable; each event naming a watched run makes the poller look at once).

The queue is set up as a user would: ``MwaaServerlessHook.ensure_events_queue(workflow_arn)`` (an
EventBridge rule for the workflow's run-end events, in moto), and the emulator publishes each run's
events itself when the run enters a state (its event clock looks at the runs when the next state is
due, at most every 0.5 s), so the path is the service's: run ends -> EventBridge -> rule -> SQS ->
the triggerer's consumer -> one coalesced listing -> the trigger's event.

1. finish (``--n``): the runs are released in ``--groups`` groups over one interval, in ``time`` mode
   (each ends ``SECONDS_PER_STATE`` after its release; the emulator stamps ``CompletedOn``). Detection
   latency = when the trigger's event came - the run's ``CompletedOn`` (the emulator's publishing
   included). Requests until every wait ended: by operation (emulator counters) plus SQS calls (the
   consumer's count).
2. steady state (``--scale-n``): N waits, nothing ends; one window of ``--steady-window`` seconds
   measured per column (S = the window for ``events``, so one safety-net poll falls in it). Requests
   per hour are computed from what the window measured, for D and for the default S (300 s).

Prints one table. No thresholds; the figures are for docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from triggerer_density import CONN_ID, _child_env, _percentile, _start_runs  # noqa: E402

SECONDS_PER_STATE = 1.0
DEFAULT_SAFETY = 300  # DEFAULT_EVENTS_SAFETY_INTERVAL


# -- the child: one triggerer ---------------------------------------------------------------------------


def _record_queued() -> dict[str, float]:
    """Run id -> when its event reached the queue (SQS ``SentTimestamp``), read as the consumer sorts each
    batch: a probe that splits the latency into the emulator's publishing and the provider's share. It
    wraps :meth:`MessageRule.sort` and changes nothing of what it does."""
    from airflow_provider_mwaas.service.run_events import read_run_event
    from airflow_provider_mwaas.triggers.event_messages import MessageRule

    queued: dict[str, float] = {}
    sort = MessageRule.sort

    def probe(rule: MessageRule, messages: list[dict[str, Any]], *args: Any) -> Any:
        for message in messages:
            event = read_run_event(message.get("Body") or "")
            sent = (message.get("Attributes") or {}).get("SentTimestamp")
            if event is not None and event.run_id and sent:
                queued.setdefault(event.run_id, int(sent) / 1000)
        return sort(rule, messages, *args)

    MessageRule.sort = probe  # type: ignore[method-assign,assignment]
    return queued


async def _child(
    design: str, url: str, arn: str, run_ids: list[str], queue: str, args: argparse.Namespace, protocol: TextIO
) -> None:
    from airflow_provider_mwaas.emulator.control import EmulatorControl
    from airflow_provider_mwaas.triggers import coalescing, event_wake
    from airflow_provider_mwaas.triggers.mwaa_serverless import WorkflowRunCompletedTrigger

    control = EmulatorControl(endpoint_url=url)
    params: dict[str, Any] = {"waiter_delay": args.delay, "waiter_max_attempts": 10_000, "aws_conn_id": CONN_ID}
    if design == "events":
        params.update(events_queue_url=queue, events_safety_interval=args.safety)
    events: dict[str, float] = {}
    queued = _record_queued() if design == "events" else {}

    async def drive(run_id: str) -> None:
        async for _ in WorkflowRunCompletedTrigger(workflow_arn=arn, run_id=run_id, **params).run():
            events[run_id] = time.time()

    tasks = []
    for run_id in run_ids:  # as Airflow's TriggerRunner.create_triggers does: create, start, yield
        tasks.append(asyncio.ensure_future(drive(run_id)))
        await asyncio.sleep(0)
    while not coalescing.pollers() or next(iter(coalescing.pollers().values()))._fresh:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    poller = next(iter(coalescing.pollers().values()))
    while design == "events" and not (event_wake.consumers() and poller.interval == args.safety):  # noqa: ASYNC110
        await asyncio.sleep(0.05)

    consumers = list(event_wake.consumers().values())  # kept: the last wait to end removes it from the registry

    def sqs_calls() -> int:
        return sum(c.counts["calls"] for c in consumers)

    def snapshot() -> dict[str, int]:
        counts = dict(control.counters()["requests"])
        counts["SQS"] = sqs_calls()
        return counts

    before, polls_before = await asyncio.to_thread(snapshot), poller.polls
    print("READY", file=protocol, flush=True)  # the parent releases the runs now (finish), or just waits (steady)
    if args.part == "steady":
        await asyncio.sleep(args.steady_window * 1.5)  # one safety-net (or regular) poll falls in it
    else:
        await asyncio.wait(tasks, timeout=4 * args.delay + 120)
    after = await asyncio.to_thread(snapshot)
    spent = {op: after[op] - before.get(op, 0) for op in after if after[op] - before.get(op, 0)}
    polls = poller.polls - polls_before
    messages = {k: sum(c.counts[k] for c in consumers) for k in ("messages", "used", "ignored", "released", "stale")}
    print(
        json.dumps(
            {
                "design": design,
                "events": events,
                "spent": spent,
                "polls": polls,
                "looks": poller.looks,
                "messages": messages,
                "queued": queued,
            }
        ),
        file=protocol,
        flush=True,
    )
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


# -- the parent ------------------------------------------------------------------------------------------


def _events_queue(env: dict[str, str], arn: str) -> str:
    """``ensure_events_queue`` for ``arn`` on the benchmark's connection: the rule, the queue, the policy."""
    from airflow_provider_mwaas.hooks.mwaa_serverless import MwaaServerlessHook

    os.environ.update({k: v for k, v in env.items() if k.startswith("AIRFLOW_CONN_")})
    name = f"wake-{uuid.uuid4().hex[:10]}"
    return MwaaServerlessHook(aws_conn_id=CONN_ID).ensure_events_queue(arn, queue_name=name, rule_name=name)


def _column(server: Any, env: dict[str, str], home: str, design: str, n: int, part: str, args: Any) -> dict[str, Any]:
    control = server.control
    control.configure_transitions(mode="call")
    arn = control.create_workflow(name=f"wake-{part}-{design}-{n}")
    control.hold(workflow_arn=arn)
    run_ids = _start_runs(server.url, arn, n, threads=8)
    runs_file = Path(home) / "runs.json"
    runs_file.write_text(json.dumps(run_ids))
    queue = _events_queue(env, arn) if design == "events" else "-"
    command = [sys.executable, __file__, "--child", design, server.url, arn, str(runs_file), queue, "--part", part]
    command += ["--delay", str(args.delay), "--safety", str(args.steady_window if part == "steady" else args.safety)]
    command += ["--steady-window", str(args.steady_window)]
    # the child's log goes to a file, as a triggerer's does, and its stdout carries only READY and the
    # result: a pipe nobody reads until the end fills up and blocks the child's event loop on its next log
    # line (Airflow's structlog writes to stdout). It once showed up as 35 s of "latency".
    log_path = Path(home) / f"{part}-{design}.log"
    with open(log_path, "w") as log_file:
        child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=log_file, text=True)
        assert child.stdout is not None
        for line in child.stdout:
            if line.startswith("READY"):
                break
        else:
            raise SystemExit(f"{design} N={n} failed:\n{log_path.read_text()[-3000:]}")
        if part == "finish":
            control.configure_transitions(mode="time", seconds_per_state=SECONDS_PER_STATE)
            chunks = [run_ids[g :: args.groups] for g in range(args.groups)]
            for g, chunk in enumerate(chunks):
                control.release(run_ids=chunk)
                if g < args.groups - 1:
                    time.sleep(args.delay / args.groups)
            out, _ = child.communicate(timeout=4 * args.delay + 300)
        else:
            out, _ = child.communicate(timeout=args.steady_window + 300)
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if child.returncode != 0 or not lines:
        raise SystemExit(f"{design} N={n} failed:\n{log_path.read_text()[-3000:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    ended = [r for r in control.runs(arn) if r.get("CompletedOn")]
    completed = {r["RunId"]: datetime.fromisoformat(r["CompletedOn"]).timestamp() for r in ended}
    latencies = [at - completed[run_id] for run_id, at in result["events"].items()]
    queued = result.get("queued") or {}
    publishing = [queued[r] - completed[r] for r in queued if r in completed]
    after_queued = [at - queued[r] for r, at in result["events"].items() if r in queued]
    result.update(
        n=n,
        part=part,
        ended=len(result["events"]),
        latency_median=_percentile(latencies, 0.5),
        latency_p99=_percentile(latencies, 0.99),
        latency_max=max(latencies, default=float("nan")),
        publishing=(_percentile(publishing, 0.5), max(publishing, default=float("nan"))),
        after_queued=(_percentile(after_queued, 0.5), max(after_queued, default=float("nan"))),
    )
    print(f"  measured {part:6} {design:7} N={n:6}", file=sys.stderr)
    return result


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    from airflow_provider_mwaas.emulator import EmulatorServer

    results = []
    # the publisher's boto3 SQS client talks to the local emulator only: fake credentials, no AWS config
    os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    os.environ.update({"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull})
    os.environ.update({"AWS_EC2_METADATA_DISABLED": "true"})
    with EmulatorServer(transitions="call") as server, tempfile.TemporaryDirectory() as home:
        if args.keep_logs:
            home = tempfile.mkdtemp(prefix="event-wake-")
            print(f"  child logs in {home}", file=sys.stderr)
        env = _child_env(str(server.url), home)
        env["PYTHONPATH"] = os.pathsep.join([str(HERE.parent), env.get("PYTHONPATH", "")])
        for part, n in (("finish", args.n), ("steady", args.scale_n)):
            if n:
                for design in args.designs:
                    results.append(_column(server, env, home, design, n, part, args))
    return results


def _per_hour(result: dict[str, Any], args: argparse.Namespace) -> str:
    """Requests per hour from the steady window: pages per poll x polls per hour, + SQS calls."""
    spent, window = result["spent"], args.steady_window * 1.5
    pages = spent.get("ListWorkflowRuns", 0) / max(result["polls"], 1)
    others = {op: n for op, n in spent.items() if op not in ("ListWorkflowRuns", "SQS")}
    interval = args.delay if result["design"] == "polling" else DEFAULT_SAFETY
    sqs = spent.get("SQS", 0) * 3600 / window
    total = pages * 3600 / interval + sqs
    text = f"{total:,.0f} = {pages:.0f} pages x {3600 / interval:.0f} polls"
    return text + (f" + {sqs:.0f} SQS" if sqs else "") + _others(others)


def _others(others: dict[str, int]) -> str:
    return (" + " + ", ".join(f"{op} {n}" for op, n in sorted(others.items()))) if others else ""


def print_table(results: list[dict[str, Any]], args: argparse.Namespace) -> None:
    print(
        f"event_wake: waiter_delay D = {args.delay} s, safety interval S = {args.safety} s (finish) / "
        f"{args.steady_window} s measured, scaled to {DEFAULT_SAFETY} s (steady); one process per column; "
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores, {platform.machine()}"
    )
    for part in ("finish", "steady"):
        columns = [r for r in results if r["part"] == part]
        if not columns:
            continue
        heads = [f"{r['design']} N={r['n']}" for r in columns]
        if part == "finish":
            rows = [
                ("waits ended", lambda r: f"{r['ended']} of {r['n']}"),
                (
                    "detection latency median/p99/max",
                    lambda r: f"{r['latency_median']:.2f} / {r['latency_p99']:.2f} / {r['latency_max']:.2f} s",
                ),
                (
                    "  run end -> its event in the queue",
                    lambda r: "{:.2f} / {:.2f} s".format(*r["publishing"]) if r["design"] == "events" else "-",
                ),
                (
                    "  queue -> the trigger's event",
                    lambda r: "{:.2f} / {:.2f} s".format(*r["after_queued"]) if r["design"] == "events" else "-",
                ),
                ("requests until all ended", lambda r: _spent(r["spent"])),
                ("event-woken listings", lambda r: str(r["looks"]) if r["design"] == "events" else "-"),
                ("SQS messages", lambda r: _messages(r) if r["design"] == "events" else "-"),
            ]
            print(f"finish: {columns[0]['n']} runs released in {args.groups} groups over one interval (D)")
        else:
            rows = [
                (f"requests in {args.steady_window * 1.5:.0f} s", lambda r: f"{_spent(r['spent'])}, {r['polls']} poll"),
                ("requests per hour", lambda r: _per_hour(r, args)),
            ]
            print(
                f"steady state: {columns[0]['n']} waits, nothing ends; ceil(N/100) = {math.ceil(columns[0]['n'] / 100)}"
            )
        cells = [[fmt(r) for r in columns] for _, fmt in rows]
        width = [max(len(h), *(len(row[i]) for row in cells)) for i, h in enumerate(heads)]
        print(f"  {'measure':32} " + "  ".join(f"{h:>{w}}" for h, w in zip(heads, width, strict=True)))
        for (label, _), row in zip(rows, cells, strict=True):
            print(f"  {label:32} " + "  ".join(f"{c:>{w}}" for c, w in zip(row, width, strict=True)))


def _messages(result: dict[str, Any]) -> str:
    counts = result["messages"]
    return f"{counts['messages']} received: " + ", ".join(f"{k} {counts[k]}" for k in counts if k != "messages")


def _spent(spent: dict[str, int]) -> str:
    return f"{sum(spent.values())} ({', '.join(f'{op} {n}' for op, n in sorted(spent.items()))})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500, help="waits in the finish (latency) part; 0 skips it")
    parser.add_argument("--scale-n", type=int, default=10_000, help="waits in the steady-state part; 0 skips it")
    parser.add_argument("--delay", type=int, default=60, help="waiter_delay in seconds (default 60)")
    parser.add_argument("--safety", type=int, default=DEFAULT_SAFETY, help="events_safety_interval in the finish")
    parser.add_argument("--steady-window", type=int, default=60, help="steady-state window, seconds (default 60)")
    parser.add_argument("--groups", type=int, default=5, help="release groups over one interval (default 5)")
    parser.add_argument("--designs", nargs="+", default=["polling", "events"], help=argparse.SUPPRESS)
    parser.add_argument("--keep-logs", action="store_true", help="keep the children's logs (the path is printed)")
    parser.add_argument("--part", default="finish", help=argparse.SUPPRESS)
    parser.add_argument("--child", nargs=5, metavar=("DESIGN", "URL", "ARN", "RUNS", "QUEUE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        import logging

        logging.disable(logging.INFO)  # no design pays for log output: a triggerer would log to files
        design, url, arn, runs_file, queue = args.child
        protocol = os.fdopen(os.dup(1), "w", buffering=1)  # READY and the result only
        os.dup2(2, 1)  # whatever else writes to stdout (Airflow's structlog) goes to the log file
        sys.stdout = sys.stderr
        asyncio.run(_child(design, url, arn, json.loads(Path(runs_file).read_text()), queue, args, protocol))
        return
    print_table(run(args), args)


if __name__ == "__main__":
    main()
