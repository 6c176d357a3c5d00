"""Registration with moto holds, and a missing registration fails loudly instead of reaching AWS."""

from __future__ import annotations

import sys
from typing import Any

import moto.backend_index as backend_index
import pytest
from moto import mock_aws
from moto.backends import get_backend
from moto.core.botocore_stubber import BotocoreStubber

from airflow_provider_mwaas.emulator import EmulatorNotRegisteredError, mock_mwaa_serverless, models, registration

from .conftest import make_client


def test_moto_finds_the_backend_by_service_name() -> None:
    assert get_backend("mwaaserverless") is models.mwaaserverless_backends
    assert get_backend("mwaa-serverless") is models.mwaaserverless_backends  # type: ignore[call-overload]
    assert sys.modules["moto.mwaaserverless"] is models
    assert registration.is_registered()


def test_both_hosts_route_to_the_emulator() -> None:
    from moto.backends import get_service_from_url

    for url in ("https://airflow-serverless.us-east-1.api.aws/", "http://airflow-serverless.eu-west-1.amazonaws.com/"):
        assert get_service_from_url(url) == registration.MOTO_SERVICE


def test_register_is_idempotent() -> None:
    before = list(backend_index.backend_url_patterns)
    registration.register()
    assert backend_index.backend_url_patterns == before


def test_plain_mock_aws_serves_the_service_too() -> None:
    with mock_aws():
        assert make_client().list_workflows()["Workflows"] == []


def _unregistered(monkeypatch: pytest.MonkeyPatch) -> None:
    kept = [(s, p) for s, p in backend_index.backend_url_patterns if s != registration.MOTO_SERVICE]
    monkeypatch.setattr(backend_index, "backend_url_patterns", kept)


def test_mock_refuses_to_start_without_registration(monkeypatch: pytest.MonkeyPatch) -> None:
    _unregistered(monkeypatch)
    with pytest.raises(EmulatorNotRegisteredError, match="not registered"), mock_mwaa_serverless():
        pass


def test_lost_registration_never_reaches_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[str] = []
    monkeypatch.setattr(
        "botocore.httpsession.URLLib3Session.send", lambda self, request: sent.append(request.url)
    )  # would be the network
    with mock_mwaa_serverless():
        client = make_client()
        _unregistered(monkeypatch)
        with pytest.raises(EmulatorNotRegisteredError, match="Refusing to send"):
            client.list_workflows()
    assert sent == []


def test_guard_is_inert_outside_mocks_and_for_other_urls() -> None:
    class Request:
        url = "https://airflow-serverless.us-east-1.api.aws/"

    assert registration.network_guard(Request()) is None  # no mock active: real use is untouched
    with mock_mwaa_serverless():
        Request.url = "http://127.0.0.1:5000/"
        assert registration.network_guard(Request()) is None


def test_stubber_is_the_one_moto_registers(emulator: Any) -> None:
    from moto.core.models import botocore_stubber

    assert isinstance(botocore_stubber, BotocoreStubber) and botocore_stubber.enabled
