"""Provider metadata read by Airflow's ProvidersManager (entry point ``apache_airflow_provider``)."""

from __future__ import annotations

from typing import Any

from airflow_provider_mwaas import __version__

PACKAGE_NAME = "airflow-provider-mwaas"

#: The ``mwaa_serverless`` form's standard fields (Airflow >= 3.2 reads this from provider info; older
#: releases ask the hook: ``MwaaServerlessHook.get_ui_field_behaviour``).
UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden-fields": ["host", "port", "schema"],
    "relabeling": {"login": "AWS Access Key ID", "password": "AWS Secret Access Key"},
    "placeholders": {
        "login": "empty: instance profile, environment or web identity credentials",
        "password": "empty when the Access Key ID is empty",
        "extra": '{"config_kwargs": {"retries": {"mode": "adaptive", "max_attempts": 20}}}',
    },
}


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
                "python-modules": [
                    "airflow_provider_mwaas.operators.mwaa_serverless",
                    "airflow_provider_mwaas.operators.mwaa_serverless_workflow",
                ],
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
                "python-modules": [
                    "airflow_provider_mwaas.triggers.mwaa_serverless",
                    "airflow_provider_mwaas.triggers.workflow_run_events",
                ],
            }
        ],
        "extra-links": ["airflow_provider_mwaas.links.mwaa_serverless.WorkflowRunLink"],
        "config": {
            "mwaas": {
                "description": "Amazon MWAA Serverless provider (airflow-provider-mwaas).",
                "options": {
                    "openlineage_inject_parent_info": {
                        "description": (
                            "Default of StartWorkflowRunOperator's openlineage_inject_parent_info: add the task's "
                            "OpenLineage identity (parentJobNamespace, parentJobName, parentRunId) to the run's "
                            "OverrideParameters under the key 'openlineage'. Needs the openlineage provider.\n"
                        ),
                        "version_added": "0.1.0",
                        "type": "boolean",
                        "example": None,
                        "default": "False",
                    },
                    "triggerer_gc_freeze": {
                        "description": (
                            "For triggerers holding thousands of waits: when the first wait of this provider "
                            "starts in a triggerer process, call gc.freeze() once, so that the garbage "
                            "collector's full collections skip everything the process imported (about "
                            "200,000 objects; each full collection otherwise holds the event loop about 50 ms "
                            "per 200,000). Reference cycles among those objects are then never collected. "
                            "See docs/performance.md, Sizing guide.\n"
                        ),
                        "version_added": "0.1.0",
                        "type": "boolean",
                        "example": None,
                        "default": "False",
                    },
                },
            }
        },
        "connection-types": [
            {
                "hook-class-name": "airflow_provider_mwaas.hooks.mwaa_serverless.MwaaServerlessHook",
                "connection-type": "mwaa_serverless",
                "hook-name": "Amazon MWAA Serverless",
                # Declarative form (Airflow >= 3.2): custom fields are stored in ``extra`` under these
                # plain names, which the hook maps onto the amazon provider's AWS connection extras.
                # Older releases ignore the key: the same names go in the Extra JSON (the hook's form says so).
                # Every field is optional (``["string", "null"]``): a plain "string" would block Save.
                "conn-fields": {
                    "region_name": {
                        "label": "AWS Region",
                        "description": (
                            "Region of the workflows, e.g. us-east-1. A task's region_name overrides it; "
                            "a workflow ARN in another region is refused before any request."
                        ),
                        "schema": {"type": ["string", "null"]},
                    },
                    "role_arn": {
                        "label": "Role ARN to assume",
                        "description": (
                            "Optional IAM role assumed through STS before every call, e.g. "
                            "arn:aws:iam::222222222222:role/airflow-mwaas in the workflows' account "
                            "(cross-account). Empty: use the keys above or boto3's default credential chain."
                        ),
                        "schema": {"type": ["string", "null"]},
                    },
                    "external_id": {
                        "label": "External ID",
                        "description": "The sts:ExternalId the role's trust policy requires, if it requires one.",
                        "schema": {"type": ["string", "null"]},
                    },
                    "endpoint_url": {
                        "label": "MWAA Serverless endpoint URL",
                        "description": (
                            "Only for a VPC interface endpoint or the local emulator "
                            "(e.g. http://127.0.0.1:5050). Empty: the public regional endpoint."
                        ),
                        "schema": {"type": ["string", "null"]},
                    },
                    "sts_endpoint_url": {
                        "label": "STS endpoint URL (role assumption)",
                        "description": (
                            "Where the role is assumed: an STS VPC endpoint, or the emulator's URL. "
                            "Empty: the regional STS endpoint."
                        ),
                        "schema": {"type": ["string", "null"]},
                    },
                    "s3_endpoint_url": {
                        "label": "S3 endpoint URL (workflow definitions)",
                        "description": (
                            "Where DeployWorkflowOperator reads and stores definitions: an S3 VPC endpoint, or "
                            "the emulator's URL. Empty: the regional S3 endpoint (never the MWAA Serverless one)."
                        ),
                        "schema": {"type": ["string", "null"]},
                    },
                    "aws_session_token": {
                        "label": "AWS Session Token",
                        "description": "Only with temporary keys (they expire: prefer a role to assume).",
                        "schema": {"type": ["string", "null"], "format": "password"},
                    },
                },
                "ui-field-behaviour": UI_FIELD_BEHAVIOUR,
            }
        ],
    }
