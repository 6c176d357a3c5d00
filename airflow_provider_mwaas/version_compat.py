"""Everything that differs between the Airflow versions the provider supports (2.11 and 3.0-3.3), in one place.

The rest of the package imports Airflow's base classes, ``conf`` and exceptions from here, never from
``airflow.sdk`` (absent on Airflow 2) or a private module. The names come from
``airflow.providers.common.compat.sdk``, which picks the Task SDK path on Airflow 3 and the classic
one on Airflow 2, as the amazon provider does. The ``*_SUPPORTED`` flags name the features that need
a newer Airflow; callers degrade with a log line where a flag is false (see README, "Tested versions").
Kept free of boto3/botocore: operators import this at every DAG parse.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from airflow import __version__ as AIRFLOW_VERSION
from airflow.providers.common.compat.sdk import (
    AirflowException,
    AirflowFailException,
    AirflowNotFoundException,
    AirflowSensorTimeout,
    AirflowTaskTimeout,
    BaseOperator,
    BaseOperatorLink,
    BaseSensorOperator,
    conf,
)
from packaging.version import Version

__all__ = [
    "AIRFLOW_VERSION",
    "AIRFLOW_V_3_0_PLUS",
    "AIRFLOW_V_3_2_PLUS",
    "AIRFLOW_V_3_3_PLUS",
    "CONN_FIELDS_SUPPORTED",
    "DEFERRED_ON_KILL_SUPPORTED",
    "AirflowException",
    "AirflowFailException",
    "AirflowNotFoundException",
    "AirflowSensorTimeout",
    "AirflowTaskTimeout",
    "BaseEventTrigger",
    "BaseOperator",
    "BaseOperatorLink",
    "BaseSensorOperator",
    "asset_types",
    "conf",
    "get_xcom_value",
    "mask_secret",
    "should_hide_value_for_key",
]


def _at_least(major: int, minor: int) -> bool:
    """Whether the running Airflow (pre-releases counted as their release) is ``major.minor`` or newer."""
    return Version(Version(AIRFLOW_VERSION).base_version).release[:2] >= (major, minor)


AIRFLOW_V_3_0_PLUS = _at_least(3, 0)
AIRFLOW_V_3_2_PLUS = _at_least(3, 2)
AIRFLOW_V_3_3_PLUS = _at_least(3, 3)

if AIRFLOW_V_3_0_PLUS:  # the base of triggers that schedule DAGs through an AssetWatcher (Airflow 3 only)
    from airflow.triggers.base import BaseEventTrigger
else:  # pragma: no cover - Airflow 2 has no asset watchers; the class is then an ordinary trigger
    from airflow.triggers.base import BaseTrigger as BaseEventTrigger  # type: ignore[assignment]

#: The connection form's custom fields declared in provider info (``conn-fields``): Airflow >= 3.2.
#: Older releases refuse the key, so it is left out there and the fields go in the Extra JSON instead.
CONN_FIELDS_SUPPORTED = AIRFLOW_V_3_2_PLUS
#: ``on_kill`` of a deferred task's trigger (kill, mark failed, clear): Airflow >= 3.3. Before that, a
#: deferred task's run is not stopped when the task is killed (``stop_on_kill`` works on the worker only).
DEFERRED_ON_KILL_SUPPORTED = AIRFLOW_V_3_3_PLUS


def asset_types() -> tuple[type, ...]:
    """The outlet classes that receive an asset event's extra: ``Asset`` (Airflow 3) or ``Dataset`` (2.x)."""
    from airflow.providers.common.compat.sdk import Asset

    return (Asset,)


def get_xcom_value(ti_key: Any, key: str) -> Any:
    """An XCom value of the task instance ``ti_key`` (for operator links), on the XCom API of this Airflow."""
    from airflow.providers.common.compat.sdk import XCom

    return XCom.get_value(ti_key=ti_key, key=key)


@functools.cache
def _masker_rule() -> Callable[[str], bool]:
    import importlib

    # Airflow's rule for sensitive names has no public or common.compat path yet: the masker's own
    # function, where each release keeps it.
    for module in (
        "airflow.sdk._shared.secrets_masker",  # Airflow >= 3.1
        "airflow.sdk.execution_time.secrets_masker",  # Airflow 3.0
        "airflow.utils.log.secrets_masker",  # Airflow 2
    ):
        try:
            return importlib.import_module(module).should_hide_value_for_key  # type: ignore[no-any-return]
        except ImportError:
            continue
    raise ImportError("Airflow's secrets masker (should_hide_value_for_key) was not found")


def mask_secret(value: str) -> None:
    """Register ``value`` with Airflow's secrets masker (task process and supervisor)."""
    from airflow.providers.common.compat.sdk import mask_secret as _mask_secret

    _mask_secret(value)


def should_hide_value_for_key(key: str) -> bool:
    """Whether Airflow's secrets masker hides the value of ``key`` (``password``, ``api_key``, ...)."""
    return bool(_masker_rule()(key))
