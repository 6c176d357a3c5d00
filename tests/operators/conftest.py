"""Fixtures shared by the workflow deploy tests: S3 and MWAA Serverless clients of the emulator, a bucket."""

from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest


@pytest.fixture
def s3(emulator: Any) -> Any:
    return boto3.client("s3", endpoint_url=emulator.url, region_name="us-east-1")


@pytest.fixture
def mwaas(emulator: Any) -> Any:
    return boto3.client("mwaa-serverless", endpoint_url=emulator.url, region_name="us-east-1")


@pytest.fixture
def bucket(s3: Any) -> str:
    """A fresh versioned bucket: every PutObject leaves a version, so uploads can be counted."""
    name = f"defs-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name
