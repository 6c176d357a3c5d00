"""An opt-in for triggerers that hold thousands of waits: ``[mwaas] triggerer_gc_freeze``.

CPython (3.11 to 3.13) runs a full collection each time its heap of tracked objects grows by a quarter,
and a full collection walks every tracked object while the event loop waits. In a triggerer the imports
alone are about 200,000 objects (Airflow, the triggerer, botocore): a full collection of them takes about
50 ms here, so 10,000 triggers arriving together (a restart, a takeover) hold every trigger's loop for
50 to 100 ms a few times. ``gc.freeze()`` moves every object alive at that moment to a permanent
generation that collections skip (O(1): no pause of its own); it is done once per process, when the
first wait of this provider takes a client, before any wait's objects exist. The cost: reference cycles
among the frozen objects are never collected (they were the process's imports and settings, alive for
good). See docs/performance.md, "Sizing guide".
"""

from __future__ import annotations

import gc
import logging

_log = logging.getLogger(__name__)
_decided = False  # per process: a forked child decides again (its parent never ran a wait)


def freeze_imports_once() -> None:
    """``gc.freeze()`` once per process when ``[mwaas] triggerer_gc_freeze`` is ``True``; else nothing."""
    global _decided
    if _decided:
        return
    _decided = True
    from airflow.configuration import conf

    if not conf.getboolean("mwaas", "triggerer_gc_freeze", fallback=False):
        return
    gc.freeze()
    _log.info(
        "[mwaas] triggerer_gc_freeze: %d objects taken out of the garbage collector's full collections",
        gc.get_freeze_count(),
    )
