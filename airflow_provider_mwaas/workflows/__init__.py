"""Working with MWAA Serverless workflow definitions before they are deployed.

``python -m airflow_provider_mwaas.workflows check FILE...`` checks definitions offline, for CI
pipelines (:mod:`airflow_provider_mwaas.deploy.definition_check`, :mod:`.__main__`).
"""

from __future__ import annotations

from airflow_provider_mwaas.deploy.definition_check import Finding, check_definition, check_file

__all__ = ["Finding", "check_definition", "check_file"]
