"""The server: the ready line, clean exit on signals, other moto services on the same endpoint."""

from __future__ import annotations

import signal
import subprocess
import sys
from typing import Any

import boto3
import pytest

from airflow_provider_mwaas.emulator import EmulatorServer
from airflow_provider_mwaas.emulator.process import EmulatorStartError
from airflow_provider_mwaas.emulator.server import parse_args

from .conftest import make_client

READY = r"MWAA Serverless emulator listening on http://127\.0\.0\.1:\d+"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_cli_prints_its_url_and_exits_cleanly_on_signal(sig: signal.Signals) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "airflow_provider_mwaas.emulator",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--transitions",
            "time",
            "--seconds-per-state",
            "0.5",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().rstrip("\n")
        import re

        assert re.fullmatch(READY, line), line
        url = line.rsplit(" ", 1)[-1]
        assert make_client(url).list_workflows()["Workflows"] == []
        process.send_signal(sig)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()
        process.stderr.close()


def test_cli_defaults_are_time_driven_two_seconds() -> None:
    args = parse_args([])
    assert (args.host, args.port, args.transitions, args.seconds_per_state) == ("127.0.0.1", 0, "time", 2.0)


def test_same_endpoint_serves_s3_iam_and_sts(server: EmulatorServer, remote: Any) -> None:
    session = boto3.Session(region_name="us-east-1")
    s3 = session.client("s3", endpoint_url=server.url)
    s3.create_bucket(Bucket="user-defs")
    s3.put_object(Bucket="user-defs", Key="wf.yaml", Body=b"tasks:\n  only: {operator: x.EmptyOperator}\n")
    iam = session.client("iam", endpoint_url=server.url)
    role = iam.create_role(RoleName="wf-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    assert session.client("sts", endpoint_url=server.url).get_caller_identity()["Account"] == "123456789012"
    client = make_client(server.url)
    arn = client.create_workflow(
        Name="from-user-s3", RoleArn=role, DefinitionS3Location={"Bucket": "user-defs", "ObjectKey": "wf.yaml"}
    )["WorkflowArn"]
    run_id = client.start_workflow_run(WorkflowArn=arn)["RunId"]
    tis = client.list_task_instances(WorkflowArn=arn, RunId=run_id)["TaskInstances"]
    assert [t["TaskInstanceId"] for t in tis] == ["only"]
    iam.delete_role(RoleName="wf-role")


def test_server_start_stop_without_with() -> None:
    server = EmulatorServer(transitions="time", seconds_per_state=1.0)
    server.start()
    try:
        assert (
            server.pid
            and server.url
            and server.control.transitions() == {"mode": "time", "seconds_per_state": 1.0, "calls_per_state": None}
        )
        with pytest.raises(RuntimeError, match="already started"):
            server.start()
    finally:
        assert server.stop() == 0
    assert server.url is None and server.pid is None
    with pytest.raises(RuntimeError, match="not started"):
        _ = server.control


def test_server_that_cannot_start_reports_its_stderr() -> None:
    with pytest.raises(EmulatorStartError, match=r"usage|invalid choice"):
        EmulatorServer(transitions="bogus").start()
