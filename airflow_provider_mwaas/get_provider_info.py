"""Provider metadata read by Airflow's ProvidersManager (entry point ``apache_airflow_provider``)."""

from __future__ import annotations

from typing import Any

from airflow_provider_mwaas import __version__

PACKAGE_NAME = "airflow-provider-mwaas"


def get_provider_info() -> dict[str, Any]:
    """Return the provider's info; ``package-name`` must equal the distribution's canonical name."""
    return {
        "package-name": PACKAGE_NAME,
        "name": "Amazon MWAA Serverless",
        "description": (
            "Start, watch and stop Amazon MWAA Serverless workflow runs from any Airflow: "
            "DAG-run idempotency, deferrable waiting, diagnostics and a local emulator."
        ),
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "Amazon MWAA Serverless",
                "external-doc-url": "https://docs.aws.amazon.com/mwaa/latest/mwaa-serverless-userguide/",
                "tags": ["aws"],
            }
        ],
        "operators": [
            {
                "integration-name": "Amazon MWAA Serverless",
                "python-modules": ["airflow_provider_mwaas.operators.mwaa_serverless"],
            }
        ],
        "hooks": [
            {
                "integration-name": "Amazon MWAA Serverless",
                "python-modules": ["airflow_provider_mwaas.hooks.mwaa_serverless"],
            }
        ],
        "sensors": [
            {
                "integration-name": "Amazon MWAA Serverless",
                "python-modules": ["airflow_provider_mwaas.sensors.mwaa_serverless"],
            }
        ],
        "triggers": [
            {
                "integration-name": "Amazon MWAA Serverless",
                "python-modules": ["airflow_provider_mwaas.triggers.mwaa_serverless"],
            }
        ],
        "extra-links": ["airflow_provider_mwaas.links.mwaa_serverless.WorkflowRunLink"],
        "connection-types": [
            {
                "hook-class-name": "airflow_provider_mwaas.hooks.mwaa_serverless.MwaaServerlessHook",
                "connection-type": "mwaa_serverless",
            }
        ],
    }
