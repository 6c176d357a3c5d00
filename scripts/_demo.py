"""Helpers for ``scripts/demo`` (run with the project's virtualenv Python; not a public interface).

Subcommands:

- ``free-port``: print a free TCP port on 127.0.0.1.
- ``setup --url URL --seconds-per-state S --name N [--fail]``: configure the emulator's time-driven
  transitions, create a demo workflow (``--fail``: every run of it fails), print its ARN.
- ``filter``: read ``airflow dags test`` output on stdin, print only the lines that tell the story
  (operator/trigger progress, state changes, the report), shortened; keep everything in the raw log.
- ``summary --url URL --arn ARN --log FILE``: print run id, final state and the emulator's run count;
  exit 0 only when the DAG run succeeded with exactly one workflow run.
"""

from __future__ import annotations

import argparse
import re
import socket
import sys
from typing import Any

# ------------------------------------------------------------------------------------------ emulator


def _control(url: str):
    """The emulator's control client for a server at ``url`` (its own HTTP control API)."""
    from airflow_provider_mwaas.emulator import EmulatorControl

    return EmulatorControl(url)


def cmd_free_port(_: argparse.Namespace) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        print(sock.getsockname()[1])
    return 0


def cmd_setup(args: argparse.Namespace) -> int:
    control = _control(args.url)
    control.configure_transitions(mode="time", seconds_per_state=args.seconds_per_state)
    arn = control.create_workflow(name=args.name)
    if args.fail:
        control.script_outcome(
            arn,
            status="FAILED",
            error_message="Task transform failed (scripted by ./scripts/demo with DEMO_FAIL=1)",
            failed_tasks=["transform"],
            count=None,
        )
    print(arn)
    return 0


def _run_field(run: dict[str, Any], *names: str) -> Any:
    for name in names:
        if name in run:
            return run[name]
    detail = run.get("RunDetail") or run.get("RunDetailSummary") or {}
    for name in names:
        if name in detail:
            return detail[name]
    return None


# -------------------------------------------------------------------------------------- log filter

# structlog console lines: "<ts> [<level>   ] <event> [<logger>] key=value ... loc=file.py:N"
_LINE = re.compile(r"^(?P<ts>\d{4}-\d\d-\d\d[T ](?P<hms>\d\d:\d\d:\d\d))\S*\s+\[(?P<level>\w+)\s*\]\s+(?P<rest>.*)$")
_LOGGER = re.compile(r"\s+\[(?P<logger>[\w.\-]+)\]((?:\s+\S+=\S+)*)\s*$")
_KEEP_LOGGERS = ("airflow_provider_mwaas", "mwaa", "task.stdout")
_KEEP_TEXT = (
    "new_state=deferred",
    "new_state=success",
    "new_state=failed",
    "new_state=up_for_retry",
    "running trigger in line",
    "[DAG TEST] starting task_id=",
    "[DAG TEST] Trigger completed",
    "Trigger fired",
    "DagRun Finished",
)
_DROP_TEXT = ("Filling up the DagBag", "::group::", "::endgroup::")


_current_task = {"id": "?"}


def shorten(line: str) -> str | None:
    """The line to show for one raw output line, or None to hide it."""
    line = line.rstrip("\n")
    started = re.search(r"\[DAG TEST\] starting task_id=(\S+)", line)
    if started:
        _current_task["id"] = started[1]
    match = _LINE.match(line)
    if not match:
        # Continuation lines (tracebacks, multi-line messages) of a shown error; plain prints.
        stripped = line.strip()
        if stripped.startswith(("- ", "Failed task instances", "MWAA Serverless run")) or "Error" in line:
            # The last line of a multi-line message carries the record's "[logger] key=value" tail.
            return f"           {_LOGGER.sub('', stripped)}"
        return None
    level, rest = match["level"], match["rest"]
    if any(text in rest for text in _DROP_TEXT):
        return None
    logger_match = _LOGGER.search(rest)
    logger = logger_match["logger"] if logger_match else ""
    event = rest[: logger_match.start()] if logger_match else rest
    keep = (
        level in {"error", "critical"}
        or any(name in logger.lower() for name in _KEEP_LOGGERS)
        or any(text in rest for text in _KEEP_TEXT)
    )
    if not keep:
        return None
    event = event.strip()
    if "new_state=" in rest:
        state = re.search(r"new_state=(\w+)", rest)
        event = f"task {_current_task['id']} -> {state[1] if state else '?'}"
    elif "[DAG TEST] starting task_id=" in event:
        event = f"task {_current_task['id']} started"
    elif "running trigger in line" in event:
        event = "trigger running in line (what the triggerer does in a deployment)"
    elif "[DAG TEST] Trigger completed" in event:
        event = "trigger completed: resuming the task"
    elif "DagRun Finished" in event:
        fields = dict(re.findall(r"(\w+)=([^,]+)", event))
        event = f"DAG run {fields.get('run_id', '?')} finished: {fields.get('state', '?')}"
    tag = "" if level == "info" else f"{level.upper()} "
    return f"  {match['hms']}  {tag}{event}"


def cmd_filter(_: argparse.Namespace) -> int:
    for line in sys.stdin:
        shown = shorten(line)
        if shown:
            print(shown, flush=True)
    return 0


# ----------------------------------------------------------------------------------------- summary


def cmd_summary(args: argparse.Namespace) -> int:
    with open(args.log, encoding="utf-8", errors="replace") as fh:
        text = fh.read()
    finished = re.findall(r"DagRun Finished: (.*)", text)
    fields = dict(re.findall(r"(\w+)=([^,]+)", finished[-1])) if finished else {}
    dag_run_id = fields.get("run_id", "?")
    dag_state = fields.get("state", "unknown").strip()
    report = re.findall(r"MWAA Serverless run (\S+) of (\S+) finished: (\S+)", text)

    runs = _control(args.url).runs(args.arn)
    service_runs = [
        (str(_run_field(r, "RunId", "run_id")), str(_run_field(r, "RunState", "Status", "state", "status")))
        for r in runs
    ]
    ok = dag_state == "success" and len(runs) == 1

    print()
    print("=" * 72)
    print(f"  Airflow DAG run     : example_mwaa_serverless / {dag_run_id}")
    print(f"  Airflow final state : {dag_state}")
    if report:
        run_id, _, status = report[-1]
        print(f"  Workflow run        : {run_id} -> {status}")
    print(f"  Workflow            : {args.arn}")
    print(f"  Runs the emulator started for it: {len(runs)}")
    for run_id, state in service_runs:
        print(f"    - {run_id}: {state}")
    print(f"  Result: {'OK' if ok else 'FAILED'}")
    print("=" * 72)
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/_demo.py")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("free-port").set_defaults(func=cmd_free_port)
    p = sub.add_parser("setup")
    p.add_argument("--url", required=True)
    p.add_argument("--seconds-per-state", type=float, default=2.0)
    p.add_argument("--name", default="demo")
    p.add_argument("--fail", action="store_true", help="script every run of the workflow to fail")
    p.set_defaults(func=cmd_setup)
    sub.add_parser("filter").set_defaults(func=cmd_filter)
    p = sub.add_parser("summary")
    p.add_argument("--url", required=True)
    p.add_argument("--arn", required=True)
    p.add_argument("--log", required=True)
    p.set_defaults(func=cmd_summary)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
