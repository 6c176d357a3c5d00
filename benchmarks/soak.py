"""The fault soak, full size: ``.venv/bin/python benchmarks/soak.py`` (about 500 workflow runs).

Starts the MWAA Serverless emulator (30 % throttling, 10 % HTTP 500, 3 % dropped connections, 5 %
latency spikes of 1.5 s on every API operation) and a real Airflow stack (api-server, scheduler with
LocalExecutor, triggerer, dag-processor), triggers several DAG runs of mapped tasks, kills task
processes right after StartWorkflowRun returned, restarts the triggerer while tasks are deferred, and
prints: runs requested, runs the emulator started, duplicates, lost, wrong final task states and the
retries used. Exit status 0 only if every failure count is 0. The logic is ``tests/soak/harness.py``;
``tests/soak/test_soak.py`` runs a reduced version in CI. Options: ``--help``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.soak.harness import SoakConfig, print_report, report_json, run_soak


def main(argv: list[str] | None = None) -> int:
    defaults = SoakConfig()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dag-runs", type=int, default=defaults.dag_runs)
    parser.add_argument("--deferred", type=int, default=defaults.deferred, help="map indexes per DAG run")
    parser.add_argument("--worker-wait", type=int, default=defaults.worker_wait, help="map indexes per DAG run")
    parser.add_argument("--crash", type=int, default=defaults.crash, help="crashing tasks per DAG run")
    parser.add_argument("--failing", type=int, default=defaults.failing, help="failing-workflow tasks per DAG run")
    parser.add_argument("--parallelism", type=int, default=defaults.parallelism)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--keep", action="store_true", help="keep the Airflow home (logs, DB) for inspection")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON to this file")
    args = parser.parse_args(argv)
    config = SoakConfig(
        dag_runs=args.dag_runs,
        deferred=args.deferred,
        worker_wait=args.worker_wait,
        crash=args.crash,
        failing=args.failing,
        parallelism=args.parallelism,
        seed=args.seed,
        keep_home=args.keep,
    )
    report = run_soak(config)
    print_report(report)
    if args.json:
        args.json.write_text(report_json(report))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
