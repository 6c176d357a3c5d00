"""The server's control endpoints: ``/_mwaas_emulator/<method>``, JSON in and out.

``POST /_mwaas_emulator/<method>`` calls :class:`~.control_local.LocalControl`'s method with the JSON
body as keyword arguments and answers its result as JSON. Read-only methods also answer ``GET``
(query-string arguments). ``400 {"error"}`` for bad arguments, ``404 {"error"}`` for an unknown
workflow, run or method. Everything else goes to moto's own application.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from airflow_provider_mwaas.service.model import operation_names

from .control import CONTROL_PREFIX
from .control_local import LocalControl

#: Methods callable over HTTP; the ones in READ_ONLY also answer GET.
METHODS = (
    "create_workflow",
    "configure_transitions",
    "transitions",
    "script_outcome",
    "hold",
    "release",
    "set_faults",
    "clear_faults",
    "faults",
    "script_refusal",
    "counters",
    "runs",
    "set_assumptions",
    "assumptions",
    "age_runs",
    "reset",
    "health",
)
READ_ONLY = ("transitions", "faults", "counters", "runs", "assumptions", "health")

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class ControlMiddleware:
    """Serves the control endpoints in front of moto's WSGI application.

    :param app: moto's ``DomainDispatcherApplication``.
    """

    def __init__(self, app: WSGIApp):
        self.app = app
        self.control = LocalControl()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if not path.startswith(CONTROL_PREFIX + "/"):
            return self.app(environ, start_response)
        method = path[len(CONTROL_PREFIX) + 1 :].strip("/")
        status, payload = self._handle(environ, method)
        body = json.dumps(payload, default=str).encode("utf-8")
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    def _handle(self, environ: dict[str, Any], method: str) -> tuple[str, Any]:
        verb = environ.get("REQUEST_METHOD", "GET")
        if method not in METHODS:
            return "404 Not Found", {"error": f"Unknown control endpoint {method!r}; known: {list(METHODS)}"}
        if verb == "GET" and method not in READ_ONLY:
            return "405 Method Not Allowed", {"error": f"{method} needs POST"}
        try:
            kwargs = self._arguments(environ, verb)
        except ValueError as err:
            return "400 Bad Request", {"error": f"Body must be a JSON object: {err}"}
        try:
            if method == "health":
                return "200 OK", {"status": "ok", "operations": operation_names()}
            return "200 OK", getattr(self.control, method)(**kwargs)
        except LookupError as err:
            return "404 Not Found", {"error": str(err.args[0] if err.args else err)}
        except (ValueError, TypeError) as err:
            return "400 Bad Request", {"error": str(err)}

    @staticmethod
    def _arguments(environ: dict[str, Any], verb: str) -> dict[str, Any]:
        if verb == "GET":
            query = parse_qs(environ.get("QUERY_STRING", ""))
            return {key: values[-1] for key, values in query.items()}
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        kwargs = json.loads(raw) if raw.strip() else {}
        if not isinstance(kwargs, dict):
            raise ValueError("not an object")
        return kwargs
