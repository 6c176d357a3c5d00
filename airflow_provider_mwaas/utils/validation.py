"""Deprecated path: moved to :mod:`airflow_provider_mwaas.params.validation`."""

from airflow_provider_mwaas.utils._moved import reexport

reexport(__name__, "airflow_provider_mwaas.params.validation")
