"""Fault injection: answer a seeded, reproducible fraction of requests with a failure.

Kinds:

* ``throttle``: ``ThrottlingException`` (HTTP 400, ``RetryAfterSeconds``, a ``Retry-After`` header);
* ``internal_error``: ``InternalServerException`` (HTTP 500);
* ``drop``: no response at all (server mode closes the socket; in-process, botocore sees the
  ``ConnectionClosedError`` it raises when a server hangs up);
* ``latency``: the request is served, ``latency_seconds`` late. Independent of the three above.

Each request to a covered operation draws two numbers from one ``random.Random(seed)``: one picks
at most one of throttle/internal_error/drop (their fractions stack, so they must sum to <= 1), the
other decides latency. The same seed and the same request sequence give the same faults.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

FAULT_KINDS = ("throttle", "internal_error", "latency", "drop")


@dataclass(frozen=True)
class FaultConfig:
    """What to inject and how often.

    :param throttle: fraction (0..1) of requests answered with ``ThrottlingException``.
    :param internal_error: fraction answered with ``InternalServerException``.
    :param latency: fraction delayed by ``latency_seconds``.
    :param latency_seconds: the added delay.
    :param drop: fraction whose connection is dropped with no response.
    :param operations: operation names covered (e.g. ``["GetWorkflowRun"]``); ``None`` = all.
    :param seed: RNG seed; ``None`` = not reproducible.
    :param retry_after_seconds: ``RetryAfterSeconds`` of injected throttling/internal errors.
    """

    throttle: float = 0.0
    internal_error: float = 0.0
    latency: float = 0.0
    latency_seconds: float = 0.5
    drop: float = 0.0
    operations: frozenset[str] | None = None
    seed: int | None = 0
    retry_after_seconds: int = 1

    def __post_init__(self) -> None:
        for name in ("throttle", "internal_error", "latency", "drop"):
            fraction = getattr(self, name)
            if not 0.0 <= fraction <= 1.0:
                raise ValueError(f"{name} must be a fraction between 0 and 1, got {fraction}")
        if self.throttle + self.internal_error + self.drop > 1.0 + 1e-9:
            raise ValueError("throttle + internal_error + drop must not exceed 1")
        if self.latency_seconds < 0 or self.retry_after_seconds < 0:
            raise ValueError("latency_seconds and retry_after_seconds must not be negative")

    def covers(self, operation: str) -> bool:
        """Whether requests for ``operation`` are subject to faults."""
        return self.operations is None or operation in self.operations

    @property
    def active(self) -> bool:
        """Whether any fault can be injected."""
        return any((self.throttle, self.internal_error, self.latency, self.drop))


@dataclass(frozen=True)
class FaultDecision:
    """What to do with one request: ``error`` is ``throttle``, ``internal_error``, ``drop`` or ``None``."""

    error: str | None = None
    delay: float = 0.0
    retry_after_seconds: int = 1


@dataclass
class FaultInjector:
    """Holds the current :class:`FaultConfig` and its RNG; thread-safe."""

    config: FaultConfig = field(default_factory=FaultConfig)
    # Not for security: faults need a seeded, reproducible generator.
    _rng: random.Random = field(default_factory=lambda: random.Random(0))  # noqa: S311
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def configure(self, config: FaultConfig) -> None:
        """Replace the configuration and reseed the RNG.

        :param config: the new configuration.
        """
        with self._lock:
            self.config = config
            self._rng = random.Random(config.seed)  # noqa: S311 - reproducible on purpose

    def clear(self) -> None:
        """Inject nothing from now on."""
        self.configure(FaultConfig())

    def decide(self, operation: str) -> FaultDecision:
        """Draw the fate of one request.

        :param operation: the operation name of the request.
        """
        with self._lock:
            config = self.config
            if not config.active or not config.covers(operation):
                return FaultDecision()
            draw, latency_draw = self._rng.random(), self._rng.random()
        error = None
        if draw < config.throttle:
            error = "throttle"
        elif draw < config.throttle + config.internal_error:
            error = "internal_error"
        elif draw < config.throttle + config.internal_error + config.drop:
            error = "drop"
        delay = config.latency_seconds if latency_draw < config.latency else 0.0
        return FaultDecision(error, delay, config.retry_after_seconds)


#: Service refusals a test can script with :class:`RefusalBook` (the model's non-fault, non-throttling
#: error shapes): the service answers them itself, they are never retried by botocore.
REFUSAL_CODES = (
    "AccessDeniedException",
    "ConflictException",
    "ResourceNotFoundException",
    "ServiceQuotaExceededException",
    "ValidationException",
)


@dataclass
class ScriptedRefusal:
    """Answer the next ``remaining`` requests for ``operations`` with the error ``code``.

    :param code: one of :data:`REFUSAL_CODES`.
    :param operations: operation names covered; ``None`` = every operation.
    :param remaining: requests still to refuse; ``None`` = all of them until cleared.
    :param message: the error's ``Message``.
    """

    code: str
    operations: frozenset[str] | None = None
    remaining: int | None = 1
    message: str | None = None

    def __post_init__(self) -> None:
        if self.code not in REFUSAL_CODES:
            raise ValueError(f"code must be one of {REFUSAL_CODES}, got {self.code!r}")
        if self.remaining is not None and self.remaining < 1:
            raise ValueError("count must be a positive number of requests, or None for all of them")


@dataclass
class RefusalBook:
    """Scripted refusals, applied in the order they were added; thread-safe."""

    scripts: list[ScriptedRefusal] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, refusal: ScriptedRefusal) -> None:
        """Queue ``refusal`` after the ones already scripted."""
        with self._lock:
            self.scripts.append(refusal)

    def take(self, operation: str) -> ScriptedRefusal | None:
        """The refusal for one request of ``operation`` (consuming one of its count), or ``None``."""
        with self._lock:
            for index, refusal in enumerate(self.scripts):
                if refusal.operations is None or operation in refusal.operations:
                    if refusal.remaining is not None:
                        refusal.remaining -= 1
                        if refusal.remaining == 0:
                            del self.scripts[index]
                    return refusal
        return None

    def clear(self) -> None:
        """Forget every scripted refusal."""
        with self._lock:
            self.scripts.clear()
