"""The installed botocore model of ``mwaa-serverless``: the one place the provider and the emulator read it from.

botocore is imported lazily: operators import the service layer at DAG-parse time.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from botocore.model import ServiceModel, Shape

SERVICE_NAME = "mwaa-serverless"

#: ``ValidationException.Reason`` values (botocore shape ``ValidationExceptionReason``).
REASON_FIELD_VALIDATION_FAILED = "fieldValidationFailed"
REASON_CANNOT_PARSE = "cannotParse"
REASON_UNKNOWN_OPERATION = "unknownOperation"
REASON_OTHER = "other"


@lru_cache(maxsize=1)
def service_model() -> ServiceModel:
    """The installed botocore model of the service (cached)."""
    import botocore.session

    return botocore.session.get_session().get_service_model(SERVICE_NAME)


@lru_cache(maxsize=1)
def fault_error_codes() -> frozenset[str]:
    """Error shapes the model marks ``"fault": true`` (server-side errors, sent with HTTP 5xx).

    botocore's ``Shape.metadata`` drops the ``fault`` flag, so this reads the raw model.
    """
    import botocore.session

    loader = botocore.session.get_session().get_component("data_loader")
    raw = loader.load_service_model(SERVICE_NAME, "service-2", service_model().api_version)
    return frozenset(name for name, shape in raw["shapes"].items() if shape.get("exception") and shape.get("fault"))


def operation_names() -> list[str]:
    """Every operation of the installed model, e.g. ``["CreateWorkflow", ...]``."""
    return list(service_model().operation_names)


def input_member(operation_name: str, member: str) -> Shape:
    """The shape of input member ``member`` of ``operation_name`` (e.g. ``StartWorkflowRun``, ``ClientToken``)."""
    shape = service_model().operation_model(operation_name).input_shape
    assert shape is not None
    return shape.members[member]


def is_known_operation(operation_name: str) -> bool:
    """Whether the installed model has this operation."""
    from botocore.model import OperationNotFoundError

    try:
        service_model().operation_model(operation_name)
    except OperationNotFoundError:
        return False
    return True
