"""The moto internals the emulator relies on. If one of these fails, moto moved something: re-check
``airflow_provider_mwaas/emulator/registration.py`` (and the modules named in each message) before
widening the pinned range ``moto[server]>=5.2.5,<5.3``."""

from __future__ import annotations

import importlib
import inspect
import re

import moto
import pytest
from packaging.version import Version

PINNED = (Version("5.2.5"), Version("5.3"))


def test_moto_version_is_in_the_pinned_range() -> None:
    version = Version(moto.__version__)
    assert PINNED[0] <= version < PINNED[1], (
        f"moto {version} is outside the range the emulator was checked against ({PINNED[0]} <= v < "
        f"{PINNED[1]}); run this module and update pyproject's emulator extra deliberately."
    )


def test_backend_url_patterns_is_a_list_of_service_and_regex() -> None:
    from moto import backend_index

    patterns = backend_index.backend_url_patterns
    assert isinstance(patterns, list), "moto.backend_index.backend_url_patterns is no longer a list"
    service, regex = patterns[0]
    assert isinstance(service, str) and isinstance(regex, re.Pattern), (
        "backend_url_patterns entries are no longer (service, compiled regex)"
    )


def test_get_backend_imports_moto_dot_name() -> None:
    from moto import backends

    source = inspect.getsource(backends._import_backend)
    assert 'importlib.import_module("moto." + module_name)' in source, (
        "moto.backends._import_backend no longer imports moto.<name>: the sys.modules alias in "
        "registration.py will not be found"
    )
    assert "_backends" in inspect.getsource(backends.get_backend)


def test_stubber_and_server_route_through_backend_url_patterns() -> None:
    from moto.core import botocore_stubber
    from moto.moto_server import werkzeug_app

    assert "backend_index.backend_url_patterns" in inspect.getsource(botocore_stubber.BotocoreStubber)
    assert "backend_index.backend_url_patterns" in inspect.getsource(werkzeug_app.DomainDispatcherApplication)
    assert 'host = f"{service}.{region}.amazonaws.com"' in inspect.getsource(
        werkzeug_app.DomainDispatcherApplication.infer_service_region_host
    ), "moto's server no longer builds <service>.<region>.amazonaws.com from the credential scope"


def test_error_lookup_special_cases_modules_named_moto() -> None:
    from moto.core import errors

    assert 'startswith("moto")' in inspect.getsource(errors.get_exception_service_model), (
        "moto changed how it maps exceptions to service models; re-check exceptions.py"
    )


@pytest.mark.parametrize(
    ("module", "names"),
    [
        ("moto.core.base_backend", ["BaseBackend", "BackendDict"]),
        ("moto.core.responses", ["BaseResponse", "ActionResult", "EmptyResult"]),
        ("moto.core.exceptions", ["ServiceException", "InvalidToken"]),
        ("moto.core.models", ["MockAWS", "botocore_stubber"]),
        ("moto.moto_api", ["state_manager"]),
        ("moto.moto_api._internal", ["mock_random"]),
        ("moto.moto_api._internal.managed_state_model", ["ManagedState"]),
        ("moto.utilities.paginator", ["paginate"]),
        ("moto.s3.models", ["s3_backends"]),
        ("moto.moto_server.werkzeug_app", ["DomainDispatcherApplication", "MotoRequestHandler", "create_backend_app"]),
    ],
)
def test_imported_names_exist(module: str, names: list[str]) -> None:
    loaded = importlib.import_module(module)
    missing = [n for n in names if not hasattr(loaded, n)]
    assert not missing, f"{module} no longer has {missing}"


def test_managed_state_internals_used_by_runs() -> None:
    from moto.moto_api._internal.managed_state_model import ManagedState

    state = ManagedState("contract::probe", [("A", "B")])
    for attribute in ("_status", "_tick", "_time_progressed", "_transitions"):
        assert hasattr(state, attribute), f"ManagedState lost {attribute} (models.WorkflowRun uses it)"
    assert state._get_next_status("A") == "B"


def test_base_response_hooks_we_override() -> None:
    from moto.core.responses import BaseResponse

    for name in ("call_action", "serialized", "_get_action", "region_regex", "setup_class"):
        assert hasattr(BaseResponse, name), f"BaseResponse.{name} is gone (responses.py overrides it)"
    assert "ServiceException" in inspect.getsource(BaseResponse.call_action)


def test_base_backend_derives_urls_module_from_models_module() -> None:
    from airflow_provider_mwaas.emulator.models import mwaaserverless_backends

    backend = mwaaserverless_backends["123456789012"]["us-east-1"]
    assert backend._url_module.__name__ == "airflow_provider_mwaas.emulator.urls"
    assert any("api\\.aws" in url for url in backend.urls)


def test_paginator_tokens_are_opaque_strings() -> None:
    from moto.utilities.paginator import paginate

    @paginate({"f": {"input_token": "next_token", "limit_key": "max_results", "unique_attribute": "k"}})
    def f(**_: object) -> list[dict[str, int]]:
        return [{"k": i} for i in range(3)]

    page, token = f(max_results=2)
    assert [p["k"] for p in page] == [0, 1] and isinstance(token, str)
    # emulator/models/shapes.page_token accepts only tokens of this form (the next item's attributes, a string)
    from airflow_provider_mwaas.emulator.models import page_token

    assert page_token(token)["uniqueAttributes"] == "2", "moto's Paginator token changed form (models/shapes.py)"


def test_eventbridge_internals_the_event_publisher_uses() -> None:
    # emulator/events.py delivers per rule with moto's own message template and rule delivery.
    from moto.events import utils
    from moto.events.models import EventsBackend, Rule

    assert isinstance(utils._BASE_EVENT_MESSAGE, dict), (
        "moto.events.utils._BASE_EVENT_MESSAGE moved (emulator/events.py)"
    )
    assert "state" in inspect.signature(Rule.__init__).parameters, "moto's Rule has no state (emulator/events.py)"
    assert callable(Rule.send_to_targets) and callable(EventsBackend.describe_event_bus), (
        "moto's Rule.send_to_targets or EventsBackend.describe_event_bus moved (emulator/events.py)"
    )
