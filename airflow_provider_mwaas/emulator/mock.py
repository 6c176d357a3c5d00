"""``mock_mwaa_serverless``: moto's ``mock_aws`` with the MWAA Serverless emulator registered.

Every boto3/botocore client created inside it that has no ``endpoint_url`` reaches the emulator,
including for the real host ``airflow-serverless.<region>.api.aws``; S3 and every other moto service
are mocked as with ``mock_aws``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar, overload

from moto.core.models import MockAWS

from .registration import ensure_registered
from .state import STATE
from .transitions import configure_transitions, reset_transitions, transition_config

F = TypeVar("F", bound=Callable[..., Any])


class MockMWAAServerless:
    """Context manager and decorator; wraps (does not subclass) moto's ``MockAWS`` so that nesting
    with a plain ``mock_aws`` shares moto's one activation count.

    :param transitions: ``"call"`` (default: each read of a run advances it) or ``"time"``.
    :param seconds_per_state: seconds per state in ``time`` mode.
    :param calls_per_state: reads per state in ``call`` mode.
    :param config: moto's ``mock_aws`` config.
    :param execute: execute workflow runs for real in a local Airflow (see :mod:`.execution`); the
        emulator then also serves HTTP on a loopback port (:attr:`endpoint_url`) for the workflows'
        own AWS clients.
    """

    def __init__(
        self,
        transitions: str = "call",
        seconds_per_state: float = 2.0,
        calls_per_state: int = 1,
        config: dict[str, Any] | None = None,
        execute: bool = False,
    ):
        self.transitions = (transitions, seconds_per_state, calls_per_state)
        self.execute = execute
        self._mock = MockAWS(config)  # type: ignore[arg-type]
        self._server: Any = None
        self.endpoint_url: str | None = None

    def start(self) -> None:
        """Activate moto, check the registration, reset the emulator, set the transitions."""
        ensure_registered()
        transition_config(*self.transitions)  # refuse a bad mode before moto is started
        self._mock.start()
        try:
            STATE.reset()
            configure_transitions(*self.transitions)
            if self.execute:
                self._serve_and_execute()
        except BaseException:
            self._mock.stop()
            raise

    def _serve_and_execute(self) -> None:
        # The workflow runs in a subprocess: it reaches this process's moto state over HTTP (moto's
        # server app reads the same backends as the in-process mock).
        import threading

        from .execution import loopback_url, start_executing
        from .server import create_server

        self._server = create_server("127.0.0.1", 0)
        threading.Thread(target=self._server.serve_forever, name="mwaas-emulator-execute", daemon=True).start()
        self.endpoint_url = loopback_url(self._server)
        start_executing(self._server)

    def stop(self) -> None:
        """Deactivate; forget scripts, faults and counters (and stop serving, in executing mode)."""
        try:
            if self._server is not None:
                from .execution import stop_executing

                stop_executing()
                self._server.shutdown()
                self._server.server_close()
                self._server, self.endpoint_url = None, None
            STATE.reset()
            reset_transitions()
        finally:
            self._mock.stop()

    def __enter__(self) -> MockMWAAServerless:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __call__(self, func: F) -> F:
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                with self:
                    return await func(*args, **kwargs)

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self:
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


@overload
def mock_mwaa_serverless(func: F) -> F: ...
@overload
def mock_mwaa_serverless(
    func: None = None,
    *,
    transitions: str = "call",
    seconds_per_state: float = 2.0,
    calls_per_state: int = 1,
    config: dict[str, Any] | None = None,
    execute: bool = False,
) -> MockMWAAServerless: ...
def mock_mwaa_serverless(
    func: Callable[..., Any] | None = None,
    *,
    transitions: str = "call",
    seconds_per_state: float = 2.0,
    calls_per_state: int = 1,
    config: dict[str, Any] | None = None,
    execute: bool = False,
) -> Any:
    """moto's ``mock_aws`` with the emulator: ``with mock_mwaa_serverless():``,
    ``@mock_mwaa_serverless`` or ``@mock_mwaa_serverless(transitions="time")``.

    :param func: the function to decorate (bare decorator use).
    :param transitions: ``"call"`` (default) or ``"time"``; see :mod:`.transitions`.
    :param seconds_per_state: seconds per state in ``time`` mode.
    :param calls_per_state: reads per state in ``call`` mode.
    :param config: moto's ``mock_aws`` config.
    :param execute: execute workflow runs in a local Airflow (see :class:`MockMWAAServerless`).
    """
    mock = MockMWAAServerless(transitions, seconds_per_state, calls_per_state, config, execute)
    if func is not None:
        return mock(func)
    return mock
