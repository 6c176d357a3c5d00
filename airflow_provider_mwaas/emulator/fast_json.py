"""A JSON encoder for the ``ListWorkflowRuns`` response, byte-identical to moto's serializer.

Why: once a page is a slice (:mod:`.models.listing`), moto's serializer is about 90% of the emulator's time
for a page of 100 runs (cProfile): for each of the page's ~900 members it walks the shape and asks its
value picker for the member under several spellings (about 5 ms a page here; this encoder: about 1 ms). A
poller reads ``ceil(N/100)`` pages per interval, so that cost bounds how fast every run of N is asked about
(benchmarks/listing_page.py, issue 16).

What it writes is what moto writes: the members in the model's order (read from the model, as moto does),
``None`` left out, strings as ``str``, ``iso8601`` timestamps as moto formats them, then moto's own
``json.dumps`` call. ``tests/emulator/test_fast_json.py`` compares the two byte for byte. Only this one
response takes the short way; every other response, and every error, still goes through moto.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from functools import cache
from typing import Any

from botocore.model import Shape
from botocore.utils import parse_to_aware_datetime
from moto import settings
from moto.core.common_types import TYPE_RESPONSE
from moto.core.responses import ActionContext, ActionResult
from moto.core.serialize import TimestampSerializer

from airflow_provider_mwaas.service.model import service_model

Encoder = Callable[[Any], Any]


def _timestamp(value: Any) -> str:
    # moto turns every value into an aware UTC datetime first (botocore's parse_to_aware_datetime, whose
    # astimezone() costs more than the rest of the encoding); the backend's are UTC already.
    moment: datetime = (
        value if isinstance(value, datetime) and value.tzinfo is timezone.utc else parse_to_aware_datetime(value)
    )
    form = TimestampSerializer.ISO8601_MICRO if moment.microsecond > 0 else TimestampSerializer.ISO8601
    return moment.strftime(form)


def _structure(members: list[tuple[str, Encoder]]) -> Encoder:
    def encode(value: dict[str, Any]) -> dict[str, Any]:
        out = {}
        for name, member in members:
            item = value.get(name)
            if item is not None:
                out[name] = member(item)
        return out

    return encode


def _encoder(shape: Shape) -> Encoder:
    """A function from a backend value (dicts keyed like the wire) to what moto would put in the JSON body.

    :raises NotImplementedError: a shape this encoder does not know how moto writes.
    """
    kind = shape.type_name
    if kind == "structure":
        return _structure([(name, _encoder(member)) for name, member in shape.members.items()])
    if kind == "list":
        item = _encoder(shape.member)
        return lambda values: [item(v) for v in values]
    if kind == "string":
        return str
    if kind == "timestamp" and shape.serialization.get("timestampFormat") == "iso8601":
        return _timestamp
    raise NotImplementedError(f"{shape.name} ({kind}) is not encoded here")


@cache
def output_encoder(operation: str) -> Encoder:
    """The encoder of ``operation``'s output shape (compiled once from the model)."""
    output = service_model().operation_model(operation).output_shape
    assert output is not None, f"{operation} has no output"
    return _encoder(output)


class FastJsonResult(ActionResult):
    """An ``ActionResult`` serialized by :func:`output_encoder` instead of moto's serializer.

    :param result: the response, a dict keyed like the wire shape.
    :param operation: the operation whose output it is (``ListWorkflowRuns``).
    """

    def __init__(self, result: dict[str, Any], operation: str):
        super().__init__(result)
        self.operation = operation

    def execute_result(self, context: ActionContext) -> TYPE_RESPONSE:
        try:
            encoder = output_encoder(self.operation)
        except NotImplementedError:  # a model whose output has shapes not encoded here: moto's serializer
            return super().execute_result(context)
        model = context.operation_model
        encoded = encoder(self.result)
        body = json.dumps(encoded, indent=4 if settings.PRETTIFY_RESPONSES else None)  # as moto's JSON serializer
        headers = {"Content-Type": f"application/x-amz-json-{model.service_model.metadata.get('jsonVersion', '1.0')}"}
        return model.http.get("responseCode", 200), headers, body
