"""DAG-parse cost of importing our operator vs the amazon provider's, over ``import airflow.sdk`` alone.

Each variant runs in a fresh interpreter (as a DAG-processor child would parse a file), alternating the
variants so machine noise spreads evenly; prints medians of wall time and peak RSS, and ratios to the
baseline. Run: ``.venv/bin/python benchmarks/parse_cost.py [--runs 15]``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

VARIANTS: dict[str, str] = {
    "import airflow.sdk": "import airflow.sdk",
    "+ StartWorkflowRunOperator (ours)": (
        "import airflow.sdk\nfrom airflow_provider_mwaas.operators.mwaa_serverless import StartWorkflowRunOperator\n"
        "from airflow_provider_mwaas.sensors.mwaa_serverless import WorkflowRunSensor"
    ),
    "+ MwaaServerlessStartWorkflowRunOperator (amazon)": (
        "import airflow.sdk\nfrom airflow.providers.amazon.aws.operators.mwaa_serverless import "
        "MwaaServerlessStartWorkflowRunOperator"
    ),
}


def measure_exact(code: str) -> tuple[float, float]:
    """Run ``code`` in a fresh interpreter; return (wall seconds, its own peak RSS in MiB, via wait4)."""
    import os

    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code])
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"variant failed: {code!r}")
    return wall, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs per variant (alternating)")
    args = parser.parse_args()

    for code in VARIANTS.values():  # warm the OS page cache and .pyc files once
        measure_exact(code)
    walls: dict[str, list[float]] = {name: [] for name in VARIANTS}
    rss: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for _ in range(args.runs):
        for name, code in VARIANTS.items():
            wall, peak = measure_exact(code)
            walls[name].append(wall)
            rss[name].append(peak)

    base_wall = statistics.median(walls["import airflow.sdk"])
    base_rss = statistics.median(rss["import airflow.sdk"])
    print(
        f"parse_cost: {args.runs} alternating runs per variant, fresh interpreter each (python {sys.version.split()[0]})"
    )
    print(f"{'variant':52} {'wall median':>12} {'vs base':>9} {'peak RSS':>10} {'vs base':>10}")
    for name in VARIANTS:
        wall = statistics.median(walls[name])
        peak = statistics.median(rss[name])
        print(
            f"{name:52} {wall * 1000:9.0f} ms {100 * (wall / base_wall - 1):+8.1f}% "
            f"{peak:7.1f} MiB {peak - base_rss:+7.1f} MiB"
        )


if __name__ == "__main__":
    main()
