"""Service behaviour the API model does not document, modelled as switchable assumptions.

The botocore model says *that* ``ClientToken`` is an idempotency token and *what* the calls return; it
does not say how long the service remembers a token, what a repeated token returns after its run
ended, whether a ConflictException names the run, or in which order ``ListWorkflowRuns`` lists runs.
The emulator's defaults follow the usual AWS conventions (docs/emulator.md, "Assumptions"); each can be
switched so that a test shows what the provider does when the real service differs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

LISTING_ORDERS = ("newest", "oldest", "shuffled")


@dataclass
class ServiceAssumptions:
    """How the emulated service behaves where the model is silent.

    :param token_memory_seconds: how long after a run's creation its ClientToken is remembered
        (``None``: for ever); a forgotten token starts a new run.
    :param replay_ended_runs: a repeated token returns its run even after the run ended; ``False``
        starts a new run instead.
    :param conflict_names_run: a ConflictException for a reused token names the run in ``ResourceId``;
        ``False`` names the token instead (and the message does not mention the run).
    :param listing_order: ``ListWorkflowRuns`` order: ``newest`` first, ``oldest`` first or ``shuffled`` (the
        same order for the same number of runs); pages are cut in :mod:`.models.listing`.
    """

    token_memory_seconds: float | None = None
    replay_ended_runs: bool = True
    conflict_names_run: bool = True
    listing_order: str = "newest"

    def __post_init__(self) -> None:
        if self.token_memory_seconds is not None and not self.token_memory_seconds >= 0:
            raise ValueError(f"token_memory_seconds must be >= 0 or None, got {self.token_memory_seconds!r}")
        if self.listing_order not in LISTING_ORDERS:
            raise ValueError(f"listing_order must be one of {LISTING_ORDERS}, got {self.listing_order!r}")

    def updated(self, **changes: Any) -> ServiceAssumptions:
        """A copy with ``changes`` applied (unknown names refused)."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(f"Unknown assumption(s) {unknown}; known: {sorted(known)}")
        return ServiceAssumptions(**{**asdict(self), **changes})

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)

    def remembers(self, age_seconds: float, ended: bool) -> bool:
        """Whether a token whose run is ``age_seconds`` old (and ``ended`` or not) still replays."""
        if self.token_memory_seconds is not None and age_seconds > self.token_memory_seconds:
            return False
        return self.replay_ended_runs or not ended
