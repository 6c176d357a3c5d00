"""Deprecated path: moved to :mod:`airflow_provider_mwaas.service.workflow_definition`."""

from airflow_provider_mwaas.utils._moved import reexport

reexport(__name__, "airflow_provider_mwaas.service.workflow_definition")
