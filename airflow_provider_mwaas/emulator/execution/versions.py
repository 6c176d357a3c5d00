"""Versions of what executes workflows, read from package metadata (no import of Airflow itself)."""

from __future__ import annotations

from importlib import metadata

#: The dag-factory releases the executing mode is tested with (pyproject's ``emulator-execute`` extra).
DAG_FACTORY_RANGE = ">=1.1,<1.2"


def airflow_version() -> str:
    """The installed Apache Airflow (core) version."""
    for dist in ("apache-airflow-core", "apache-airflow"):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    raise RuntimeError("Executing workflows needs Apache Airflow installed beside the emulator")


def dag_factory_version() -> str:
    """The installed dag-factory version.

    :raises RuntimeError: dag-factory is not installed (``pip install 'airflow-provider-mwaas[emulator-execute]'``).
    """
    try:
        return metadata.version("dag-factory")
    except metadata.PackageNotFoundError:
        raise RuntimeError(
            "Executing workflows needs dag-factory: pip install 'airflow-provider-mwaas[emulator-execute]'"
        ) from None
