"""Helpers for ``scripts/demo --workflow`` (run with the project's virtualenv Python; not a public interface).

- ``setup --url URL``: create the definitions and data buckets in the emulator's S3 and upload two raw
  sales CSV files; print ``<definitions bucket> <data bucket>``.
- ``summary --url URL --data-bucket B``: print the executed workflow run (state, task instances, time),
  the report it wrote to S3 and the task logs' location; exit 0 only when the run succeeded and wrote it.
"""

from __future__ import annotations

import argparse
import json
import sys

import boto3

DEFINITIONS, DATA = "mwaas-demo-definitions", "mwaas-demo-sales"
RAW = {
    "raw/2025-11-17-eu.csv": "region,amount\neu,120.50\neu,79.50\n",
    "raw/2025-11-17-us.csv": "region,amount\nus,310.00\nus,15.25\napac,42.00\n",
}


def _client(service: str, url: str):
    # The demo's fake credentials (scripts/demo exports them): only the emulator accepts them.
    return boto3.client(service, endpoint_url=url, region_name="us-east-1")


def cmd_setup(args: argparse.Namespace) -> int:
    s3 = _client("s3", args.url)
    for bucket in (DEFINITIONS, DATA):
        s3.create_bucket(Bucket=bucket)
    for key, body in RAW.items():
        s3.put_object(Bucket=DATA, Key=key, Body=body.encode())
    print(DEFINITIONS, DATA)
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    mwaas, s3 = _client("mwaa-serverless", args.url), _client("s3", args.url)
    workflow = next((w for w in mwaas.list_workflows()["Workflows"] if w["Name"] == "sales_report"), None)
    runs = mwaas.list_workflow_runs(WorkflowArn=workflow["WorkflowArn"])["WorkflowRuns"] if workflow else []
    print()
    print("=" * 72)
    if not runs:
        print("  No run of the sales_report workflow was started")
        print("=" * 72)
        return 1
    arn, run_id = workflow["WorkflowArn"], runs[0]["RunId"]
    detail = mwaas.get_workflow_run(WorkflowArn=arn, RunId=run_id)["RunDetail"]
    print(f"  Workflow            : {arn}")
    print(f"  Executed run        : {run_id} -> {detail['RunState']}")
    if detail.get("CompletedOn"):
        total = (detail["CompletedOn"] - detail["CreatedAt"]).total_seconds()
        print(f"  StartWorkflowRun -> {detail['RunState']}: {total:.1f} s (Duration {detail.get('Duration')} s)")
    if detail.get("ErrorMessage"):
        print(f"  ErrorMessage        : {detail['ErrorMessage']}")
    for ti in mwaas.list_task_instances(WorkflowArn=arn, RunId=run_id)["TaskInstances"]:
        name, operator, status = ti["TaskInstanceId"], ti["OperatorName"], ti["Status"]
        print(f"    - {name:<16} {operator:<22} {status:<8} {ti.get('DurationInSeconds')} s")
    reports = s3.list_objects_v2(Bucket=args.data_bucket, Prefix="reports/").get("Contents", [])
    for obj in reports:
        body = json.loads(s3.get_object(Bucket=args.data_bucket, Key=obj["Key"])["Body"].read())
        print(f"  s3://{args.data_bucket}/{obj['Key']}: {json.dumps(body['totals'])}")
    print("  Task logs           : CloudWatch Logs group /aws/mwaa-serverless/sales_report (emulator)")
    ok = detail["RunState"] == "SUCCESS" and bool(reports)
    print(f"  Result: {'OK' if ok else 'FAILED'}")
    print("=" * 72)
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/_demo_workflow.py")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("setup")
    p.add_argument("--url", required=True)
    p.set_defaults(func=cmd_setup)
    p = sub.add_parser("summary")
    p.add_argument("--url", required=True)
    p.add_argument("--data-bucket", default=DATA)
    p.set_defaults(func=cmd_summary)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
