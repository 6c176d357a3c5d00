"""Deprecated path: moved to :mod:`airflow_provider_mwaas.service.model` and :mod:`~.service.constraints`."""

from airflow_provider_mwaas.utils._moved import reexport

reexport(__name__, "airflow_provider_mwaas.service.model", "airflow_provider_mwaas.service.constraints")
