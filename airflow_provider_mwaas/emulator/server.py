"""The emulator as an HTTP server: moto's server application plus the control endpoints.

One endpoint serves MWAA Serverless, moto's S3, IAM and STS (and every other moto service): moto's
``DomainDispatcherApplication`` routes each request by the service name in its SigV4 credential
scope. ``python -m airflow_provider_mwaas.emulator`` runs :func:`main`.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any, TextIO

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from . import registration
from .control_http import ControlMiddleware
from .events import EventClock
from .transitions import DEFAULT_SECONDS_PER_STATE, TRANSITION_MODES, configure_transitions

READY_MESSAGE = "MWAA Serverless emulator listening on {url}"


class QuietRequestHandler(MotoRequestHandler):
    """moto's request handler without a log line per request (``--verbose`` restores them)."""

    verbose = False

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        if self.verbose:
            super().log_request(*args, **kwargs)


def build_app() -> ControlMiddleware:
    """moto's server application, with the service registered and the control endpoints in front."""
    registration.ensure_registered()
    return ControlMiddleware(DomainDispatcherApplication(create_backend_app))


def create_server(host: str, port: int, verbose: bool = False) -> BaseWSGIServer:
    """A threaded WSGI server for :func:`build_app`, bound but not yet serving.

    :param host: the address to bind.
    :param port: the port; ``0`` picks a free one.
    :param verbose: log every request on stderr.
    """
    handler = type("RequestHandler", (QuietRequestHandler,), {"verbose": verbose})
    return make_server(host, port, build_app(), threaded=True, request_handler=handler)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line of ``python -m airflow_provider_mwaas.emulator``."""
    parser = argparse.ArgumentParser(
        prog="python -m airflow_provider_mwaas.emulator",
        description="Local Amazon MWAA Serverless emulator (with moto's S3, IAM and STS).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port; 0 picks a free one (default 0)")
    parser.add_argument(
        "--transitions",
        choices=TRANSITION_MODES,
        default="time",
        help="runs advance per read ('call') or per elapsed time ('time', default)",
    )
    parser.add_argument(
        "--seconds-per-state",
        type=float,
        default=DEFAULT_SECONDS_PER_STATE,
        help="seconds a run spends in each state in 'time' mode (default 2)",
    )
    parser.add_argument(
        "--calls-per-state", type=int, default=1, help="reads of a run per state in 'call' mode (default 1)"
    )
    parser.add_argument(
        "--execute",
        action="store_true",
        help="execute workflow runs for real in a local Airflow with dag-factory (the emulator-execute extra)",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request on stderr")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    """Run the server until SIGINT or SIGTERM; print the ready line on stdout first.

    :param argv: command-line arguments (default ``sys.argv[1:]``).
    :param out: where the ready line goes (default stdout).
    :return: the exit status.
    """
    args = parse_args(argv)
    out = out or sys.stdout
    configure_transitions(args.transitions, args.seconds_per_state, args.calls_per_state)
    server = create_server(args.host, args.port, verbose=args.verbose)
    if args.execute:
        from .execution import start_executing

        start_executing(server)
    stop = threading.Event()

    def request_stop(signum: int, frame: Any) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    thread = threading.Thread(target=server.serve_forever, name="mwaas-emulator", daemon=True)
    thread.start()
    clock = EventClock().start()  # time-mode runs publish their events when due, polled or not
    host = args.host if ":" not in args.host else f"[{args.host}]"
    print(READY_MESSAGE.format(url=f"http://{host}:{server.server_port}"), file=out, flush=True)
    try:
        while not stop.wait(0.2):
            pass
    finally:
        clock.stop()
        server.shutdown()
        server.server_close()
        if args.execute:
            from .execution import stop_executing

            stop_executing()
        thread.join(timeout=10)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
