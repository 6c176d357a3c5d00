"""The connection form's Test button: one cheap real call, and a message that says what to fix."""

from __future__ import annotations

import os

from airflow.providers.amazon.aws.utils.connection_wrapper import AwsConnectionWrapper
from botocore.config import Config
from botocore.exceptions import ClientError

from airflow_provider_mwaas.errors import InvalidParameterError
from airflow_provider_mwaas.hooks.base import MwaaServerlessBaseHook
from airflow_provider_mwaas.service.error_kinds import EXPIRED_CREDENTIAL_CODES, INVALID_CREDENTIAL_CODES

#: A workflow name the permission probes use: valid for the model, never created by anyone.
PROBE_WORKFLOW = "mwaas-permission-probe-0000000000"


class ConnectionTestMixin(MwaaServerlessBaseHook):
    """``test_connection()`` for the UI's Test button and ``airflow connections test``."""

    #: Error codes meaning the credentials have expired (one definition, shared with the triggers).
    EXPIRED_CREDENTIAL_CODES = EXPIRED_CREDENTIAL_CODES
    #: Error codes meaning the keys themselves are wrong (likewise shared).
    INVALID_CREDENTIAL_CODES = INVALID_CREDENTIAL_CODES
    #: Error codes meaning the identity lacks a permission.
    ACCESS_DENIED_CODES = frozenset({"AccessDeniedException", "AccessDenied", "UnauthorizedOperation"})
    #: Every IAM action the provider's operators, sensor and trigger use (for access-denied hints).
    IAM_ACTIONS = (
        "airflow-serverless:StartWorkflowRun",
        "airflow-serverless:GetWorkflowRun",
        "airflow-serverless:ListWorkflowRuns",
        "airflow-serverless:ListTaskInstances",
        "airflow-serverless:StopWorkflowRun",
    )

    def test_connection(self) -> tuple[bool, str]:
        """Call ListWorkflows (MaxResults=1) once, without retries; say what to fix when it fails.

        Used by the UI's Test button and ``airflow connections test``. Recognised failures: no or
        unknown region, unreachable endpoint (MWAA Serverless or STS), role assumption refused,
        expired or invalid credentials, access denied (naming the IAM action).

        :return: (success, message).
        """
        try:
            config = self.conn_config
            # One attempt, short timeouts: the user is waiting in the browser.
            probe = self.with_config(
                Config(retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=5, read_timeout=15)
            )
            client = probe.conn  # builds the session: a role is assumed here
            region = client.meta.region_name
            response = client.list_workflows(MaxResults=1)
        except Exception as err:
            return False, self.describe_connection_failure(err)
        try:
            missing = probe._missing_run_actions(client, response.get("Workflows") or [])
            unprobed = ""
        except Exception as err:  # the account could not be learned: say so, the connection itself works
            missing, unprobed = [], f" Run actions not probed: {self.describe_connection_failure(err)}"
        if missing:
            return False, (
                "ListWorkflows works, but the connection's identity"
                + (f" (role {config.role_arn})" if config.role_arn else "")
                + " is denied "
                + ", ".join(f"airflow-serverless:{action}" for action in missing)
                + " (probed on a workflow that does not exist; a policy limited to named workflows is denied "
                "there too). Tasks need: " + ", ".join(self.IAM_ACTIONS) + "."
            )
        endpoint = config.get_service_endpoint_url("mwaa-serverless")
        found = "at least one workflow is visible" if response.get("Workflows") else "no workflow is visible yet"
        return True, (
            f"Connection works: ListWorkflows answered in {region}"
            + (f" at {endpoint}" if endpoint else "")
            + (f" as role {config.role_arn}" if config.role_arn else "")
            + f"; {found}; the run actions are allowed."
            + unprobed
        )

    #: Each run action, called on a workflow that cannot exist: "not found" means allowed, "denied" not.
    #: StartWorkflowRun on a missing workflow starts nothing.
    RUN_ACTION_PROBES: tuple[tuple[str, dict[str, object]], ...] = (
        ("StartWorkflowRun", {}),
        ("GetWorkflowRun", {"RunId": "mwaasPermissionProbe"}),
        ("ListWorkflowRuns", {"MaxResults": 1}),
        ("ListTaskInstances", {"RunId": "mwaasPermissionProbe"}),
        ("StopWorkflowRun", {"RunId": "mwaasPermissionProbe"}),
    )

    def _missing_run_actions(self, client: object, workflows: list[dict[str, object]]) -> list[str]:
        """The run actions the identity is denied, probed on a workflow ARN of this account that cannot exist.

        The account comes from a workflow ListWorkflows showed, else from STS GetCallerIdentity (which
        needs no permission).
        """
        from botocore import xform_name

        meta = client.meta  # type: ignore[attr-defined]
        arns = [str(w.get("WorkflowArn")) for w in workflows if str(w.get("WorkflowArn", "")).count(":") >= 5]
        if arns:
            account = arns[0].split(":")[4]
        else:
            sts = self.get_session(region_name=meta.region_name).client(
                "sts",
                region_name=meta.region_name,
                endpoint_url=self.conn_config.get_service_endpoint_url("sts"),
                config=self.config,
                verify=self.verify,
            )
            account = sts.get_caller_identity()["Account"]
        arn = f"arn:{meta.partition or 'aws'}:airflow-serverless:{meta.region_name}:{account}:workflow/{PROBE_WORKFLOW}"
        missing = []
        for operation, params in self.RUN_ACTION_PROBES:
            try:
                getattr(client, xform_name(operation))(WorkflowArn=arn, **params)
            except ClientError as err:
                if str(err.response.get("Error", {}).get("Code")) in self.ACCESS_DENIED_CODES:
                    missing.append(operation)
        return missing

    def describe_connection_failure(self, err: BaseException) -> str:
        """Turn a connection-test failure into a message that says what to fix."""
        from botocore import exceptions as bex

        try:
            config: AwsConnectionWrapper | None = self.conn_config
        except Exception:
            config = None
        region = (config.region_name if config else None) or os.environ.get("AWS_DEFAULT_REGION")
        role_arn = config.role_arn if config else None
        if isinstance(err, ClientError):
            error = err.response.get("Error", {})
            code, message = str(error.get("Code", "Unknown")), str(error.get("Message", "")) or str(err)
            request_id = err.response.get("ResponseMetadata", {}).get("RequestId") or "unknown"
            said = f"{err.operation_name} failed with {code}: {message} (request id: {request_id})"
            if code in self.EXPIRED_CREDENTIAL_CODES:
                return (
                    f"Expired credentials: {said}. Renew the session token, or use a Role ARN to assume or the "
                    "instance/web identity credentials, which the provider refreshes on its own."
                )
            if err.operation_name == "AssumeRole":
                return (
                    f"Could not assume role {role_arn}: {said}. The connection's identity needs sts:AssumeRole on "
                    "that role, and the role's trust policy must allow this identity (and require the External ID "
                    "given, if any)."
                )
            if code in self.INVALID_CREDENTIAL_CODES:
                return f"Invalid credentials: {said}. Check the AWS Access Key ID and Secret Access Key."
            if code in self.ACCESS_DENIED_CODES:
                return (
                    f"Access denied: {said}. Grant the connection's identity"
                    + (f" (role {role_arn})" if role_arn else "")
                    + f" the IAM action airflow-serverless:{err.operation_name}; running workflows also needs "
                    + ", ".join(self.IAM_ACTIONS)
                    + "."
                )
            return f"{said}."
        if isinstance(err, bex.NoRegionError):
            return "No region: set AWS Region in the connection (e.g. us-east-1), or region_name on each task."
        if isinstance(err, bex.InvalidRegionError):
            return f"Unknown region {region!r}: set AWS Region to a region name such as us-east-1. ({err})"
        if isinstance(err, (bex.NoCredentialsError, bex.PartialCredentialsError)):
            return (
                f"No usable credentials ({err}): fill in AWS Access Key ID and Secret Access Key, or run where "
                "boto3's default chain finds some (instance profile, web identity, environment)."
            )
        if isinstance(err, (bex.EndpointConnectionError, bex.ConnectTimeoutError, bex.ConnectionClosedError)):
            url = str(getattr(err, "kwargs", {}).get("endpoint_url") or "")
            # botocore's own text only repeats the URL; the urllib3 error under it says why.
            cause = str(getattr(err, "kwargs", {}).get("error") or err).split(": ", 1)[-1]
            endpoint = config.get_service_endpoint_url("mwaa-serverless") if config is not None else None
            if url and url.rstrip("/") == (endpoint or "").rstrip("/"):
                return (
                    f"Unreachable endpoint {url} ({cause}). Check MWAA Serverless endpoint URL in the connection "
                    "(VPC endpoint DNS name or emulator address) and that it is reachable from Airflow."
                )
            sts_url = config.get_service_config("sts").get("endpoint_url") if config is not None else None
            if (sts_url and url.rstrip("/") == sts_url.rstrip("/")) or url.split("//")[-1].startswith("sts."):
                return (
                    f"Unreachable STS endpoint {url} while assuming role {role_arn} ({cause}). Check STS endpoint "
                    "URL in the connection and that STS is reachable from Airflow."
                )
            if region and not self._is_known_region(region):
                return (
                    f"Unknown region {region!r}: botocore does not know it and {url or 'its endpoint'} could not "
                    f"be reached ({cause}). Check AWS Region in the connection (e.g. us-east-1)."
                )
            return (
                f"Unreachable endpoint {url or 'of MWAA Serverless'} ({cause}). MWAA Serverless may not be offered "
                f"in {region}, or a proxy/firewall blocks it (set a VPC endpoint in MWAA Serverless endpoint URL)."
            )
        if isinstance(err, InvalidParameterError):
            return str(err)
        return f"{type(err).__name__}: {err}"

    @staticmethod
    def _is_known_region(region: str) -> bool:
        """Whether botocore's endpoint data lists ``region`` in any partition."""
        from botocore.loaders import create_loader

        partitions = create_loader().load_data("endpoints").get("partitions", [])
        return any(region in partition.get("regions", {}) for partition in partitions)
