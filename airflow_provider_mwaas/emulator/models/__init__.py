"""The emulated service's state, by resource (laid out like a moto service's ``models``).

``moto.backends.get_backend("mwaaserverless")`` reads ``mwaaserverless_backends`` from this package
(:mod:`..registration` aliases it as ``moto.mwaaserverless``).
"""

from __future__ import annotations

from .backend import MWAAServerlessBackend, mwaaserverless_backends
from .run import WorkflowRun
from .shapes import IN_FLIGHT, PAGINATION_MODEL, SERVICE_PREFIX, TERMINAL, page_token, random_alnum, utcnow
from .versions import WorkflowVersion
from .workflows import Workflow

__all__ = [
    "IN_FLIGHT",
    "PAGINATION_MODEL",
    "SERVICE_PREFIX",
    "TERMINAL",
    "MWAAServerlessBackend",
    "Workflow",
    "WorkflowRun",
    "WorkflowVersion",
    "mwaaserverless_backends",
    "page_token",
    "random_alnum",
    "utcnow",
]
