"""How a failed call is classed (throttling, transient, expired credentials), and the triggers' backoff limits.

Shared by the single-run path and the coalesced poller so both give a failure the same meaning.
"""

from __future__ import annotations

from functools import lru_cache

#: A wait's sleep grows (x2 per consecutive failed poll) up to this multiple of waiter_delay.
MAX_BACKOFF_FACTOR = 8
#: Consecutive transient failures (5xx, timeouts, dropped connections, each already retried by botocore)
#: after which the wait ends with an "error" event. Throttling never ends the wait.
MAX_CONSECUTIVE_TRANSIENT_FAILURES = 5
#: Codes meaning the client's (non-refreshable) credentials expired: the shared client is rebuilt from
#: the connection and the failure counts as transient.
EXPIRED_CREDENTIAL_CODES = frozenset({"ExpiredTokenException", "ExpiredToken", "RequestExpired"})


@lru_cache(maxsize=1)
def error_codes_by_kind() -> tuple[frozenset[str], frozenset[str]]:
    """(throttling codes, other transient codes), read from the service model's ``retryable`` traits."""
    from airflow_provider_mwaas.utils.service_model import service_model

    throttling, transient = {"Throttling", "TooManyRequestsException"}, {"OperationTimeoutException"}
    for shape in service_model().error_shapes:
        retryable = shape.metadata.get("retryable")
        if retryable is not None:
            (throttling if retryable.get("throttling") else transient).add(shape.name)
    return frozenset(throttling), frozenset(transient | EXPIRED_CREDENTIAL_CODES)
