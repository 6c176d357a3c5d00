"""The OpenLineage facets of a remote workflow run (imported only when the openlineage listener asks).

Two run facets, built with the openlineage client's own classes:

``mwaaServerlessWorkflowRun`` (:class:`MwaaServerlessWorkflowRunFacet`)
    the workflow (ARN, name, version, region, account), the run (``runId``, ``state``) and the *keys*
    of the override parameters sent (never their values).
``externalQuery`` (the standard ``ExternalQueryRunFacet``)
    ``externalQueryId`` = the RunId, ``source`` = ``airflow-serverless://<region>/<account>/<workflow>``,
    the way the BigQuery and Athena operators name the job they started.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.common.compat.openlineage.facet import ExternalQueryRunFacet, RunFacet
from airflow.providers.openlineage.extractors import OperatorLineage
from attrs import define

from airflow_provider_mwaas.links.mwaa_serverless import WORKFLOW_ARN
from airflow_provider_mwaas.params.masking import as_mapping

#: Run facet names in the emitted events.
WORKFLOW_RUN_FACET = "mwaaServerlessWorkflowRun"
EXTERNAL_QUERY_FACET = "externalQuery"
#: The URI scheme of ``ExternalQueryRunFacet.source`` (the service's ARN namespace).
SOURCE_SCHEME = "airflow-serverless"
SCHEMA_URL = (
    "https://raw.githubusercontent.com/airflow-provider-mwaas/airflow-provider-mwaas/main/"
    "airflow_provider_mwaas/openlineage/MwaaServerlessWorkflowRunFacet.json"
)


@define
class MwaaServerlessWorkflowRunFacet(RunFacet):
    """The MWAA Serverless workflow run an Airflow task started or watched (camelCase: OpenLineage fields).

    :param workflowArn: the workflow's ARN.
    :param workflowName: the workflow's id in its ARN (``<name>-<10 characters>``).
    :param region: the AWS region of the ARN.
    :param accountId: the AWS account of the ARN.
    :param workflowVersion: the version asked for (``None``: the latest).
    :param runId: the RunId (``None`` before the run is started, or when it could not be).
    :param state: the run's last known state (``STARTING`` ... ``SUCCESS``, ``FAILED``...).
    :param overrideParameterKeys: the keys of the OverrideParameters sent (values are never included).
    """

    workflowArn: str
    workflowName: str | None = None
    region: str | None = None
    accountId: str | None = None
    workflowVersion: str | None = None
    runId: str | None = None
    state: str | None = None
    overrideParameterKeys: list[str] | None = None

    @staticmethod
    def _get_schema() -> str:
        return SCHEMA_URL


def external_query_source(workflow_arn: str) -> str | None:
    """``airflow-serverless://<region>/<account>/<workflow>`` of a workflow ARN (``None``: not one)."""
    match = WORKFLOW_ARN.match(workflow_arn or "")
    if not match:
        return None
    return f"{SOURCE_SCHEME}://{match['region']}/{match['account']}/{match['name']}"


def parameter_keys(override_parameters: Any) -> list[str]:
    """The sorted top-level keys of override parameters (a dict or a JSON object string); ``[]`` otherwise."""
    return sorted(str(key) for key in as_mapping(override_parameters) or {})


def operator_lineage(
    *,
    workflow_arn: str,
    workflow_version: str | None,
    run_id: str | None,
    state: str | None,
    override_parameter_keys: list[str] | None,
) -> OperatorLineage:
    """The ``OperatorLineage`` (run facets only) of one task's view of a workflow run."""
    arn = workflow_arn if isinstance(workflow_arn, str) else str(workflow_arn)
    match = WORKFLOW_ARN.match(arn)
    facets: dict[str, RunFacet] = {
        WORKFLOW_RUN_FACET: MwaaServerlessWorkflowRunFacet(
            workflowArn=arn,
            workflowName=match["name"] if match else None,
            region=match["region"] if match else None,
            accountId=match["account"] if match else None,
            workflowVersion=workflow_version if isinstance(workflow_version, str) else None,
            runId=run_id,
            state=state,
            overrideParameterKeys=override_parameter_keys,
        )
    }
    source = external_query_source(arn)
    if run_id and source:
        facets[EXTERNAL_QUERY_FACET] = ExternalQueryRunFacet(externalQueryId=run_id, source=source)
    return OperatorLineage(run_facets=facets)
