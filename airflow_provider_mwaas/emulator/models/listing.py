"""``ListWorkflowRuns`` pages in O(page): each workflow's runs kept in creation order, a page sliced from its token.

Sorting every run of the backend for each page cost O(N) per page and O(N²/100) for a walk of every page.
Here each workflow (and each of its versions, for the ``WorkflowVersion`` filter) keeps its runs in an
append-only list in creation order: runs are created under the backend's lock, in ``sequence`` order, and
never removed. The token's run is found by bisection on ``sequence``, and the page is the slice from it.

moto's ``Paginator`` still does what it did: it checks the token (form and parameter checksum), finds the
page's first run at the start of the slice, cuts the page and makes the next token (the next page's first
run's id). It is only given the slice instead of every run.
"""

from __future__ import annotations

import random
from bisect import bisect_left
from collections.abc import Mapping
from operator import attrgetter
from typing import TYPE_CHECKING

from moto.utilities.paginator import Paginator

from .shapes import PAGINATION_MODEL, page_token

if TYPE_CHECKING:
    from .run import WorkflowRun

_SEQUENCE = attrgetter("sequence")
_CONFIG = PAGINATION_MODEL["list_workflow_runs"]


class RunIndex:
    """The runs of each workflow, and of each (workflow, version), oldest first."""

    def __init__(self) -> None:
        self._runs: dict[tuple[str, str | None], list[WorkflowRun]] = {}

    def add(self, run: WorkflowRun) -> None:
        """Index a new run (the backend adds them in ``sequence`` order, under its lock)."""
        for key in ((run.workflow_arn, None), (run.workflow_arn, run.workflow_version)):
            self._runs.setdefault(key, []).append(run)

    def page(
        self,
        workflow_arn: str,
        workflow_version: str | None,
        order: str,
        max_results: int | None,
        next_token: str | None,
        by_id: Mapping[str, WorkflowRun],
    ) -> tuple[list[WorkflowRun], str | None]:
        """One ``ListWorkflowRuns`` page and the next page's token.

        :param workflow_arn: the workflow.
        :param workflow_version: only this version's runs (``None``: every run of the workflow).
        :param order: ``newest`` first, ``oldest`` first or ``shuffled`` (``ServiceAssumptions.listing_order``).
        :param max_results: the page size (``None``: the default).
        :param next_token: the previous page's ``NextToken``.
        :param by_id: the backend's runs by id (the token names the page's first run).
        :raises InvalidToken: ``next_token`` is not a token of this query, or its run is not listed here.
        """
        paginator = Paginator(
            max_results=max_results,
            max_results_default=_CONFIG["limit_default"],
            starting_token=next_token,
            unique_attribute=_CONFIG["unique_attribute"],
            param_values_to_check={"workflow_arn": workflow_arn, "workflow_version": workflow_version},
        )
        runs = self._runs.get((workflow_arn, workflow_version), [])
        if order == "shuffled":
            # A shuffle has no position to slice from: the Paginator looks for the token's run in all of them.
            return paginator.paginate(_shuffled(runs))
        if next_token is None:
            start: int | None = len(runs) - 1 if order == "newest" else 0
        else:
            start = _position(runs, by_id.get(page_token(next_token)["uniqueAttributes"]))
        if start is None:  # a token of this query whose run is not listed here
            return paginator.paginate([])  # raises InvalidToken
        size = (max_results or _CONFIG["limit_default"]) + 1  # the page, and the next page's first run
        window = runs[max(0, start - size + 1) : start + 1][::-1] if order == "newest" else runs[start : start + size]
        return paginator.paginate(window)


def _position(runs: list[WorkflowRun], run: WorkflowRun | None) -> int | None:
    """Where ``run`` is in ``runs`` (sorted by ``sequence``); ``None`` when it is not there."""
    if run is None:
        return None
    at = bisect_left(runs, run.sequence, key=_SEQUENCE)
    return at if at < len(runs) and runs[at] is run else None


def _shuffled(runs: list[WorkflowRun]) -> list[WorkflowRun]:
    """The ``shuffled`` listing order: the same order for the same number of runs (reproducible tests)."""
    shuffled = runs[::-1]
    random.Random(len(shuffled)).shuffle(shuffled)  # noqa: S311 - reproducible test order, not security
    return shuffled
