"""Steps of the sales_report workflow: read the raw sales CSV files, write one summary per day.

Runs inside the workflow (MWAA Serverless, or the local emulator's executing mode), where the amazon
provider's S3Hook reaches S3 through the workflow's own role (locally: the emulator's moto S3).
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from typing import Any


def totals_by_region(rows: list[dict[str, str]]) -> dict[str, float]:
    """Sum of ``amount`` per ``region``, regions sorted."""
    totals: dict[str, float] = defaultdict(float)
    for row in rows:
        totals[row["region"]] += float(row["amount"])
    return {region: round(totals[region], 2) for region in sorted(totals)}


def summarise(bucket: str, report_date: str, **context: Any) -> dict[str, Any]:
    """Read every ``raw/*.csv`` of ``bucket``, write ``reports/<report_date>/summary.json``."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    hook = S3Hook()
    rows: list[dict[str, str]] = []
    keys = [k for k in hook.list_keys(bucket_name=bucket, prefix="raw/") or [] if k.endswith(".csv")]
    for key in keys:
        rows.extend(csv.DictReader(io.StringIO(hook.read_key(key, bucket_name=bucket))))
    summary = {"report_date": report_date, "files": len(keys), "rows": len(rows), "totals": totals_by_region(rows)}
    hook.load_string(
        json.dumps(summary, indent=2), f"reports/{report_date}/summary.json", bucket_name=bucket, replace=True
    )
    print(f"Summarised {len(rows)} rows from {len(keys)} files: {summary['totals']}")
    return summary
