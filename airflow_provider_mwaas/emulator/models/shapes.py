"""What every resource of the emulated service builds its wire shapes with: clock, ids, paging, compaction."""

from __future__ import annotations

import string
from datetime import datetime, timezone
from typing import Any

from botocore.paginate import TokenDecoder
from moto.core.exceptions import InvalidToken
from moto.moto_api._internal import mock_random

IN_FLIGHT = ("STARTING", "QUEUED", "RUNNING", "STOPPING")
TERMINAL = ("SUCCESS", "FAILED", "TIMEOUT", "STOPPED")
SERVICE_PREFIX = "airflow-serverless"

PAGINATION_MODEL: dict[str, dict[str, Any]] = {
    "list_workflows": {
        "input_token": "next_token",
        "limit_key": "max_results",
        "limit_default": 100,
        "unique_attribute": "arn",
    },
    "list_workflow_versions": {
        "input_token": "next_token",
        "limit_key": "max_results",
        "limit_default": 100,
        "unique_attribute": "version_id",
    },
    "list_workflow_runs": {
        "input_token": "next_token",
        "limit_key": "max_results",
        "limit_default": 100,
        "unique_attribute": "run_id",
    },
    "list_task_instances": {
        "input_token": "next_token",
        "limit_key": "max_results",
        "limit_default": 100,
        "unique_attribute": "TaskInstanceId",
    },
}


def page_token(token: str) -> dict[str, Any]:
    """A ``NextToken`` as moto's ``Paginator`` makes them: a dict whose ``uniqueAttributes`` is a string.

    moto's ``Paginator`` refuses some bad tokens with ``InvalidToken`` but fails with a plain Python error
    (an HTTP 500) on others: JSON ``null``, a string, a token without ``uniqueAttributes``. Checked first,
    each of those is the ``InvalidToken`` the responses answer with a ``ValidationException``.

    :raises InvalidToken: ``token`` is not such a token.
    """
    try:
        decoded = TokenDecoder().decode(token)
    except Exception as err:  # untrusted input: botocore's decoder raises ValueError, KeyError, TypeError...
        raise InvalidToken("Invalid token") from err
    if not isinstance(decoded, dict) or not isinstance(decoded.get("uniqueAttributes"), str):
        raise InvalidToken("Invalid token")
    return decoded


def utcnow() -> datetime:
    """Timezone-aware now (the serializer writes ISO 8601)."""
    return datetime.now(timezone.utc)


def random_alnum(length: int) -> str:
    """``length`` random letters and digits from moto's seedable RNG."""
    alphabet = string.ascii_letters + string.digits
    return "".join(mock_random.choice(alphabet) for _ in range(length))


def schedule_configuration(schedule: Any) -> dict[str, str] | None:
    return {"CronExpression": schedule} if isinstance(schedule, str) and schedule else None


def compact(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}
