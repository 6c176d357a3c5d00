"""Exceptions raised by the provider, each carrying what a user needs to act."""

from __future__ import annotations

from typing import Any

from airflow_provider_mwaas.version_compat import AirflowException, AirflowFailException

REDACTED = "***"


class InvalidParameterError(AirflowFailException, ValueError):
    """A parameter was refused before any request was sent; retrying cannot help.

    :param field: the operator/hook parameter name, e.g. ``workflow_arn``.
    :param value: the offending value (pass :data:`REDACTED` for secrets).
    :param allowed: what the parameter accepts.
    """

    def __init__(self, field: str, value: Any, allowed: str) -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        shown = value if value == REDACTED else _truncate(repr(value))
        super().__init__(f"Invalid {field}: {shown}. Allowed: {allowed}.")


class MwaaServerlessApiError(AirflowException):
    """The service refused a request (after botocore's retries, where the error is retryable).

    :param operation: the API operation, e.g. ``StartWorkflowRun``.
    :param code: the AWS error code, e.g. ``AccessDeniedException``.
    :param message: the service's message.
    :param request_id: the AWS request id, to quote to AWS support.
    """

    def __init__(self, operation: str, code: str, message: str, request_id: str | None, hint: str = "") -> None:
        self.operation = operation
        self.code = code
        self.request_id = request_id
        #: The error's modelled members besides Code/Message (e.g. ``ResourceId`` of a ConflictException).
        self.details: dict[str, Any] = {}
        text = f"{operation} failed with {code}: {message} (request id: {request_id or 'unknown'})"
        super().__init__(f"{text}. {hint}" if hint else text)


class NonRetryableApiError(MwaaServerlessApiError, AirflowFailException):
    """A service refusal that a retry of the task cannot fix (access, validation, conflict, ...)."""


class WorkflowRunFailedError(AirflowException):
    """The workflow run ended in a state other than SUCCESS; the message carries the diagnostics."""


class WorkflowRunTokenError(AirflowFailException):
    """No token generation was left for this try (the attempt arithmetic is off): clear the task."""


class WorkflowRunWaitTimeoutError(AirflowException):
    """The run did not end within waiter_delay x waiter_max_attempts."""


class InvalidWorkflowDefinitionError(InvalidParameterError):
    """The definition does not parse or names no tasks; refused before any MWAA Serverless request.

    :param line: 1-based line of the problem (``None`` when the problem is not on one line).
    :param reason: what is wrong.
    """

    def __init__(self, field: str, value: Any, reason: str, line: int | None, column: int | None, where: str):
        self.line = line
        self.column = column
        self.reason = reason
        super().__init__(field, value, f"a YAML workflow definition that parses and names its tasks; {where}")


def _truncate(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"
