"""How runs move between states, configured through moto's ``state_manager``.

moto's ``ManagedState`` knows two progressions we use:

* ``call`` (moto's ``manual``): a run advances one state every ``calls_per_state`` reads of it
  (``GetWorkflowRun``, or ``ListWorkflowRuns`` listing it). Deterministic: the mode for tests.
* ``time``: a run advances one state every ``seconds_per_state`` seconds. The mode for demos.

Both can also be set with moto's own API (``/moto-api/state-manager/set-transition`` with
``model_name`` = :data:`RUN_MODEL`).
"""

from __future__ import annotations

from typing import Any

from moto.moto_api import state_manager

#: The model name runs register with moto's state manager.
RUN_MODEL = "mwaa-serverless::workflow-run"
TRANSITION_MODES = ("call", "time")
DEFAULT_SECONDS_PER_STATE = 2.0

# The default for a bare moto setup (server CLI, plain ``mock_aws``): demo-friendly, time-driven.
state_manager.register_default_transition(
    RUN_MODEL, transition={"progression": "time", "seconds": DEFAULT_SECONDS_PER_STATE}
)


def transition_config(mode: str, seconds_per_state: float, calls_per_state: int) -> dict[str, Any]:
    """moto's transition dict for one of our modes.

    :param mode: ``"call"`` or ``"time"``.
    :param seconds_per_state: seconds in each state (``time``).
    :param calls_per_state: reads of a run per state (``call``).
    :raises ValueError: unknown mode or non-positive duration.
    """
    if mode == "call":
        if int(calls_per_state) < 1:
            raise ValueError("calls_per_state must be at least 1")
        return {"progression": "manual", "times": int(calls_per_state)}
    if mode == "time":
        if float(seconds_per_state) < 0:
            raise ValueError("seconds_per_state must not be negative")
        return {"progression": "time", "seconds": float(seconds_per_state)}
    raise ValueError(f"transitions mode must be one of {TRANSITION_MODES}, got {mode!r}")


def configure_transitions(
    mode: str = "call", seconds_per_state: float = DEFAULT_SECONDS_PER_STATE, calls_per_state: int = 1
) -> None:
    """Set how runs progress from now on (applies to runs already in flight too).

    :param mode: ``"call"`` or ``"time"``.
    :param seconds_per_state: seconds in each state (``time``).
    :param calls_per_state: reads of a run per state (``call``).
    """
    state_manager.set_transition(RUN_MODEL, transition_config(mode, seconds_per_state, calls_per_state))


def reset_transitions() -> None:
    """Back to the registered default (time-driven, 2 s per state)."""
    state_manager.unset_transition(RUN_MODEL)


def current_transitions() -> dict[str, Any]:
    """The current setting as ``{"mode", "seconds_per_state", "calls_per_state"}``."""
    config = state_manager.get_transition(RUN_MODEL)
    if config.get("progression") == "manual":
        return {"mode": "call", "seconds_per_state": None, "calls_per_state": config.get("times", 1)}
    if config.get("progression") == "time":
        return {"mode": "time", "seconds_per_state": config.get("seconds"), "calls_per_state": None}
    return {"mode": str(config.get("progression")), "seconds_per_state": None, "calls_per_state": None}
