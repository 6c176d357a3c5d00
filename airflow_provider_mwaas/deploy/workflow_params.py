"""Workflow requests (CreateWorkflow, UpdateWorkflow, ...) built from Python parameters and checked
against the service model before they are sent.

The hook and the deploy/delete operators share this, so a bad role ARN or an over-long description is
refused with the same :class:`~airflow_provider_mwaas.errors.InvalidParameterError` (naming the
parameter, its value and what the model allows) wherever it is given. botocore is imported lazily by
:mod:`~airflow_provider_mwaas.service.constraints`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from airflow_provider_mwaas.errors import InvalidParameterError
from airflow_provider_mwaas.service.constraints import describe_constraints, validate_input
from airflow_provider_mwaas.service.model import input_member

#: Python names that are not botocore's snake_case of the member (``Name`` is ambiguous on its own).
_PARAM_OVERRIDES = {"Name": "workflow_name"}
_WORKFLOW_OPERATIONS = ("CreateWorkflow", "UpdateWorkflow", "GetWorkflow", "DeleteWorkflow", "ListWorkflowVersions")


def param_name(member: str) -> str:
    """The Python parameter of a model member: ``RoleArn`` -> ``role_arn``, ``Name`` -> ``workflow_name``."""
    from botocore import xform_name

    return _PARAM_OVERRIDES.get(member, xform_name(member))


@lru_cache(maxsize=1)
def workflow_members() -> dict[str, str]:
    """Python parameter -> model member, for every input member of the workflow operations in the
    installed model (a member botocore adds is accepted without a change here)."""
    from airflow_provider_mwaas.service.model import service_model

    model = service_model()
    members: dict[str, str] = {}
    for operation in _WORKFLOW_OPERATIONS:
        for member in model.operation_model(operation).input_shape.members:
            members[param_name(member)] = member
    return members


@lru_cache(maxsize=1)
def updatable_members() -> tuple[str, ...]:
    """Settings UpdateWorkflow takes (every input member but the ARN): what a deploy compares with the
    live workflow and carries forward when it does not manage them (an update replaces the settings)."""
    from airflow_provider_mwaas.service.model import service_model

    update = service_model().operation_model("UpdateWorkflow").input_shape.members
    return tuple(m for m in update if m != "WorkflowArn")


@lru_cache(maxsize=1)
def create_only_members() -> tuple[str, ...]:
    """Settings only CreateWorkflow takes (``EncryptionConfiguration``, ``Tags``), besides its name and token."""
    from airflow_provider_mwaas.service.model import service_model

    create = service_model().operation_model("CreateWorkflow").input_shape.members
    return tuple(m for m in create if m not in updatable_members() and m not in ("Name", "ClientToken"))


def workflow_request(operation: str, **params: Any) -> dict[str, Any]:
    """Build ``operation``'s request from Python parameters (``None`` = not sent) and check it.

    :param operation: ``CreateWorkflow``, ``UpdateWorkflow``, ``GetWorkflow``, ``DeleteWorkflow``...
    :param params: keys of :func:`workflow_members`.
    :return: the request, keyed by model member.
    :raises InvalidParameterError: the first violation, naming the Python parameter (dotted for
        nested members, e.g. ``definition_s3_location.Bucket``).
    """
    members = workflow_members()
    unknown = sorted(set(params) - set(members))
    if unknown:
        raise InvalidParameterError(unknown[0], params[unknown[0]], f"one of the model's members: {sorted(members)}")
    request = {members[name]: value for name, value in params.items() if value is not None}
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
    field = param_name(member) + (f".{rest}" if rest else "")
    try:
        shape = input_member(operation, member)
    except KeyError:  # an unknown member: the message says so
        raise InvalidParameterError(field, first.value, first.message) from None
    if rest or shape.type_name in ("structure", "map", "list"):
        allowed = f"a {shape.type_name} of the service model's {shape.name} shape ({first.message})"
    else:
        allowed = f"{describe_constraints(shape)} ({first.message})"
    raise InvalidParameterError(field, first.value, allowed)


def tag_changes(live: dict[str, str], desired: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """What makes ``live`` tags equal ``desired``: ``(tags to set, keys to remove)``, both empty when equal."""
    add = {k: v for k, v in desired.items() if live.get(k) != v}
    remove = sorted(k for k in live if k not in desired)
    return add, remove


# -- comparing a desired workflow with the live one ----------------------------------------------------


def as_params(members: dict[str, Any]) -> dict[str, Any]:
    """Model members -> the hook's Python keyword arguments."""
    return {param_name(member): value for member, value in members.items()}


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
