"""Which override-parameter values are registered with Airflow's secrets masker.

A string is masked when a key above it, at any depth, looks sensitive by Airflow's own rule (the
masker's ``should_hide_value_for_key``: ``password``, ``secret``, ``token``, ``api_key``... and the names
in ``[core] sensitive_var_conn_names``) or is one of the keys the user names (``sensitive_override_keys``,
matched exactly). Under such a key every string leaf of a nested dict or list is masked. Every other value
stays readable: masking ``{{ ds }}`` or a workflow ARN would turn each occurrence in every log into ``***``.
Input that is not a dict (or a string holding a JSON object) masks nothing: its error redacts it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from airflow_provider_mwaas.errors import InvalidParameterError
from airflow_provider_mwaas.version_compat import mask_secret, should_hide_value_for_key

SENSITIVE_KEYS_FIELD = "sensitive_override_keys"
_ALLOWED = "a list of override-parameter key names (non-empty strings), or a string holding a JSON array of them"


def key_looks_sensitive(key: Any) -> bool:
    """Whether Airflow would hide the value of ``key`` (a Variable name, a connection extra key...)."""
    return isinstance(key, str) and should_hide_value_for_key(key)


def check_sensitive_override_keys(value: Any) -> frozenset[str]:
    """Return the user-named sensitive keys, or raise naming the field, the value and what is allowed.

    :param value: ``None``, an iterable of key names, or (rendered from a template) a JSON array string.
    """
    if value is None:
        return frozenset()
    keys = value
    if isinstance(value, str):
        try:
            keys = json.loads(value)
        except ValueError:
            keys = None
        if not isinstance(keys, list):
            raise InvalidParameterError(
                SENSITIVE_KEYS_FIELD, value, f"{_ALLOWED}; got a string (wrap one key in a list)"
            )
    if isinstance(keys, (Mapping, bytes)) or not isinstance(keys, Iterable):
        raise InvalidParameterError(SENSITIVE_KEYS_FIELD, value, f"{_ALLOWED}; got {type(keys).__name__}")
    keys = list(keys)
    bad = [key for key in keys if not isinstance(key, str) or not key]
    if bad:
        raise InvalidParameterError(SENSITIVE_KEYS_FIELD, value, f"{_ALLOWED}; not a key name: {bad[0]!r}")
    return frozenset(keys)


def sensitive_values(override_parameters: Any, sensitive_keys: Iterable[str] = ()) -> list[str]:
    """The strings of ``override_parameters`` to mask: every string leaf under a sensitive key.

    :param override_parameters: a dict, or a string holding a JSON object (anything else: none).
    :param sensitive_keys: key names the user wants masked on top of Airflow's rule.
    """
    if isinstance(override_parameters, str):
        try:
            override_parameters = json.loads(override_parameters)
        except ValueError:
            return []
    if not isinstance(override_parameters, Mapping):
        return []
    named = frozenset(sensitive_keys)
    return _leaves(override_parameters, lambda key: key in named or key_looks_sensitive(key), hidden=False)


def _leaves(value: Any, is_sensitive: Callable[[Any], bool], *, hidden: bool) -> list[str]:
    if isinstance(value, str):
        return [value] if hidden else []
    if isinstance(value, Mapping):
        return [leaf for k, v in value.items() for leaf in _leaves(v, is_sensitive, hidden=hidden or is_sensitive(k))]
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in _leaves(item, is_sensitive, hidden=hidden)]
    return []


def mask_override_parameters(override_parameters: Any, sensitive_keys: Iterable[str] = ()) -> None:
    """Register :func:`sensitive_values` with Airflow's secrets masker (task process and supervisor).

    Each string is registered without a name: Airflow registers a named value only when the name itself
    looks sensitive, which a nested key under ``api_token`` or a user-named key does not. Airflow skips
    strings shorter than ``[logging] min_length_masked_secret`` (5).
    """
    values = sensitive_values(override_parameters, sensitive_keys)
    if not values:
        return
    for value in values:
        mask_secret(value)
