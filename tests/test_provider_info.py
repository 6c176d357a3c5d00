"""Airflow discovers the provider through its entry point and lists what it declares."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import distribution

from packaging.utils import canonicalize_name

from airflow_provider_mwaas.get_provider_info import get_provider_info


def _airflow(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "airflow", *args], capture_output=True, text=True, env=os.environ.copy(), timeout=180
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_package_name_is_the_canonical_distribution_name() -> None:
    dist = distribution("airflow-provider-mwaas")
    assert get_provider_info()["package-name"] == canonicalize_name(dist.metadata["Name"])
    entry_points = [ep for ep in dist.entry_points if ep.group == "apache_airflow_provider"]
    assert [ep.value for ep in entry_points] == ["airflow_provider_mwaas.get_provider_info:get_provider_info"]


def test_every_module_and_class_named_in_provider_info_imports() -> None:
    import importlib

    from airflow.sdk.module_loading import import_string

    info = get_provider_info()
    for section in ("operators", "hooks", "sensors", "triggers"):
        for entry in info.get(section, []):
            for module in entry["python-modules"] if "python-modules" in entry else entry["python-module"]:
                importlib.import_module(module)
    for conn in info["connection-types"]:
        assert import_string(conn["hook-class-name"]).conn_type == conn["connection-type"]
    for link in info.get("extra-links", []):
        import_string(link)


def test_airflow_providers_get_shows_the_provider() -> None:
    out = _airflow("providers", "get", "airflow-provider-mwaas")
    assert "airflow-provider-mwaas" in out
    assert get_provider_info()["versions"][0] in out


def test_airflow_providers_hooks_lists_the_connection_type() -> None:
    out = _airflow("providers", "hooks")
    assert "mwaa_serverless" in out
    assert "airflow_provider_mwaas.hooks.mwaa_serverless.MwaaServerlessHook" in out
