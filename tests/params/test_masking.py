"""The masking decision per key: Airflow's sensitive-name rule plus the keys a user names; nothing else."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_mwaas.errors import InvalidParameterError
from airflow_provider_mwaas.params.masking import (
    check_sensitive_override_keys,
    key_looks_sensitive,
    mask_override_parameters,
    sensitive_values,
)

ARN = "arn:aws:airflow-serverless:us-east-1:123456789012:workflow/orders-abcdefghij"


@pytest.mark.parametrize("key", ["api_token", "password", "db_password", "client_secret", "API_KEY", "access-token"])
def test_a_value_under_a_key_airflow_considers_sensitive_is_masked(key: str) -> None:
    assert key_looks_sensitive(key)
    assert sensitive_values({key: "hidden-value", "run_date": "2025-11-18"}) == ["hidden-value"]


@pytest.mark.parametrize("key", ["run_date", "workflow", "target", "note", "region"])
def test_a_value_under_any_other_key_stays_readable(key: str) -> None:
    assert not key_looks_sensitive(key)
    assert sensitive_values({key: "readable-value", "nested": {key: ["readable", ARN]}}) == []


def test_every_string_leaf_under_a_sensitive_key_is_masked_whatever_its_depth() -> None:
    parameters = {"api_token": {"a": "leaf-one", "b": ["leaf-two", {"c": "leaf-three"}], "n": 5, "f": True}}
    assert sorted(sensitive_values(parameters)) == ["leaf-one", "leaf-three", "leaf-two"]


def test_a_sensitive_key_nested_under_a_readable_one_is_masked() -> None:
    parameters = {"config": {"db": {"password": "nested-pass"}, "host": "db.local"}, "items": [{"secret": "in-list"}]}
    assert sorted(sensitive_values(parameters)) == ["in-list", "nested-pass"]


def test_user_named_keys_match_exactly_at_any_depth() -> None:
    parameters = {"customer": "top-level", "customers": "not-named", "outer": {"customer": {"id": "deep"}}}
    assert sorted(sensitive_values(parameters, {"customer"})) == ["deep", "top-level"]


def test_a_json_object_string_is_decided_like_the_dict_it_holds() -> None:
    assert sensitive_values('{"api_token": "from-json", "run_date": "2025-11-18"}') == ["from-json"]


@pytest.mark.parametrize("value", [None, "", "{not json", "[1, 2]", "orders", ["api_token"], 42])
def test_input_that_is_not_an_object_masks_nothing(value: Any) -> None:
    assert sensitive_values(value, {"api_token"}) == []


@pytest.fixture
def sensitive_var_conn_names(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``[core] sensitive_var_conn_names = billing_ref``, applied to the masker as Airflow does at start."""
    from airflow import settings

    monkeypatch.setenv("AIRFLOW__CORE__SENSITIVE_VAR_CONN_NAMES", "billing_ref")
    settings._configure_secrets_masker()
    yield
    monkeypatch.delenv("AIRFLOW__CORE__SENSITIVE_VAR_CONN_NAMES")
    settings._configure_secrets_masker()


@pytest.mark.usefixtures("sensitive_var_conn_names")
def test_sensitive_var_conn_names_extend_the_rule() -> None:
    assert sensitive_values({"billing_ref": "configured-name", "run_date": "2025-11-18"}) == ["configured-name"]


def test_only_the_sensitive_values_reach_the_secrets_masker() -> None:
    from airflow.providers.common.compat.sdk import redact

    mask_override_parameters(
        {"api_token": "MaskerToken-1a2b3c", "customer": ["MaskerNamed-4d5e6f"], "run_date": "2031-07-09", "arn": ARN},
        {"customer"},
    )

    line = f"token MaskerToken-1a2b3c named MaskerNamed-4d5e6f run scheduled__2031-07-09T00:00:00+00:00 on {ARN}"
    assert redact(line) == f"token *** named *** run scheduled__2031-07-09T00:00:00+00:00 on {ARN}"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, frozenset()),
        (["customer", "billing"], {"customer", "billing"}),
        (("customer",), {"customer"}),
        ({"customer"}, {"customer"}),
        ('["customer", "billing"]', {"customer", "billing"}),  # rendered from a template
        ("[]", frozenset()),
    ],
)
def test_sensitive_override_keys_accepts_a_list_of_names_or_its_json(value: Any, expected: set[str]) -> None:
    assert check_sensitive_override_keys(value) == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("customer", "got a string (wrap one key in a list)"),
        ('{"customer": 1}', "got a string"),
        ("not json", "got a string"),
        (42, "got int"),
        ({"customer": "x"}, "got dict"),
        (b"customer", "got bytes"),
        (["customer", ""], "not a key name: ''"),
        (["customer", 3], "not a key name: 3"),
        ('["customer", null]', "not a key name: None"),
    ],
)
def test_sensitive_override_keys_refuses_anything_else_naming_field_value_and_what_is_allowed(
    value: Any, reason: str
) -> None:
    with pytest.raises(InvalidParameterError) as raised:
        check_sensitive_override_keys(value)

    message = str(raised.value)
    assert raised.value.field == "sensitive_override_keys"
    assert message.startswith(f"Invalid sensitive_override_keys: {value!r}. Allowed: a list of override-parameter")
    assert reason in message
