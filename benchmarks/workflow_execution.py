"""How long a three-task workflow takes end to end in the emulator's executing mode.

Starts ``python -m airflow_provider_mwaas.emulator --execute``, deploys a three-task workflow (an S3
write, a PythonOperator from the workflow's Code package, a BashOperator), then starts it ``--runs``
times one after the other and prints, per run and as medians: StartWorkflowRun -> RUNNING (process
start, Airflow import, dag-factory build), RUNNING -> SUCCESS (the three tasks) and the total. The same
workflow in scripted mode (no execution, 0.1 s per state) is printed beside it as the floor of the
emulator's own overhead. Run under the shared lock: ``flock /tmp/mwaas-heavy.lock .venv/bin/python
benchmarks/workflow_execution.py [--runs 3]``.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
import zipfile
from typing import Any

import boto3

from airflow_provider_mwaas.emulator import EmulatorServer

DEFINITION = """\
bench:
  dag_id: bench
  schedule: null
  tasks:
    write_object:
      operator: airflow.providers.amazon.aws.operators.s3.S3CreateObjectOperator
      s3_bucket: bench-data
      s3_key: out/{{ run_id }}.txt
      data: "hello"
    transform:
      operator: airflow.providers.standard.operators.python.PythonOperator
      python_callable: bench_code.steps.transform
      dependencies: [write_object]
    report:
      operator: airflow.providers.standard.operators.bash.BashOperator
      bash_command: "echo done"
      dependencies: [transform]
"""


def _code() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("bench_code/__init__.py", "")
        archive.writestr("bench_code/steps.py", "def transform(**context):\n    return 42\n")
    return buffer.getvalue()


def _clients(url: str) -> tuple[Any, Any]:
    kwargs = {"endpoint_url": url, "region_name": "us-east-1", "aws_access_key_id": "x", "aws_secret_access_key": "x"}
    return boto3.client("mwaa-serverless", **kwargs), boto3.client("s3", **kwargs)


def _deploy(url: str) -> str:
    mwaas, s3 = _clients(url)
    s3.create_bucket(Bucket="bench-data")
    s3.put_object(Bucket="bench-data", Key="wf.yaml", Body=DEFINITION.encode())
    s3.put_object(Bucket="bench-data", Key="code.zip", Body=_code())
    return str(
        mwaas.create_workflow(
            Name="bench",
            DefinitionS3Location={"Bucket": "bench-data", "ObjectKey": "wf.yaml"},
            Code={"S3Location": {"Bucket": "bench-data", "ObjectKey": "code.zip"}},
            RoleArn="arn:aws:iam::123456789012:role/bench",
        )["WorkflowArn"]
    )


def one_run(url: str, arn: str) -> tuple[float, float, float]:
    """(to RUNNING, RUNNING -> SUCCESS, total) in seconds, polled every 0.1 s."""
    mwaas, _ = _clients(url)
    started = time.monotonic()
    run_id = mwaas.start_workflow_run(WorkflowArn=arn)["RunId"]
    running_at = None
    while True:
        state = mwaas.get_workflow_run(WorkflowArn=arn, RunId=run_id)["RunDetail"]["RunState"]
        now = time.monotonic()
        if state == "RUNNING" and running_at is None:
            running_at = now
        if state in ("SUCCESS", "FAILED", "STOPPED", "TIMEOUT"):
            if state != "SUCCESS":
                raise SystemExit(f"run {run_id} ended {state}")
            running_at = running_at or now
            return running_at - started, now - running_at, now - started
        time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    results = {}
    for mode, extra in (("executing", ("--execute",)), ("scripted (0.1 s/state)", ("--seconds-per-state", "0.1"))):
        with EmulatorServer(transitions="time", extra_args=extra) as server:
            arn = _deploy(str(server.url))
            results[mode] = [one_run(str(server.url), arn) for _ in range(args.runs)]
    print(f"\nThree-task workflow, StartWorkflowRun to SUCCESS ({args.runs} runs each, seconds)")
    print(f"{'mode':<26}{'to RUNNING':>12}{'tasks':>10}{'total':>10}   per run (total)")
    for mode, runs in results.items():
        medians = [statistics.median(r[i] for r in runs) for i in range(3)]
        per_run = ", ".join(f"{r[2]:.1f}" for r in runs)
        print(f"{mode:<26}{medians[0]:>12.1f}{medians[1]:>10.1f}{medians[2]:>10.1f}   {per_run}")


if __name__ == "__main__":
    main()
