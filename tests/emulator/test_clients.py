"""Other clients against the server: aiobotocore (async) and the AWS CLI v1 (own virtualenv)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session

AWS_CLI = Path(__file__).resolve().parents[2] / ".venv-awscli" / "bin" / "aws"


async def test_aiobotocore_runs_a_workflow(server: Any, remote: Any) -> None:
    arn = remote.create_workflow("async-demo")
    remote.script_outcome(arn, status="FAILED", error_message="async boom")
    session = get_session()
    async with session.create_client(
        "mwaa-serverless",
        region_name="us-east-1",
        endpoint_url=server.url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=AioConfig(retries={"total_max_attempts": 1}),
    ) as client:
        run_id = (await client.start_workflow_run(WorkflowArn=arn, ClientToken="a1"))["RunId"]
        states = [
            (await client.get_workflow_run(WorkflowArn=arn, RunId=run_id))["RunDetail"]["RunState"] for _ in range(3)
        ]
        assert states == ["QUEUED", "RUNNING", "FAILED"]
        listed = await client.list_workflow_runs(WorkflowArn=arn, MaxResults=1)
        assert listed["WorkflowRuns"][0]["RunId"] == run_id
        remote.set_faults(throttle=1.0, retry_after_seconds=2)
        with pytest.raises(client.exceptions.ThrottlingException):
            await client.get_workflow(WorkflowArn=arn)


@pytest.mark.cli
@pytest.mark.skipif(not AWS_CLI.exists(), reason=f"{AWS_CLI} is absent (the CI creates .venv-awscli)")
def test_aws_cli_starts_and_reads_a_run(server: Any, remote: Any) -> None:
    arn = remote.create_workflow("cli-demo")
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    env.pop("AWS_PROFILE", None)

    def aws(*args: str) -> dict[str, Any]:
        done = subprocess.run(
            [str(AWS_CLI), "--endpoint-url", server.url, "--output", "json", "mwaa-serverless", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return dict(json.loads(done.stdout))

    started = aws("start-workflow-run", "--workflow-arn", arn, "--client-token", "cli-1")
    assert aws("start-workflow-run", "--workflow-arn", arn, "--client-token", "cli-1")["RunId"] == started["RunId"]
    detail = aws("get-workflow-run", "--workflow-arn", arn, "--run-id", started["RunId"])["RunDetail"]
    assert detail["RunState"] == "QUEUED"
    refused = subprocess.run(
        [
            str(AWS_CLI),
            "--endpoint-url",
            server.url,
            "mwaa-serverless",
            "start-workflow-run",
            "--workflow-arn",
            "not-an-arn",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode != 0 and "ValidationException" in refused.stderr
    assert remote.counters()["runs_started"] == 1
