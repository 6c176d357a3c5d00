"""The triggers' clients parse response timestamps without dateutil: the same instants botocore gives."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from botocore.utils import parse_timestamp as botocore_parse_timestamp

from airflow_provider_mwaas.hooks.async_calls import parse_timestamp


@pytest.mark.parametrize(
    "value",
    [1764665818.770038, 0, "2026-12-02T08:56:58.770038Z", "2026-12-02T10:56:58+02:00", "Wed, 02 Dec 2026 08:56:58 GMT"],
)
def test_parse_timestamp_gives_botocores_instant_aware(value: object) -> None:
    parsed = parse_timestamp(value)
    assert parsed.tzinfo is not None
    assert parsed == botocore_parse_timestamp(value)


def test_a_naive_iso_timestamp_is_read_as_utc() -> None:
    assert parse_timestamp("2026-12-02T08:56:58") == datetime(2026, 12, 2, 8, 56, 58, tzinfo=timezone.utc)


async def test_the_async_client_parses_listing_timestamps_with_it(
    aws_conn_env: str, emulator: object, workflow_arn: str
) -> None:
    import boto3

    from airflow_provider_mwaas.hooks.mwaa_serverless import MwaaServerlessHook

    sync = boto3.client("mwaa-serverless", region_name="us-east-1", endpoint_url=emulator.url)  # type: ignore[attr-defined]
    sync.start_workflow_run(WorkflowArn=workflow_arn)
    expected = sync.list_workflow_runs(WorkflowArn=workflow_arn)["WorkflowRuns"][0]["RunDetailSummary"]["CreatedOn"]
    hook = MwaaServerlessHook(aws_conn_id=aws_conn_env)
    async with hook.async_client() as client:
        page = await hook.list_workflow_runs_page_async(client, workflow_arn)
    created = page["WorkflowRuns"][0]["RunDetailSummary"]["CreatedOn"]
    assert created == expected and created.tzinfo is timezone.utc
