"""Listing pages: what one ListWorkflowRuns page costs from the emulator at N runs of one workflow.

One command: ``.venv/bin/python benchmarks/listing_page.py [--runs 1000,10000] [--page newest,walk]
[--client plain,provider]``.

It starts the emulator server in its own process (``call`` transitions, as benchmarks/scale.py does) and,
for each N, a workflow with N runs held RUNNING (three walks of the listing move them there, so no
measured page changes a run's state). A real boto3 client in this process then times, over HTTP, with
each ``--client``: ``plain`` (boto3 as it comes: botocore parses each timestamp with dateutil, about 9 ms of
a 100-run page here) and ``provider`` (the same client with the provider's timestamp parser, as our hook
and triggers use it: the page time is then mostly the emulator's):

- ``newest``: the first page (100 runs, no ``NextToken``) ``--samples`` times: what a poller watching the
  newest runs pays per interval;
- ``walk``: every page from the newest to the oldest (``NextToken`` to ``NextToken``), ``--walks``
  times: what a poller that must see every run pays (scale.py's "every run asked about").

Prints p50 / p90 / max per page and the walk's total (median of the walks), with N and the machine. No
thresholds; the figures are for docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from triggerer_density import _percentile, _start_runs  # noqa: E402

PAGE_SIZE = 100  # the model's maximum MaxResults: what a poller asks for
PAGES = ("newest", "walk")
CLIENTS = ("plain", "provider")


def _client(url: str, kind: str) -> Any:
    import boto3
    import botocore.session
    from botocore.config import Config

    session = botocore.session.get_session()
    if kind == "provider":
        from airflow_provider_mwaas.hooks.async_calls import parse_timestamp

        session.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=parse_timestamp)
    config = Config(retries={"mode": "standard", "total_max_attempts": 1}, read_timeout=60)
    return boto3.Session(botocore_session=session).client(
        "mwaa-serverless",
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=config,
    )


def _timed_page(client: Any, arn: str, token: str | None) -> tuple[float, str | None, int]:
    """(seconds, the next token, runs listed) of one page."""
    kwargs = {"NextToken": token} if token else {}
    began = time.perf_counter()
    page = client.list_workflow_runs(WorkflowArn=arn, MaxResults=PAGE_SIZE, **kwargs)
    return time.perf_counter() - began, page.get("NextToken"), len(page["WorkflowRuns"])


def measure_newest(client: Any, arn: str, samples: int) -> dict[str, Any]:
    """The newest page, ``samples`` times."""
    times = [_timed_page(client, arn, None)[0] for _ in range(samples)]
    return {"pages": times}


def measure_walk(client: Any, arn: str, n: int, walks: int) -> dict[str, Any]:
    """Every page, newest to oldest, ``walks`` times; each walk must list all ``n`` runs."""
    pages: list[float] = []
    totals: list[float] = []
    for _ in range(walks):
        token: str | None = None
        listed, began = 0, time.perf_counter()
        while True:
            seconds, token, count = _timed_page(client, arn, token)
            pages.append(seconds)
            listed += count
            if not token:
                break
        totals.append(time.perf_counter() - began)
        if listed != n:
            raise SystemExit(f"a walk listed {listed} runs, not {n}")
    return {"pages": pages, "walk_seconds": statistics.median(totals), "walks": walks}


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    from airflow_provider_mwaas.emulator import EmulatorServer

    results = []
    with EmulatorServer(transitions="call") as server:
        assert server.url is not None
        control, clients = server.control, {kind: _client(server.url, kind) for kind in args.client}
        for n in args.runs:
            arn = control.create_workflow(name=f"listing-{n}")
            control.hold(workflow_arn=arn)
            began = time.perf_counter()
            _start_runs(server.url, arn, n, threads=8)  # three walks: every run RUNNING (held)
            print(f"  {n} runs started and listed 3 times in {time.perf_counter() - began:.1f} s", file=sys.stderr)
            for kind, client in clients.items():
                for page in args.page:
                    if page == "newest":
                        figures = measure_newest(client, arn, args.samples)
                    else:
                        figures = measure_walk(client, arn, n, args.walks)
                    results.append({"n": n, "client": kind, "page": page, **figures})
                    print(f"  measured {kind:8} {page:6} N={n:6}", file=sys.stderr)
    return results


def print_table(results: list[dict[str, Any]], args: argparse.Namespace) -> None:
    print(
        f"listing_page: ListWorkflowRuns, MaxResults {PAGE_SIZE}, runs held RUNNING, emulator server in its own "
        f"process ('call' transitions), boto3 over HTTP; newest x {args.samples}, walk x {args.walks}; "
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores, {platform.machine()}, "
        f"{platform.platform(terse=True)}"
    )
    print(f"{'N':>7} {'client':9} {'page':7} {'pages':>6} {'p50 ms':>8} {'p90 ms':>8} {'max ms':>8} {'walk s':>8}")
    for r in results:
        ms = [1000 * s for s in r["pages"]]
        walk = f"{r['walk_seconds']:.2f}" if "walk_seconds" in r else "-"
        p50, p90, top = _percentile(ms, 0.5), _percentile(ms, 0.9), max(ms)
        print(f"{r['n']:>7} {r['client']:9} {r['page']:7} {len(ms):>6} {p50:>8.1f} {p90:>8.1f} {top:>8.1f} {walk:>8}")


def _list_of(kind: Any, choices: tuple[str, ...] = ()) -> Any:
    def parse(text: str) -> list[Any]:
        values = [kind(part) for part in text.split(",") if part.strip()]
        if choices and any(v not in choices for v in values):
            raise argparse.ArgumentTypeError(f"choose from {', '.join(choices)}")
        return values

    return parse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=_list_of(int), default=[1000, 10_000], help="N, comma-separated")
    parser.add_argument(
        "--page", type=_list_of(str, PAGES), default=list(PAGES), help="newest, walk, or both (comma-separated)"
    )
    parser.add_argument(
        "--client", type=_list_of(str, CLIENTS), default=list(CLIENTS), help="plain, provider, or both (comma list)"
    )
    parser.add_argument("--samples", type=int, default=100, help="newest pages timed per N (default 100)")
    parser.add_argument("--walks", type=int, default=3, help="walks of every page per N (default 3)")
    args = parser.parse_args()
    print_table(run(args), args)


if __name__ == "__main__":
    main()
