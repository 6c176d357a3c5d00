"""Workflow requests (CreateWorkflow, UpdateWorkflow, ...) built from Python parameters and checked
against the service model before they are sent.

The hook and the deploy/delete operators share this, so a bad role ARN or an over-long description is
refused with the same :class:`~airflow_provider_mwaas.errors.InvalidParameterError` (naming the
parameter, its value and what the model allows) wherever it is given. botocore is imported lazily by
:mod:`~airflow_provider_mwaas.service.constraints`.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_mwaas.errors import InvalidParameterError
from airflow_provider_mwaas.service.constraints import describe_constraints, validate_input
from airflow_provider_mwaas.service.model import input_member

#: Python parameter -> model member of the workflow operations.
WORKFLOW_MEMBERS: dict[str, str] = {
    "workflow_name": "Name",
    "workflow_arn": "WorkflowArn",
    "workflow_version": "WorkflowVersion",
    "definition_s3_location": "DefinitionS3Location",
    "role_arn": "RoleArn",
    "description": "Description",
    "engine_version": "EngineVersion",
    "trigger_mode": "TriggerMode",
    "encryption_configuration": "EncryptionConfiguration",
    "logging_configuration": "LoggingConfiguration",
    "network_configuration": "NetworkConfiguration",
    "tags": "Tags",
    "client_token": "ClientToken",
}
_PARAM_OF = {member: param for param, member in WORKFLOW_MEMBERS.items()}

#: Settings that UpdateWorkflow can change, and so what a deploy compares with the live workflow.
UPDATABLE_MEMBERS: tuple[str, ...] = (
    "DefinitionS3Location",
    "RoleArn",
    "Description",
    "EngineVersion",
    "TriggerMode",
    "LoggingConfiguration",
    "NetworkConfiguration",
)


def workflow_request(operation: str, **params: Any) -> dict[str, Any]:
    """Build ``operation``'s request from Python parameters (``None`` = not sent) and check it.

    :param operation: ``CreateWorkflow``, ``UpdateWorkflow``, ``GetWorkflow``, ``DeleteWorkflow``...
    :param params: keys of :data:`WORKFLOW_MEMBERS`.
    :return: the request, keyed by model member.
    :raises InvalidParameterError: the first violation, naming the Python parameter (dotted for
        nested members, e.g. ``definition_s3_location.Bucket``).
    """
    request = {WORKFLOW_MEMBERS[name]: value for name, value in params.items() if value is not None}
    check_request(operation, request)
    return request


def check_request(operation: str, request: dict[str, Any]) -> None:
    """Refuse ``request`` (keyed by model member) unless it satisfies every constraint of the model.

    :raises InvalidParameterError: the first violation, naming the Python parameter.
    """
    errors = validate_input(operation, request)
    if not errors:
        return
    first = errors[0]
    member, _, rest = first.name.partition(".")
    field = _PARAM_OF.get(member, member) + (f".{rest}" if rest else "")
    try:
        shape = input_member(operation, member)
    except KeyError:  # an unknown member: the message says so
        raise InvalidParameterError(field, first.value, first.message) from None
    if rest or shape.type_name in ("structure", "map", "list"):
        allowed = f"a {shape.type_name} of the service model's {shape.name} shape ({first.message})"
    else:
        allowed = f"{describe_constraints(shape)} ({first.message})"
    raise InvalidParameterError(field, first.value, allowed)


# -- comparing a desired workflow with the live one ----------------------------------------------------

PARAM_OF_MEMBER = {
    "DefinitionS3Location": "definition_s3_location",
    "RoleArn": "role_arn",
    "Description": "description",
    "EngineVersion": "engine_version",
    "TriggerMode": "trigger_mode",
    "LoggingConfiguration": "logging_configuration",
    "NetworkConfiguration": "network_configuration",
    "EncryptionConfiguration": "encryption_configuration",
    "Tags": "tags",
}


def as_params(members: dict[str, Any]) -> dict[str, Any]:
    """Model members -> the hook's Python keyword arguments."""
    return {PARAM_OF_MEMBER[member]: value for member, value in members.items()}


def changed_members(desired: dict[str, Any], live: dict[str, Any]) -> list[str]:
    """The members of ``desired`` (keyed by model member) whose value differs from the live workflow's.

    The definition is compared by its location only (bucket and content-addressed key): the same key
    means the same bytes.
    """
    changed = []
    for member, value in desired.items():
        current = live.get(member)
        if member == "DefinitionS3Location":
            current = {k: v for k, v in (current or {}).items() if k in ("Bucket", "ObjectKey")} or None
        if normalise(value) != normalise(current):
            changed.append(member)
    return changed


def normalise(value: Any) -> Any:
    """Compare settings regardless of list order (security groups, subnets) and absent members."""
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return sorted((normalise(v) for v in value), key=repr)
    return value


def engine_version(value: Any) -> Any:
    # Templates render to strings: accept "1" for 1; anything else goes to the model check as is.
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return value
