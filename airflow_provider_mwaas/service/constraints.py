"""The rules of botocore's ``mwaa-serverless`` service model, and input validation generated from them.

botocore's own ``ParamValidator`` checks required members, types and minimums, but not maximum
lengths, patterns or enums: a 300-character ``ClientToken`` or an ARN of the wrong shape goes out on
the wire and only the service refuses it. This module walks the operation's input shape (structures,
unions, lists, maps, documents, scalars) and reports *every* constraint the model declares, so that

* the emulator refuses bad input exactly where AWS would (``ValidationException`` with
  ``Reason=fieldValidationFailed`` and a ``FieldList``), and
* the provider's hook reuses :func:`validate_input` client-side, to refuse bad input before any
  request leaves the worker.

The model itself is read in :mod:`airflow_provider_mwaas.service.model`. botocore is imported lazily:
operators import this module (through :mod:`airflow_provider_mwaas.params.validation`) at DAG-parse time.

Patterns are matched against the *whole* value (``re.fullmatch``): Smithy patterns are not anchored
by definition, but the service validates identifiers such as ARNs as complete values, and a partial
match would accept ``"xx arn:aws:...workflow/a-0123456789"``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from airflow_provider_mwaas.service.model import service_model

if TYPE_CHECKING:
    from botocore.model import Shape

_SENSITIVE_PLACEHOLDER = "***"
_MAX_ECHOED_VALUE = 80


@dataclass(frozen=True)
class FieldError:
    """One constraint violation.

    :param name: dotted path of the offending member, e.g. ``WorkflowArn``,
        ``NetworkConfiguration.SubnetIds.0`` or ``Tags.team``.
    :param message: the constraint, worded like the service words it
        (``Member must have length less than or equal to 128``).
    :param value: the offending value (``None`` for a missing member).
    :param sensitive: the model marks the member sensitive; :meth:`describe` does not echo it.
    """

    name: str
    message: str
    value: Any = None
    sensitive: bool = field(default=False, compare=False)

    def describe(self) -> str:
        """One sentence for an exception message, in the service's wording."""
        if self.value is None or self.sensitive:
            return f"Value at '{self.name}' failed to satisfy constraint: {self.message}"
        shown = repr(self.value) if not isinstance(self.value, str) else self.value
        if len(shown) > _MAX_ECHOED_VALUE:
            shown = shown[:_MAX_ECHOED_VALUE] + "..."
        return f"Value '{shown}' at '{self.name}' failed to satisfy constraint: {self.message}"

    def as_wire(self) -> dict[str, str]:
        """The ``ValidationExceptionField`` shape: ``{"Name": ..., "Message": ...}``."""
        return {"Name": self.name, "Message": self.message}


def validate_input(operation_name: str, params: Any) -> list[FieldError]:
    """Check a request's parameters against every constraint of the operation's input shape.

    :param operation_name: the model's operation name, e.g. ``"StartWorkflowRun"``.
    :param params: the request parameters as they go on the wire (a ``dict``).
    :return: the violations, in member order; empty when the input is valid.
    :raises botocore.model.OperationNotFoundError: the model has no such operation.
    """
    shape = service_model().operation_model(operation_name).input_shape
    errors: list[FieldError] = []
    if shape is None:
        if params not in (None, {}):
            errors.append(FieldError("", "Operation takes no input", params))
        return errors
    _check(shape, params, "", errors, sensitive=False)
    return errors


def validate_member(operation_name: str, member: str, value: Any) -> list[FieldError]:
    """Check one input member of an operation (``None`` passes unless the member is required)."""
    op_shape = service_model().operation_model(operation_name).input_shape
    assert op_shape is not None
    if value is None:
        required = member in op_shape.required_members
        return [FieldError(member, "Member must not be null", None)] if required else []
    errors: list[FieldError] = []
    _check(op_shape.members[member], value, member, errors, sensitive=False)
    return errors


def describe_constraints(shape: Shape) -> str:
    """A scalar shape's constraints in words, e.g. ``a string of 1-128 characters matching [\\x21-\\x7E]+``."""
    meta = shape.metadata
    low, high = meta.get("min"), meta.get("max")
    if shape.type_name == "string":
        if low is not None and high is not None:
            text = f"a string of {low}-{high} characters"
        elif low is not None:
            text = f"a string of at least {low} characters"
        else:
            text = "a string"
        if "pattern" in meta:
            text += f" matching {meta['pattern']}"
        if meta.get("enum"):
            text += f", one of {', '.join(meta['enum'])}"
        return text
    if shape.type_name in ("integer", "long"):
        return f"an integer in {'-inf' if low is None else low}..{'inf' if high is None else high}"
    return f"a {shape.type_name}"


def summarize(errors: list[FieldError]) -> str:
    """The ``Message`` of a ``ValidationException`` for these errors, in the service's wording."""
    count = len(errors)
    noun = "error" if count == 1 else "errors"
    return f"{count} validation {noun} detected: " + "; ".join(e.describe() for e in errors)


# -- the walk ---------------------------------------------------------------------------------------


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _check(shape: Shape, value: Any, path: str, errors: list[FieldError], sensitive: bool) -> None:
    sensitive = sensitive or bool(shape.metadata.get("sensitive"))
    if getattr(shape, "is_document_type", False):
        return  # a Document is any JSON value
    checker = _CHECKERS.get(shape.type_name)
    if checker is not None:
        checker(shape, value, path, errors, sensitive)


def _type_error(path: str, expected: str, value: Any, errors: list[FieldError], sensitive: bool) -> None:
    errors.append(FieldError(path, f"Member must be of type {expected}", value, sensitive))


def _check_structure(shape: Shape, value: Any, path: str, errors: list[FieldError], sensitive: bool) -> None:
    if not isinstance(value, Mapping):
        _type_error(path, "structure", value, errors, sensitive)
        return
    members = shape.members  # type: ignore[attr-defined]
    for required in shape.required_members:  # type: ignore[attr-defined]
        if value.get(required) is None:
            errors.append(FieldError(_join(path, required), "Member must not be null", None, sensitive))
    for name in value:
        if name not in members:
            errors.append(
                FieldError(_join(path, str(name)), "Member is not a known member of the shape", value[name], sensitive)
            )
    present = [name for name in members if value.get(name) is not None]
    if shape.metadata.get("union") and len(present) != 1:
        errors.append(FieldError(path, "Exactly one member of the union must be set", None, sensitive))
    for name in present:
        _check(members[name], value[name], _join(path, name), errors, sensitive)


def _check_length(
    shape: Shape, length: float, value: Any, path: str, errors: list[FieldError], sensitive: bool, unit: str
) -> None:
    minimum, maximum = shape.metadata.get("min"), shape.metadata.get("max")
    if minimum is not None and length < minimum:
        errors.append(FieldError(path, f"Member must have {unit} greater than or equal to {minimum}", value, sensitive))
    if maximum is not None and length > maximum:
        errors.append(FieldError(path, f"Member must have {unit} less than or equal to {maximum}", value, sensitive))


def _check_list(shape: Shape, value: Any, path: str, errors: list[FieldError], sensitive: bool) -> None:
    if not isinstance(value, list):
        _type_error(path, "list", value, errors, sensitive)
        return
    _check_length(shape, len(value), value, path, errors, sensitive, "length")
    for index, item in enumerate(value):
        if item is None:
            errors.append(FieldError(_join(path, str(index)), "Member must not be null", None, sensitive))
            continue
        _check(shape.member, item, _join(path, str(index)), errors, sensitive)  # type: ignore[attr-defined]


def _check_map(shape: Shape, value: Any, path: str, errors: list[FieldError], sensitive: bool) -> None:
    if not isinstance(value, Mapping):
        _type_error(path, "map", value, errors, sensitive)
        return
    _check_length(shape, len(value), value, path, errors, sensitive, "number of entries")
    for key, item in value.items():
        item_path = _join(path, str(key))
        key_errors: list[FieldError] = []
        _check(shape.key, key, item_path, key_errors, sensitive)  # type: ignore[attr-defined]
        errors.extend(FieldError(e.name, "Map key: " + e.message, e.value, e.sensitive) for e in key_errors)
        if item is None:
            errors.append(FieldError(item_path, "Member must not be null", None, sensitive))
            continue
        _check(shape.value, item, item_path, errors, sensitive)  # type: ignore[attr-defined]


def _check_string(shape: Shape, value: Any, path: str, errors: list[FieldError], sensitive: bool) -> None:
    if not isinstance(value, str):
        _type_error(path, "string", value, errors, sensitive)
        return
    _check_length(shape, len(value), value, path, errors, sensitive, "length")
    enum = shape.metadata.get("enum")
    if enum and value not in enum:
        errors.append(FieldError(path, f"Member must satisfy enum value set: [{', '.join(enum)}]", value, sensitive))
    pattern = shape.metadata.get("pattern")
    if pattern is not None and _compiled(pattern).fullmatch(value) is None:
        errors.append(FieldError(path, f"Member must satisfy regular expression pattern: {pattern}", value, sensitive))


def _check_integer(shape: Shape, value: Any, path: str, errors: list[FieldError], sensitive: bool) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        _type_error(path, shape.type_name, value, errors, sensitive)
        return
    _check_range(shape, value, path, errors, sensitive)


def _check_float(shape: Shape, value: Any, path: str, errors: list[FieldError], sensitive: bool) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        _type_error(path, shape.type_name, value, errors, sensitive)
        return
    _check_range(shape, value, path, errors, sensitive)


def _check_range(shape: Shape, value: float, path: str, errors: list[FieldError], sensitive: bool) -> None:
    # The model's min/max bound a number's value as they bound a string's or a list's length.
    _check_length(shape, value, value, path, errors, sensitive, "value")


def _check_boolean(shape: Shape, value: Any, path: str, errors: list[FieldError], sensitive: bool) -> None:
    if not isinstance(value, bool):
        _type_error(path, "boolean", value, errors, sensitive)


def _check_timestamp(shape: Shape, value: Any, path: str, errors: list[FieldError], sensitive: bool) -> None:
    # On the JSON wire a timestamp is epoch seconds or an ISO 8601 string; botocore accepts datetimes.
    if isinstance(value, bool) or (not isinstance(value, (int, float, str)) and not hasattr(value, "isoformat")):
        _type_error(path, "timestamp", value, errors, sensitive)


def _check_blob(shape: Shape, value: Any, path: str, errors: list[FieldError], sensitive: bool) -> None:
    if not isinstance(value, (str, bytes, bytearray)):
        _type_error(path, "blob", value, errors, sensitive)
        return
    _check_length(shape, len(value), value, path, errors, sensitive, "length")


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


_CHECKERS = {
    "structure": _check_structure,
    "list": _check_list,
    "map": _check_map,
    "string": _check_string,
    "integer": _check_integer,
    "long": _check_integer,
    "float": _check_float,
    "double": _check_float,
    "boolean": _check_boolean,
    "timestamp": _check_timestamp,
    "blob": _check_blob,
}
