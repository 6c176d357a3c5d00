"""Violating requests generated from botocore's service model, one per declared constraint.

For every member of an operation's input shape and every constraint its shape declares (required,
type, min/max length or value, pattern, enum), plus one unknown member, build parameters that break
exactly that constraint, starting from valid parameters.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from botocore.model import Shape

from airflow_provider_mwaas.service.model import service_model

#: Candidates tried, in order, for a value that keeps the length but breaks a pattern.
_PATTERN_BREAKERS = ["not valid!", "\n", " ", "!", "-", "\u00e9"]
_WRONG_TYPE = {
    "string": 12345,
    "integer": "twelve",
    "long": "twelve",
    "map": ["not", "a", "map"],
    "list": "not-a-list",
    "boolean": "yes",
    "structure": "not-a-structure",
}


@dataclass(frozen=True)
class Case:
    """One violating request.

    :param operation: the operation name.
    :param field: the member the service must name in ``FieldList``.
    :param constraint: the constraint broken (for the test id).
    :param params: the request parameters.
    :param message_part: text the field's message must contain.
    :param raw: botocore's serializer cannot send it (wrong type, unknown member): send the JSON body as is.
    """

    operation: str
    field: str
    constraint: str
    params: dict[str, Any]
    message_part: str
    raw: bool = False

    @property
    def id(self) -> str:
        return f"{self.operation}-{self.field}-{self.constraint}"


def cases(operation: str, valid: dict[str, Any]) -> Iterator[Case]:
    """Every constraint case of ``operation``'s input shape.

    :param operation: the operation name.
    :param valid: parameters that pass validation.
    """
    shape = service_model().operation_model(operation).input_shape
    assert shape is not None
    for name, member in shape.members.items():

        def with_value(value: Any, _name: str = name) -> dict[str, Any]:
            return {**valid, _name: value}

        if name in shape.required_members:
            yield Case(operation, name, "required", {k: v for k, v in valid.items() if k != name}, "must not be null")
        if member.type_name in _WRONG_TYPE:
            yield Case(operation, name, "type", with_value(_WRONG_TYPE[member.type_name]), "must be of type", raw=True)
        yield from _scalar_cases(operation, name, member, with_value)
    yield Case(operation, "NotAMember", "unknown-member", {**valid, "NotAMember": "x"}, "not a known member", raw=True)


def _scalar_cases(operation: str, name: str, member: Shape, with_value: Any) -> Iterator[Case]:
    meta = member.metadata
    minimum, maximum = meta.get("min"), meta.get("max")
    if member.type_name == "string":
        if minimum:
            yield Case(
                operation,
                name,
                "min-length",
                with_value("a" * (minimum - 1)),
                f"length greater than or equal to {minimum}",
            )
        if maximum is not None:
            yield Case(
                operation,
                name,
                "max-length",
                with_value("a" * (maximum + 1)),
                f"length less than or equal to {maximum}",
            )
        if meta.get("pattern"):
            breaker = _pattern_breaker(meta["pattern"], minimum or 0, maximum)
            yield Case(operation, name, "pattern", with_value(breaker), "regular expression pattern")
        if meta.get("enum"):
            yield Case(operation, name, "enum", with_value("NOT_AN_ENUM_VALUE"), "enum value set")
    if member.type_name in ("integer", "long"):
        if minimum is not None:
            yield Case(
                operation, name, "min-value", with_value(minimum - 1), f"value greater than or equal to {minimum}"
            )
        if maximum is not None:
            yield Case(operation, name, "max-value", with_value(maximum + 1), f"value less than or equal to {maximum}")


def _pattern_breaker(pattern: str, minimum: int, maximum: int | None) -> str:
    for candidate in _PATTERN_BREAKERS:
        fits = minimum <= len(candidate) <= (maximum if maximum is not None else len(candidate))
        if fits and re.fullmatch(pattern, candidate) is None:
            return candidate
    raise AssertionError(f"No candidate breaks pattern {pattern!r}; extend _PATTERN_BREAKERS")
