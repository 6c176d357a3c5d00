"""One object per running event loop and process: what the triggerer's triggers share.

The triggerer runs every trigger on one event loop; tests and ``dag.test()`` may run several loops, and a
forked process must not reuse its parent's clients. :class:`LoopLocal` keys by the loop (weakly, so a
closed loop's object goes with it) and by the process id. ``contextvars`` would not do: each trigger runs
in its own task, whose context is a copy.
"""

from __future__ import annotations

import asyncio
import os
import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class LoopLocal(Generic[T]):
    """The running event loop's ``T`` in this process, made by ``factory`` on first use.

    :param factory: builds a fresh ``T``.
    """

    def __init__(self, factory: Callable[[], T]) -> None:
        self._factory = factory
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[int, T]] = weakref.WeakKeyDictionary()

    def get(self) -> T:
        loop = asyncio.get_running_loop()
        found = self._by_loop.get(loop)
        if found is None or found[0] != os.getpid():
            found = self._by_loop[loop] = (os.getpid(), self._factory())
        return found[1]
