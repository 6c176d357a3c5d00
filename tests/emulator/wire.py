"""Helpers to put exact bytes on the wire through a real botocore client."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from botocore import xform_name


def call_with_body(client: Any, operation: str, body: bytes | dict[str, Any], **params: Any) -> Any:
    """Call ``operation`` but replace the serialized body with ``body`` before signing.

    botocore's serializer refuses some malformed input (a list for a map, unknown members); this
    sends it anyway, signed and routed like any other request.
    """
    data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")

    def replace(request: Any, **_: Any) -> None:
        request.data = data

    event = f"before-sign.mwaa-serverless.{operation}"
    client.meta.events.register(event, replace)
    try:
        method: Callable[..., Any] = getattr(client, xform_name(operation))
        return method(**params)
    finally:
        client.meta.events.unregister(event, replace)
