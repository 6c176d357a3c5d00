"""The ``mwaa_serverless`` connection type: declared for the UI, read by the hook like an ``aws`` connection."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_mwaas.get_provider_info import get_provider_info
from airflow_provider_mwaas.hooks.mwaa_serverless import MwaaServerlessHook

FORM_FIELDS = {
    "region_name",
    "role_arn",
    "external_id",
    "endpoint_url",
    "sts_endpoint_url",
    "s3_endpoint_url",
    "aws_session_token",
}


def _connection_type() -> dict[str, Any]:
    [entry] = get_provider_info()["connection-types"]
    return entry


def test_the_declaration_follows_airflows_provider_schema() -> None:
    import airflow
    import jsonschema

    schema = json.loads((Path(airflow.__file__).parent / "provider.yaml.schema.json").read_text())
    jsonschema.validate([_connection_type()], schema["properties"]["connection-types"])


def test_airflow_serves_the_form_fields_and_behaviour_from_the_declaration() -> None:
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    widgets = {
        info.field_name: info for name, info in manager.connection_form_widgets.items() if "__mwaa_serverless__" in name
    }
    behaviour = manager.field_behaviours["mwaa_serverless"]

    assert set(widgets) == FORM_FIELDS
    assert [name for name, info in widgets.items() if info.is_sensitive] == ["aws_session_token"]
    assert all(info.field["schema"]["type"] == ["string", "null"] for info in widgets.values())  # none blocks Save
    assert widgets["role_arn"].field["schema"]["title"] == "Role ARN to assume"
    assert set(behaviour["hidden_fields"]) == {"host", "port", "schema"}
    assert behaviour["relabeling"] == {"login": "AWS Access Key ID", "password": "AWS Secret Access Key"}


def test_the_hooks_form_method_is_only_the_fallback_for_airflow_before_3_2() -> None:
    # Airflow >= 3.2 reads the form from provider info and skips the (deprecated) hook methods whenever
    # the declaration has ui-field-behaviour; older releases call get_ui_field_behaviour, which says
    # where the declared fields go instead.
    assert "get_connection_form_widgets" not in MwaaServerlessHook.__dict__
    assert _connection_type()["ui-field-behaviour"]
    behaviour = MwaaServerlessHook.get_ui_field_behaviour()
    assert behaviour["hidden-fields"] == _connection_type()["ui-field-behaviour"]["hidden-fields"]
    for field in FORM_FIELDS - {"aws_session_token"}:  # the secret is typed in the Extra too, but not shown
        assert f'"{field}"' in behaviour["placeholders"]["extra"]
    assert "Airflow < 3.2" in behaviour["placeholders"]["extra"]


def _form_connection(monkeypatch: pytest.MonkeyPatch, **extra: Any) -> str:
    conn = {"conn_type": "mwaa_serverless", "login": "AKIDEXAMPLE", "password": "secret-key", "extra": extra}
    monkeypatch.setenv("AIRFLOW_CONN_MWAAS_FORM", json.dumps(conn))
    return "mwaas_form"


def test_form_fields_become_the_amazon_providers_aws_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    conn_id = _form_connection(
        monkeypatch,
        region_name="eu-west-1",
        role_arn="arn:aws:iam::222222222222:role/airflow-mwaas",
        external_id="orders-team",
        endpoint_url="https://vpce-1.airflow-serverless.eu-west-1.vpce.example.invalid",
        sts_endpoint_url="https://vpce-2.sts.eu-west-1.vpce.example.invalid",
        aws_session_token="session-token",
        config_kwargs={"retries": {"mode": "adaptive", "max_attempts": 20}},  # from the Extra JSON box
    )

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the amazon wrapper warns on a non-"aws" type: not for ours
        config = MwaaServerlessHook(aws_conn_id=conn_id).conn_config

    assert config.conn_id == conn_id
    assert config.region_name == "eu-west-1"
    assert (config.aws_access_key_id, config.aws_secret_access_key) == ("AKIDEXAMPLE", "secret-key")
    assert config.aws_session_token == "session-token"
    assert config.role_arn == "arn:aws:iam::222222222222:role/airflow-mwaas"
    assert config.assume_role_method == "assume_role"
    assert config.assume_role_kwargs == {"ExternalId": "orders-team"}
    assert config.get_service_endpoint_url("mwaa-serverless").startswith("https://vpce-1.")
    assert config.get_service_endpoint_url("sts", sts_connection_assume=True).startswith("https://vpce-2.")
    assert config.botocore_config.retries == {"mode": "adaptive", "max_attempts": 20}


def test_empty_form_fields_fall_back_to_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    conn_id = _form_connection(
        monkeypatch, region_name=None, role_arn="", external_id=None, endpoint_url="", sts_endpoint_url=None
    )

    config = MwaaServerlessHook(aws_conn_id=conn_id, region_name="ap-southeast-2").conn_config

    assert config.region_name == "ap-southeast-2"
    assert config.role_arn is None
    assert config.get_service_endpoint_url("mwaa-serverless") is None
    assert config.get_service_endpoint_url("sts", sts_connection_assume=True) is None


def test_settings_in_the_extra_json_win_over_form_fields() -> None:
    extra = MwaaServerlessHook.aws_extra_from_form(
        {
            "external_id": "from-form",
            "assume_role_kwargs": {"ExternalId": "from-json", "DurationSeconds": 900},
            "sts_endpoint_url": "http://form",
            "service_config": {"sts": {"endpoint_url": "http://json"}, "s3": {"endpoint_url": "http://s3"}},
        }
    )

    assert extra["assume_role_kwargs"] == {"ExternalId": "from-json", "DurationSeconds": 900}
    assert extra["service_config"] == {"sts": {"endpoint_url": "http://json"}, "s3": {"endpoint_url": "http://s3"}}


def test_a_form_connection_starts_and_watches_a_run(
    emulator: Any, workflow_arn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = {"conn_type": "mwaa_serverless", "login": "testing", "password": "testing"}
    conn["extra"] = {"region_name": "us-east-1", "endpoint_url": emulator.url, "role_arn": None}  # type: ignore[assignment]
    monkeypatch.setenv("AIRFLOW_CONN_MWAAS_FORM", json.dumps(conn))
    hook = MwaaServerlessHook(aws_conn_id="mwaas_form")

    run_id = hook.start_workflow_run(workflow_arn, client_token="form-connection")["RunId"]
    final = hook.wait_for_workflow_run(workflow_arn, run_id, waiter_delay=0, waiter_max_attempts=5)

    assert final["RunDetail"]["RunState"] == "SUCCESS"
    assert [run["RunId"] for run in emulator.control.runs(workflow_arn)] == [run_id]


# -- each service its own endpoint ------------------------------------------------------------------------


def test_s3_never_goes_to_the_mwaa_serverless_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    conn_id = _form_connection(
        monkeypatch,
        region_name="eu-west-1",
        endpoint_url="https://vpce-1.airflow-serverless.eu-west-1.vpce.example.invalid",
    )
    hook = MwaaServerlessHook(aws_conn_id=conn_id)

    assert hook.conn.meta.endpoint_url == "https://vpce-1.airflow-serverless.eu-west-1.vpce.example.invalid"
    assert hook.s3_client().meta.endpoint_url == "https://s3.eu-west-1.amazonaws.com"


def test_s3_has_an_endpoint_of_its_own_in_the_form(
    emulator: Any, workflow_arn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3_url = emulator.url.replace("127.0.0.1", "localhost")  # the same emulator under another name
    conn_id = _form_connection(monkeypatch, region_name="us-east-1", endpoint_url=emulator.url, s3_endpoint_url=s3_url)
    hook = MwaaServerlessHook(aws_conn_id=conn_id)

    s3 = hook.s3_client()
    assert (hook.conn.meta.endpoint_url, s3.meta.endpoint_url) == (emulator.url, s3_url)
    s3.create_bucket(Bucket="definitions")
    s3.put_object(Bucket="definitions", Key="orders.yaml", Body=b"orders: {}")
    assert s3.get_object(Bucket="definitions", Key="orders.yaml")["Body"].read() == b"orders: {}"
    assert hook.get_workflow(workflow_arn)["WorkflowArn"] == workflow_arn


def test_an_aws_connections_endpoint_url_still_applies_to_every_service(aws_conn_env: str, emulator: Any) -> None:
    hook = MwaaServerlessHook(aws_conn_id=aws_conn_env)
    assert hook.s3_client().meta.endpoint_url == hook.conn.meta.endpoint_url == emulator.url
