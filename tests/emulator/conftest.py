"""Fixtures for the emulator tests: fake credentials, the in-process mock, one shared server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from airflow_provider_mwaas.emulator import EmulatorControl, EmulatorServer, mock_mwaa_serverless

REGION = "us-east-1"
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
}


@pytest.fixture(autouse=True)
def fake_aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing here may reach AWS: fake credentials, no profile."""
    for key, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def make_client(endpoint_url: str | None = None, validate: bool = True, retries: int = 1, **kwargs: Any) -> Any:
    """An ``mwaa-serverless`` client; ``validate=False`` turns botocore's client-side checks off."""
    config = Config(
        parameter_validation=validate,
        retries={"mode": "standard", "total_max_attempts": retries},
        connect_timeout=5,
        read_timeout=20,
    )
    return boto3.client("mwaa-serverless", region_name=REGION, endpoint_url=endpoint_url, config=config, **kwargs)


def error_of(call: Callable[[], Any]) -> dict[str, Any]:
    """The parsed error response of a call that must fail with a ``ClientError``."""
    with pytest.raises(ClientError) as info:
        call()
    return info.value.response


@pytest.fixture
def emulator() -> Iterator[EmulatorControl]:
    """The in-process emulator (call-driven transitions) and its control."""
    with mock_mwaa_serverless():
        yield EmulatorControl()


@pytest.fixture
def client(emulator: EmulatorControl) -> Any:
    """A client for the in-process emulator (no endpoint_url: the real host is intercepted)."""
    return make_client()


@pytest.fixture(scope="session")
def server() -> Iterator[EmulatorServer]:
    """One emulator server for the session (reset before each test that uses it)."""
    with EmulatorServer(host="127.0.0.1", port=0, transitions="call") as running:
        yield running


@pytest.fixture
def remote(server: EmulatorServer) -> EmulatorControl:
    """The shared server's control, reset and call-driven."""
    control = server.control
    control.reset()
    control.configure_transitions("call")
    return control


@pytest.fixture
def remote_client(server: EmulatorServer, remote: EmulatorControl) -> Any:
    """A client for the shared server."""
    return make_client(server.url)
