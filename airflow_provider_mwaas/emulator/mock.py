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
    """

    def __init__(
        self,
        transitions: str = "call",
        seconds_per_state: float = 2.0,
        calls_per_state: int = 1,
        config: dict[str, Any] | None = None,
    ):
        self.transitions = (transitions, seconds_per_state, calls_per_state)
        self._mock = MockAWS(config)  # type: ignore[arg-type]

    def start(self) -> None:
        """Activate moto, check the registration, reset the emulator, set the transitions."""
        ensure_registered()
        transition_config(*self.transitions)  # refuse a bad mode before moto is started
        self._mock.start()
        try:
            STATE.reset()
            configure_transitions(*self.transitions)
        except BaseException:
            self._mock.stop()
            raise

    def stop(self) -> None:
        """Deactivate; forget scripts, faults and counters."""
        try:
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
) -> MockMWAAServerless: ...
def mock_mwaa_serverless(
    func: Callable[..., Any] | None = None,
    *,
    transitions: str = "call",
    seconds_per_state: float = 2.0,
    calls_per_state: int = 1,
    config: dict[str, Any] | None = None,
) -> Any:
    """moto's ``mock_aws`` with the emulator: ``with mock_mwaa_serverless():``,
    ``@mock_mwaa_serverless`` or ``@mock_mwaa_serverless(transitions="time")``.

    :param func: the function to decorate (bare decorator use).
    :param transitions: ``"call"`` (default) or ``"time"``; see :mod:`.transitions`.
    :param seconds_per_state: seconds per state in ``time`` mode.
    :param calls_per_state: reads per state in ``call`` mode.
    :param config: moto's ``mock_aws`` config.
    """
    mock = MockMWAAServerless(transitions, seconds_per_state, calls_per_state, config)
    if func is not None:
        return mock(func)
    return mock
