"""DAG-parse cost of importing our operator vs the amazon provider's, over ``import airflow.sdk`` alone.

Each variant runs in a fresh interpreter (as a DAG-processor child would parse a file), alternating the
variants so machine noise spreads evenly; prints medians of wall time and peak RSS, and ratios to the
baseline. Then lists the modules each operator import adds over ``+ BaseOperator`` (``python -X importtime``).
Run: ``.venv/bin/python benchmarks/parse_cost.py [--runs 15] [--breakdown 12]``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

BASE = "import airflow.sdk"
WITH_BASE_OPERATOR = "import airflow.sdk\nfrom airflow.sdk import BaseOperator"
OURS = (
    f"{WITH_BASE_OPERATOR}\n"
    "from airflow_provider_mwaas.operators.mwaa_serverless import StartWorkflowRunOperator\n"
    "from airflow_provider_mwaas.sensors.mwaa_serverless import WorkflowRunSensor"
)
AMAZON = (
    f"{WITH_BASE_OPERATOR}\n"
    "from airflow.providers.amazon.aws.operators.mwaa_serverless import MwaaServerlessStartWorkflowRunOperator"
)
BASE_NAME = "import airflow.sdk"
#: what a DAG file using any operator pays: separates BaseOperator's cost from what our modules add
BASE_OPERATOR_NAME = "+ from airflow.sdk import BaseOperator"
VARIANTS: dict[str, str] = {
    BASE_NAME: BASE,
    BASE_OPERATOR_NAME: WITH_BASE_OPERATOR,
    "+ StartWorkflowRunOperator (ours)": OURS,
    "+ MwaaServerlessStartWorkflowRunOperator (amazon)": AMAZON,
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


def import_breakdown(code: str, over: str, top: int) -> list[tuple[str, int, int]]:
    """Modules ``code`` imports beyond ``over`` (``python -X importtime``): (module, self us, cumulative us).

    One cold-ish run each (after the warm-up), so microseconds are indicative; the module list is exact.
    """

    def modules(snippet: str) -> dict[str, tuple[int, int]]:
        result = subprocess.run([sys.executable, "-X", "importtime", "-c", snippet], capture_output=True, text=True)
        found: dict[str, tuple[int, int]] = {}
        for line in result.stderr.splitlines():
            parts = line.removeprefix("import time:").split("|")
            if len(parts) == 3 and parts[0].strip().isdigit():
                found[parts[2].strip()] = (int(parts[0]), int(parts[1]))
        return found

    before, after = modules(over), modules(code)
    added = [(name, own, cumulative) for name, (own, cumulative) in after.items() if name not in before]
    return sorted(added, key=lambda row: -row[1])[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs per variant (alternating)")
    parser.add_argument("--breakdown", type=int, default=12, help="modules listed per import breakdown (0: none)")
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

    base_wall, base_rss = statistics.median(walls[BASE_NAME]), statistics.median(rss[BASE_NAME])
    bo_wall, bo_rss = statistics.median(walls[BASE_OPERATOR_NAME]), statistics.median(rss[BASE_OPERATOR_NAME])
    version = sys.version.split()[0]
    print(f"parse_cost: {args.runs} alternating runs per variant, fresh interpreter each (python {version})")
    print(
        f"{'variant':50} {'wall median':>11} {'vs sdk':>7} {'vs +BaseOp':>10} {'peak RSS':>11} {'vs sdk':>10} "
        f"{'vs +BaseOp':>10}"
    )
    for name in VARIANTS:
        wall, peak = statistics.median(walls[name]), statistics.median(rss[name])
        print(
            f"{name:50} {wall * 1000:8.0f} ms {100 * (wall / base_wall - 1):+6.1f}% "
            f"{100 * (wall / bo_wall - 1):+9.1f}% "
            f"{peak:7.1f} MiB {peak - base_rss:+6.1f} MiB {peak - bo_rss:+6.1f} MiB"
        )
    if args.breakdown:
        for name, code in (("ours", OURS), ("amazon", AMAZON)):
            total = import_breakdown(code, WITH_BASE_OPERATOR, 100_000)
            rows = total[: args.breakdown]
            print(
                f"\nimports {name} adds over '+ BaseOperator': {len(total)} modules, "
                f"{sum(row[1] for row in total) / 1000:.1f} ms self time (python -X importtime), top {len(rows)}:"
            )
            for module, own, cumulative in rows:
                print(f"  {own / 1000:7.1f} ms self {cumulative / 1000:7.1f} ms cumulative  {module}")


if __name__ == "__main__":
    main()
