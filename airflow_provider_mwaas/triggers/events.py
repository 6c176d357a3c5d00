"""The events a :class:`~airflow_provider_mwaas.triggers.mwaa_serverless.WorkflowRunCompletedTrigger` yields.

The payload schema is :mod:`airflow_provider_mwaas.triggers.trigger_events`'s; this mixin fills it from the
trigger's own fields and words the errors.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from airflow_provider_mwaas.errors import MwaaServerlessApiError, NonRetryableApiError
from airflow_provider_mwaas.triggers.trigger_events import workflow_run_event
from airflow_provider_mwaas.version_compat import AirflowFailException

if TYPE_CHECKING:
    from airflow_provider_mwaas.triggers.shared_clients import SharedClient


class RunEventsMixin:
    """Builds the trigger's one event (success, failure, timeout or error)."""

    workflow_arn: str
    run_id: str
    aws_conn_id: str | None
    log: Any  # the trigger's logger (its own log file on the triggerer)

    @property
    def wait_began(self) -> float:
        """Epoch seconds at which the wait began (the deferral), kept across triggerer restarts."""
        raise NotImplementedError

    def _event(
        self,
        status: str,
        state: str,
        message: str | None,
        *,
        failed: list[dict[str, Any]] | None = None,
        error: dict[str, Any] | None = None,
        timeout_kind: str | None = None,
    ) -> dict[str, Any]:
        return workflow_run_event(
            status,
            self.workflow_arn,
            self.run_id,
            state,
            message,
            failed_task_instances=failed,
            waited_seconds=time.time() - self.wait_began,
            error=error,
            timeout_kind=timeout_kind,
        )

    def _error_event(self, state: str, err: BaseException, operation: str = "GetWorkflowRun") -> dict[str, Any]:
        if isinstance(err, MwaaServerlessApiError):
            error = {
                "operation": err.operation,
                "code": err.code,
                "message": str(err),
                "request_id": err.request_id,
                "retryable": not isinstance(err, NonRetryableApiError),
            }
        else:
            error = {
                "operation": operation,
                "code": type(err).__name__,
                "message": str(err),
                "request_id": None,
                "retryable": True,
            }
        self.log.error("Workflow run %s: giving up the wait: %s", self.run_id, err)
        return self._event("error", state, str(err), error=error)

    def _client_error_event(self, shared: SharedClient, err: Exception) -> dict[str, Any]:
        """The error event of a wait whose client could not be built; the hook's connection test words it."""
        from botocore.exceptions import ClientError

        message = f"Could not create the MWAA Serverless client for connection {self.aws_conn_id!r}: "
        message += shared.hook.describe_connection_failure(err)
        response = err.response if isinstance(err, ClientError) else {}
        error = {
            "operation": err.operation_name if isinstance(err, ClientError) else "CreateClient",
            "code": str(response.get("Error", {}).get("Code") or type(err).__name__),
            "message": message,
            "request_id": response.get("ResponseMetadata", {}).get("RequestId"),
            "retryable": not isinstance(err, AirflowFailException),
        }
        self.log.error("Workflow run %s: giving up the wait: %s", self.run_id, message)
        return self._event("error", "UNKNOWN", message, error=error)
