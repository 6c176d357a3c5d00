"""Operator extra link to a workflow run in the AWS console.

Partition and region come from the workflow ARN itself (``arn:<partition>:airflow-serverless:<region>:``),
so the link is right even when the connection's region differs. Kept free of boto3/botocore and of the
amazon provider's modules: operators import this at every DAG parse.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from airflow_provider_mwaas.version_compat import BaseOperatorLink, get_xcom_value

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import BaseOperator, Context, TaskInstanceKey

#: Console domain per AWS partition (the partitions the service's ARN pattern admits that have a
#: public console; the isolated ``aws-iso*`` partitions get no link).
CONSOLE_DOMAINS: dict[str, str] = {
    "aws": "console.aws.amazon.com",
    "aws-cn": "console.amazonaws.cn",
    "aws-us-gov": "console.amazonaws-us-gov.com",
}
#: The one definition of the run's console URL. The fragment (the console's in-page route to a run)
#: is not published by AWS; the path and ``region`` query are the MWAA console's documented entry.
CONSOLE_URL_FORMAT = "https://{domain}/mwaa/home?region={region}#/serverless/workflows/{workflow_name}/runs/{run_id}"

#: A workflow ARN's parts (the console link and the OpenLineage facets read them from here).
WORKFLOW_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):airflow-serverless:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"workflow/(?P<name>[^/]+)$"
)


def workflow_run_console_url(workflow_arn: str, run_id: str) -> str:
    """Return the console URL of a run, or ``""`` when the ARN has no console (unknown partition/shape)."""
    match = WORKFLOW_ARN.match(workflow_arn or "")
    if not match or not run_id:
        return ""
    domain = CONSOLE_DOMAINS.get(match["partition"])
    if domain is None:
        return ""
    return CONSOLE_URL_FORMAT.format(
        domain=domain,
        region=quote(match["region"], safe=""),
        workflow_name=quote(match["name"], safe=""),
        run_id=quote(run_id, safe=""),
    )


class WorkflowRunLink(BaseOperatorLink):
    """ "MWAA Serverless Workflow Run" button on the task: the run's page in the AWS console.

    The operator calls :meth:`persist` once it knows the run id; Airflow's worker then calls
    :meth:`get_link` when the task defers or ends and stores the URL for the UI.
    """

    name = "MWAA Serverless Workflow Run"
    key: ClassVar[str] = "mwaa_serverless_workflow_run"

    @classmethod
    def persist(cls, context: Context | dict[str, Any], workflow_arn: str, run_id: str) -> None:
        """Store what the link needs (the workflow ARN and run id) in XCom under :attr:`key`."""
        context["ti"].xcom_push(key=cls.key, value={"workflow_arn": workflow_arn, "run_id": run_id})

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        """Read the persisted run back and format its console URL (``""`` if nothing was persisted)."""
        value = get_xcom_value(ti_key, self.key)
        if not isinstance(value, dict):
            return ""
        return workflow_run_console_url(str(value.get("workflow_arn") or ""), str(value.get("run_id") or ""))
