"""Tags of a workflow: ``TagResource``, ``UntagResource``, ``ListTagsForResource``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_mwaas.service.model import REASON_OTHER

from ..exceptions import ValidationException

if TYPE_CHECKING:
    from .workflows import Workflow


class TagsMixin:
    """The backend's tag operations."""

    if TYPE_CHECKING:

        def _workflow(self, arn: str) -> Workflow: ...

    def tag_resource(self, arn: str, tags: dict[str, str]) -> None:
        """``TagResource``."""
        workflow = self._workflow(arn)
        if len({**workflow.tags, **tags}) > 50:
            raise ValidationException(
                "A resource can have at most 50 tags", REASON_OTHER, [{"Name": "Tags", "Message": "Too many tags"}]
            )
        workflow.tags.update(tags)

    def untag_resource(self, arn: str, tag_keys: list[str]) -> None:
        """``UntagResource``."""
        workflow = self._workflow(arn)
        for key in tag_keys:
            workflow.tags.pop(key, None)

    def list_tags_for_resource(self, arn: str) -> dict[str, str]:
        """``ListTagsForResource``."""
        return dict(self._workflow(arn).tags)
