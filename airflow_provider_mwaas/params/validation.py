"""Checks of user input before any request: the operator and the hook share them.

String constraints (lengths, patterns) come from the botocore service model through
:mod:`airflow_provider_mwaas.service.constraints`; what the model cannot say (Python types that do not
serialise to JSON, templated strings holding JSON) is checked here. Each error names the parameter,
what it accepts and the value, with override parameters always redacted (the model marks them sensitive).
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
from collections.abc import Mapping
from typing import Any

from airflow_provider_mwaas.errors import REDACTED, InvalidParameterError
from airflow_provider_mwaas.service.constraints import describe_constraints, validate_member
from airflow_provider_mwaas.service.model import input_member

#: operator/hook parameter -> StartWorkflowRun member
START_MEMBERS = {
    "workflow_arn": "WorkflowArn",
    "workflow_version": "WorkflowVersion",
    "client_token": "ClientToken",
}


def check_model_member(field: str, operation: str, member: str, value: Any, *, required: bool = False) -> None:
    """Refuse ``value`` unless it satisfies the model's constraints on ``operation``'s ``member``.

    :param field: the parameter name shown to the user.
    :param required: refuse ``None`` even when the model makes the member optional.
    """
    shape = input_member(operation, member)
    allowed = describe_constraints(shape)
    if value is None:
        if required:
            raise InvalidParameterError(field, value, allowed)
        return
    errors = validate_member(operation, member, value)
    if errors:
        raise InvalidParameterError(field, value, f"{allowed} ({errors[0].message})")


def normalise_override_parameters(value: Any) -> dict[str, Any] | None:
    """Return override parameters as a dict of JSON values, or raise naming what is wrong.

    A string is accepted when it holds a JSON object, since templates render to strings.
    Values are never shown in errors; keys are.
    """
    field = "override_parameters"
    allowed = "a dict with string keys and JSON-serialisable values (or a JSON object string)"
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as err:
            raise InvalidParameterError(
                field, REDACTED, f"{allowed}; got a string that is not JSON ({err.msg} at position {err.pos})"
            ) from None
        if not isinstance(value, dict):
            raise InvalidParameterError(field, REDACTED, f"{allowed}; got a JSON string holding {type(value).__name__}")
    if not isinstance(value, Mapping):
        raise InvalidParameterError(field, REDACTED, f"{allowed}; got {type(value).__name__}")
    problem = _first_non_json(value, field)
    if problem:
        raise InvalidParameterError(problem[0], REDACTED, f"{allowed}; {problem[1]}")
    return dict(value)


def _first_non_json(value: Any, path: str) -> tuple[str, str] | None:
    """Find the first part of ``value`` that is not strict JSON: (path, reason)."""
    if value is None or isinstance(value, (str, bool, int)):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else (path, f"{value!r} is not a JSON number")
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                return path, f"key {key!r} is a {type(key).__name__}, keys must be strings"
            found = _first_non_json(item, f"{path}[{key!r}]")
            if found:
                return found
        return None
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found = _first_non_json(item, f"{path}[{index}]")
            if found:
                return found
        return None
    return path, f"a value of type {type(value).__name__} is not JSON-serialisable"


def check_start_request(
    workflow_arn: Any, workflow_version: Any, client_token: Any, override_parameters: Any
) -> dict[str, Any] | None:
    """Check every StartWorkflowRun input; return the normalised override parameters."""
    check_model_member("workflow_arn", "StartWorkflowRun", "WorkflowArn", workflow_arn, required=True)
    check_model_member("workflow_version", "StartWorkflowRun", "WorkflowVersion", workflow_version)
    check_model_member("client_token", "StartWorkflowRun", "ClientToken", client_token)
    return normalise_override_parameters(override_parameters)


def check_run_id(run_id: Any, field: str = "run_id") -> None:
    """Refuse a run id the service could not hold."""
    check_model_member(field, "GetWorkflowRun", "RunId", run_id, required=True)


def check_positive_int(field: str, value: Any, *, minimum: int = 1) -> int:
    """Refuse anything but an integer >= ``minimum`` (bools excluded); accept digit strings from templates."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidParameterError(field, value, f"an integer >= {minimum}")
    return value


def check_arn_region(workflow_arn: str, region_name: str | None, field: str = "workflow_arn") -> None:
    """Refuse a workflow ARN whose region or partition is not the client's, before any request.

    The service is regional: a client in ``us-east-1`` asked about an ``eu-west-1`` workflow answers
    ``ResourceNotFoundException``, which reads like a typo in the ARN. ``region_name`` is the region the
    client will use (task ``region_name``, else the connection's); when it is ``None`` boto3 takes
    ``AWS_DEFAULT_REGION``, and with neither the check is skipped (boto3 may still find a region in a
    config file, which we cannot see without building the client).

    :param workflow_arn: an ARN already checked against the model's pattern.
    :param region_name: the client's region.
    """
    region_name = region_name or os.environ.get("AWS_DEFAULT_REGION") or None
    parts = workflow_arn.split(":")
    if region_name is None or len(parts) < 6:
        return
    arn_partition, arn_region = parts[1], parts[3]
    if arn_region != region_name:
        raise InvalidParameterError(
            field,
            workflow_arn,
            f"a workflow in the client's region {region_name}; this ARN is in {arn_region}. Set region_name="
            f"{arn_region!r} on the task (or AWS Region on the connection), or use the workflow's ARN in {region_name}",
        )
    partition = _partition_of(region_name)
    if partition is not None and arn_partition != partition:
        raise InvalidParameterError(
            field,
            workflow_arn,
            f"an ARN of partition {partition!r} (region {region_name}); this ARN says {arn_partition!r}",
        )


@functools.lru_cache(maxsize=32)
def _partition_of(region_name: str) -> str | None:
    """The AWS partition botocore's endpoint data gives ``region_name`` (``None`` when unknown)."""
    from botocore.loaders import create_loader
    from botocore.regions import EndpointResolver

    try:
        return str(EndpointResolver(create_loader().load_data("endpoints")).get_partition_for_region(region_name))
    except Exception:  # an unknown region: the service call will say so
        return None


#: What an SQS queue URL looks like: ``http(s)://HOST[:PORT]/ACCOUNT_ID/QUEUE_NAME`` (SQS's own form,
#: ``https://sqs.REGION.amazonaws.com/123456789012/name``, or a local endpoint's).
_QUEUE_URL = re.compile(r"https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?/[0-9]{12}/[A-Za-z0-9_\-]{1,80}(\.fifo)?")
QUEUE_URL_ALLOWED = (
    "None, or an SQS queue URL http(s)://HOST[:PORT]/ACCOUNT_ID/QUEUE_NAME (a 12-digit account id; a name "
    "of 1-80 letters, digits, '-' or '_', '.fifo' allowed), e.g. https://sqs.us-east-1.amazonaws.com/123456789012/q"
)


def check_queue_url(field: str, value: Any) -> str | None:
    """Refuse anything but ``None`` or an SQS queue URL (checked before any call)."""
    if value is None:
        return None
    if not isinstance(value, str) or _QUEUE_URL.fullmatch(value) is None:
        raise InvalidParameterError(field, value, QUEUE_URL_ALLOWED)
    return value


#: Seconds between the safety-net polls of an event-woken wait while its queue is readable (default).
DEFAULT_EVENTS_SAFETY_INTERVAL = 300


def check_events(queue_url: Any, safety_interval: Any, deferring: bool, log: Any) -> dict[str, Any]:
    """Check a task's event-woken wait parameters; return the trigger's kwargs for them.

    Empty without a queue, and on a worker wait (which polls every ``waiter_delay``; logged at info).
    """
    url = check_queue_url("events_queue_url", queue_url)
    interval = check_positive_int("events_safety_interval", safety_interval)
    if url is None:
        return {}
    if not deferring:
        log.info("events_queue_url applies to deferred waits only: this task does not defer (a worker wait polls)")
        return {}
    return {"events_queue_url": url, "events_safety_interval": interval}
