"""How a failed call is classed (throttling, transient, authentication), and the triggers' backoff limits.

Shared by the single-run path and the coalesced poller so both give a failure the same meaning.
"""

from __future__ import annotations

from functools import lru_cache

#: A wait's sleep grows (x2 per consecutive failed poll) up to this multiple of waiter_delay.
MAX_BACKOFF_FACTOR = 8
#: Consecutive transient failures (5xx, timeouts, dropped connections, each already retried by botocore)
#: after which the wait ends with an "error" event. Throttling never ends the wait.
MAX_CONSECUTIVE_TRANSIENT_FAILURES = 5
#: Codes meaning the credentials expired.
EXPIRED_CREDENTIAL_CODES = frozenset({"ExpiredTokenException", "ExpiredToken", "RequestExpired"})
#: Codes meaning the keys themselves are refused: rotated, revoked, mistyped, or signed wrongly.
INVALID_CREDENTIAL_CODES = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "InvalidAccessKeyId",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "MissingAuthenticationTokenException",
    }
)
#: Every authentication failure: the triggers' shared client is rebuilt from the connection (which may
#: have been fixed meanwhile) and the failure counts as transient.
AUTH_FAILURE_CODES = EXPIRED_CREDENTIAL_CODES | INVALID_CREDENTIAL_CODES


def is_auth_failure(code: str | None) -> bool:
    """Whether the AWS error ``code`` says the caller's credentials were refused (expired or invalid).

    An access-denied answer is not one: the identity is known, it lacks a permission.
    """
    return code in AUTH_FAILURE_CODES


@lru_cache(maxsize=1)
def error_codes_by_kind() -> tuple[frozenset[str], frozenset[str]]:
    """(throttling codes, other transient codes), read from the service model's ``retryable`` traits."""
    from airflow_provider_mwaas.service.model import service_model

    throttling, transient = {"Throttling", "TooManyRequestsException"}, {"OperationTimeoutException"}
    for shape in service_model().error_shapes:
        retryable = shape.metadata.get("retryable")
        if retryable is not None:
            (throttling if retryable.get("throttling") else transient).add(shape.name)
    return frozenset(throttling), frozenset(transient | AUTH_FAILURE_CODES)
