"""The service's error shapes as moto ``ServiceException`` subclasses.

moto's JSON serializer turns these into the wire shape botocore expects: ``__type``, ``Message`` and
the shape's other members, read from the attributes below (``reason`` -> ``Reason``, ``field_list`` ->
``FieldList``). The module lives outside the ``moto`` package on purpose: moto's error lookup treats
any exception whose module starts with ``moto`` as belonging to a moto service package and looks its
model up by that package name (``moto.core.errors.get_exception_service_model``).
"""

from __future__ import annotations

from moto.core.exceptions import ServiceException

from airflow_provider_mwaas.service.constraints import FieldError, summarize
from airflow_provider_mwaas.service.model import (
    REASON_CANNOT_PARSE,
    REASON_FIELD_VALIDATION_FAILED,
    REASON_OTHER,
    REASON_UNKNOWN_OPERATION,
)

#: The service code throttling and quota errors report.
SERVICE_CODE = "airflow-serverless"


class MWAAServerlessException(ServiceException):
    """Base class of the emulator's service errors."""


class ValidationException(MWAAServerlessException):
    """``ValidationException{Message, Reason, FieldList?}``."""

    code = "ValidationException"

    def __init__(self, message: str, reason: str = REASON_OTHER, field_list: list[dict[str, str]] | None = None):
        super().__init__(message)
        self.reason = reason
        self.field_list = field_list

    @classmethod
    def from_field_errors(cls, errors: list[FieldError]) -> ValidationException:
        """The exception for the violations :func:`~.validation.validate_input` found."""
        return cls(summarize(errors), REASON_FIELD_VALIDATION_FAILED, [e.as_wire() for e in errors])

    @classmethod
    def cannot_parse(cls, detail: str) -> ValidationException:
        """The request body is not a JSON object."""
        return cls(f"Could not parse the request body: {detail}", REASON_CANNOT_PARSE)

    @classmethod
    def unknown_operation(cls, operation: str) -> ValidationException:
        """The ``X-Amz-Target`` names no operation of the service."""
        return cls(f"Unknown operation: {operation}", REASON_UNKNOWN_OPERATION)


class ResourceNotFoundException(MWAAServerlessException):
    """``ResourceNotFoundException{Message, ResourceId, ResourceType}``."""

    code = "ResourceNotFoundException"

    def __init__(self, resource_type: str, resource_id: str, message: str | None = None):
        super().__init__(message or f"{resource_type} {resource_id} not found")
        self.resource_id = resource_id
        self.resource_type = resource_type


class ConflictException(MWAAServerlessException):
    """``ConflictException{Message, ResourceId, ResourceType}``."""

    code = "ConflictException"

    def __init__(self, resource_type: str, resource_id: str, message: str):
        super().__init__(message)
        self.resource_id = resource_id
        self.resource_type = resource_type


class ThrottlingException(MWAAServerlessException):
    """``ThrottlingException{Message, ServiceCode, QuotaCode, RetryAfterSeconds?}``."""

    code = "ThrottlingException"

    def __init__(self, retry_after_seconds: int | None = None, message: str = "Rate exceeded"):
        super().__init__(message)
        self.service_code = SERVICE_CODE
        self.quota_code = "api-rate"
        self.retry_after_seconds = retry_after_seconds


class InternalServerException(MWAAServerlessException):
    """``InternalServerException{Message, RetryAfterSeconds?}``; a fault, sent with HTTP 500."""

    code = "InternalServerException"

    def __init__(self, message: str = "An internal error occurred", retry_after_seconds: int | None = None):
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class AccessDeniedException(MWAAServerlessException):
    """``AccessDeniedException{Message}``: the caller may not call this operation (scripted refusals)."""

    code = "AccessDeniedException"

    def __init__(self, message: str = "User is not authorized to perform this action"):
        super().__init__(message)


class ServiceQuotaExceededException(MWAAServerlessException):
    """``ServiceQuotaExceededException{Message, ResourceId, ResourceType, ServiceCode, QuotaCode}``."""

    code = "ServiceQuotaExceededException"

    def __init__(
        self, message: str = "Service quota exceeded", resource_type: str = "WorkflowRun", resource_id: str = "-"
    ):
        super().__init__(message)
        self.resource_id = resource_id
        self.resource_type = resource_type
        self.service_code = SERVICE_CODE
        self.quota_code = "concurrent-workflow-runs"


class UnrecognizedClientException(MWAAServerlessException):
    """A key the account does not know (revoked, rotated, mistyped): how JSON-protocol services say it."""

    code = "UnrecognizedClientException"


class InvalidSignatureException(MWAAServerlessException):
    """The request was signed with the wrong secret."""

    code = "InvalidSignatureException"


#: moto's IAM-check errors (XML, for its query-protocol services) -> this service's JSON answer.
_AUTH_ERRORS: dict[str, type[MWAAServerlessException]] = {
    "InvalidClientTokenId": UnrecognizedClientException,
    "AuthFailure": UnrecognizedClientException,
    "SignatureDoesNotMatch": InvalidSignatureException,
    "AccessDenied": AccessDeniedException,
}


def auth_refusal(error_type: str, message: str) -> MWAAServerlessException:
    """This service's answer to a refusal of moto's IAM check (``error_type``; others: access denied)."""
    return _AUTH_ERRORS.get(error_type, AccessDeniedException)(message)


def refusal(code: str, message: str | None = None) -> MWAAServerlessException:
    """The service error for a scripted refusal of ``code`` (see :data:`.faults.REFUSAL_CODES`)."""
    text = message or f"Scripted {code} from the MWAA Serverless emulator"
    if code == "AccessDeniedException":
        return AccessDeniedException(text)
    if code == "ServiceQuotaExceededException":
        return ServiceQuotaExceededException(text)
    if code == "ResourceNotFoundException":
        return ResourceNotFoundException("Workflow", "-", text)
    if code == "ConflictException":
        return ConflictException("WorkflowRun", "-", text)
    if code == "ValidationException":
        return ValidationException(text, REASON_OTHER)
    raise ValueError(f"not a refusal code: {code!r}")
