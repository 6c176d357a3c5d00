"""Rules read from botocore's ``mwaa-serverless`` service model, the one source of field constraints.

botocore's own ``ParamValidator`` checks required members, types and minimum lengths, but not maximum
lengths, patterns or enums (the service enforces those). Both the provider (to refuse bad input
before any request) and the emulator (to answer like the service) need the full set, so it is
derived here from the installed model rather than copied by hand.

botocore is imported lazily: operators import this module at DAG-parse time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from botocore.model import OperationModel, ServiceModel, Shape

SERVICE_NAME = "mwaa-serverless"


@dataclass(frozen=True)
class FieldError:
    """One violated constraint.

    :param name: dotted path of the member, e.g. ``WorkflowArn`` or ``OverrideParameters.key``.
    :param message: what is wrong and what is allowed.
    :param value: the offending value (callers redact it when the member is sensitive).
    """

    name: str
    message: str
    value: Any = None


@cache
def service_model() -> ServiceModel:
    """Return the installed botocore service model for MWAA Serverless (loaded once)."""
    import botocore.session

    return botocore.session.get_session().get_service_model(SERVICE_NAME)


def operation_model(operation_name: str) -> OperationModel:
    """Return the botocore operation model for ``operation_name`` (e.g. ``StartWorkflowRun``)."""
    return service_model().operation_model(operation_name)


def input_member(operation_name: str, member: str) -> Shape:
    """Return the input member shape ``member`` of ``operation_name``."""
    shape = operation_model(operation_name).input_shape
    assert shape is not None
    return shape.members[member]


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.DOTALL)


def describe_constraints(shape: Shape) -> str:
    """Describe a scalar shape's constraints in words, e.g. ``a string of 1-128 characters matching ...``."""
    meta = shape.metadata
    parts: list[str] = []
    if shape.type_name == "string":
        lo, hi = meta.get("min"), meta.get("max")
        if lo is not None and hi is not None:
            parts.append(f"a string of {lo}-{hi} characters")
        elif lo is not None:
            parts.append(f"a string of at least {lo} characters")
        else:
            parts.append("a string")
        if "pattern" in meta:
            parts.append(f"matching {meta['pattern']}")
        if shape.enum:
            parts.append(f"one of {', '.join(shape.enum)}")
    elif shape.type_name in ("integer", "long"):
        lo, hi = meta.get("min"), meta.get("max")
        parts.append(f"an integer in {lo if lo is not None else '-inf'}..{hi if hi is not None else 'inf'}")
    else:
        parts.append(f"a {shape.type_name}")
    return " ".join(parts)


def is_sensitive(shape: Shape) -> bool:
    """Whether the model marks ``shape`` (or the shapes it holds) as sensitive."""
    if shape.metadata.get("sensitive"):
        return True
    if shape.type_name == "map":
        return is_sensitive(shape.key) or is_sensitive(shape.value)  # type: ignore[attr-defined]
    if shape.type_name == "list":
        return is_sensitive(shape.member)  # type: ignore[attr-defined]
    return False


def validate_input(operation_name: str, params: dict[str, Any]) -> list[FieldError]:
    """Check ``params`` against every constraint of the operation's input shape.

    :param operation_name: the API operation, e.g. ``StartWorkflowRun``.
    :param params: the request members as boto3 would receive them.
    :return: one :class:`FieldError` per violation, empty when the request is valid.
    """
    shape = operation_model(operation_name).input_shape
    if shape is None:
        return [FieldError("", "the operation takes no input", params)] if params else []
    errors: list[FieldError] = []
    _validate(shape, params, "", errors)
    return errors


def validate_member(operation_name: str, member: str, value: Any) -> list[FieldError]:
    """Check one input member of an operation (``None`` passes unless the member is required)."""
    op_shape = operation_model(operation_name).input_shape
    assert op_shape is not None
    if value is None:
        if member in op_shape.required_members:
            return [FieldError(member, "is required", None)]
        return []
    errors: list[FieldError] = []
    _validate(op_shape.members[member], value, member, errors)
    return errors


def _validate(shape: Shape, value: Any, path: str, errors: list[FieldError]) -> None:
    kind = shape.type_name
    if kind == "structure":
        _validate_structure(shape, value, path, errors)
    elif kind == "list":
        if not isinstance(value, list):
            errors.append(FieldError(path, "must be a list", value))
            return
        _check_range(shape, len(value), path, value, errors, unit="items")
        for index, item in enumerate(value):
            _validate(shape.member, item, f"{path}[{index}]", errors)  # type: ignore[attr-defined]
    elif kind == "map":
        if not isinstance(value, dict):
            errors.append(FieldError(path, "must be an object (map)", value))
            return
        _check_range(shape, len(value), path, value, errors, unit="entries")
        for key, item in value.items():
            _validate(shape.key, key, f"{path}.<key>", errors)  # type: ignore[attr-defined]
            _validate(shape.value, item, f"{path}.{key}", errors)  # type: ignore[attr-defined]
    elif kind == "string":
        if not isinstance(value, str):
            errors.append(FieldError(path, f"must be {describe_constraints(shape)}", value))
            return
        _check_range(shape, len(value), path, value, errors, unit="characters")
        pattern = shape.metadata.get("pattern")
        if pattern and not _compiled(pattern).fullmatch(value):
            errors.append(FieldError(path, f"must match the pattern {pattern}", value))
        if shape.enum and value not in shape.enum:
            errors.append(FieldError(path, f"must be one of {', '.join(shape.enum)}", value))
    elif kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            errors.append(FieldError(path, "must be an integer", value))
            return
        _check_range(shape, value, path, value, errors, unit="")
    elif kind in ("float", "double"):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            errors.append(FieldError(path, "must be a number", value))
    elif kind == "boolean":
        if not isinstance(value, bool):
            errors.append(FieldError(path, "must be a boolean", value))
    elif kind == "timestamp" and not isinstance(value, (str, int, float)) and not hasattr(value, "isoformat"):
        errors.append(FieldError(path, "must be a timestamp", value))
    # "document" members accept any JSON value; JSON-ness is the serialiser's concern.


def _validate_structure(shape: Shape, value: Any, path: str, errors: list[FieldError]) -> None:
    if not isinstance(value, dict):
        errors.append(FieldError(path, "must be an object (structure)", value))
        return
    members = shape.members  # type: ignore[attr-defined]
    prefix = f"{path}." if path else ""
    for name in shape.required_members:  # type: ignore[attr-defined]
        if value.get(name) is None:
            errors.append(FieldError(prefix + name, "is required", None))
    for name, item in value.items():
        if name not in members:
            errors.append(FieldError(prefix + name, "is not a member of this request", item))
        elif item is not None:
            _validate(members[name], item, prefix + name, errors)


def _check_range(
    shape: Shape, size: int, path: str, value: Any, errors: list[FieldError], *, unit: str
) -> None:
    lo, hi = shape.metadata.get("min"), shape.metadata.get("max")
    what = f"{size} {unit}".strip()
    if lo is not None and size < lo:
        errors.append(FieldError(path, f"must be at least {lo} {unit} (got {what})".rstrip(), value))
    if hi is not None and size > hi:
        errors.append(FieldError(path, f"must be at most {hi} {unit} (got {what})".rstrip(), value))
