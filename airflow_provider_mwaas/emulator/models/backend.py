"""The emulated service for one account and region, composed of its resources' operations.

Laid out like a moto service (``moto/<service>/models.py``): a ``BaseBackend`` per account and region
in a ``BackendDict`` named ``mwaaserverless_backends``, which is what ``moto.backends.get_backend``
looks for (see :mod:`..registration`). Backend methods return plain dicts keyed like the wire shapes;
the responses layer only wraps them.
"""

from __future__ import annotations

import itertools
import threading
from datetime import timedelta
from typing import Any

import boto3
from moto.core.base_backend import BackendDict, BaseBackend
from moto.moto_api._internal import mock_random

from airflow_provider_mwaas.service.model import service_model

from .listing import RunIndex
from .run import WorkflowRun
from .runs import RunsMixin
from .shapes import SERVICE_PREFIX, utcnow
from .tags import TagsMixin
from .task_instances import TaskInstancesMixin
from .versions import VersionsMixin
from .workflows import Workflow, WorkflowsMixin


class MWAAServerlessBackend(WorkflowsMixin, VersionsMixin, RunsMixin, TaskInstancesMixin, TagsMixin, BaseBackend):
    """MWAA Serverless for one account and region."""

    def __init__(self, region_name: str, account_id: str):
        super().__init__(region_name, account_id)
        self.workflows: dict[str, Workflow] = {}
        self.runs: dict[str, WorkflowRun] = {}
        self.run_index = RunIndex()
        self.run_tokens: dict[tuple[str, str], str] = {}
        self._sequence = itertools.count()
        self._lock = threading.RLock()

    @property
    def _url_module(self) -> Any:
        # moto's BaseBackend finds a service's urls module by rewriting its module name (moto.x.models ->
        # moto.x.urls); this backend lives in models/backend.py, so name the module here.
        from .. import urls

        return urls

    # -- UI (botocore >= 1.44) -------------------------------------------------------------------

    def create_airflow_ui_url(self, params: dict[str, Any]) -> dict[str, Any]:
        """``CreateAirflowUiUrl`` when the installed model has it: members filled from its output shape.

        The URL is not a working Airflow UI; it only has the right shape and lifetime.
        """
        now = utcnow()
        expires = now + timedelta(seconds=int(params.get("ExpiresInSeconds") or 300))
        session_end = now + timedelta(seconds=int(params.get("SessionDurationInSeconds") or 43200))
        url = f"https://{self.region_name}.{SERVICE_PREFIX}.emulator.invalid/ui/launch?token={mock_random.uuid4().hex}"
        output = service_model().operation_model("CreateAirflowUiUrl").output_shape
        result: dict[str, Any] = {}
        for name, shape in output.members.items() if output is not None else []:  # type: ignore[attr-defined]
            if shape.type_name == "string" and "url" in name.lower():
                result[name] = url
            elif shape.type_name == "timestamp":
                result[name] = session_end if "session" in name.lower() else expires
        return result


def _regions() -> list[str]:
    # botocore has no endpoints.json entry for the service (get_available_regions() is empty), so
    # moto would create no backend at all: offer every region of every partition instead.
    session = boto3.Session()
    regions: set[str] = set()
    for partition in session.get_available_partitions():
        regions.update(session.get_available_regions("ec2", partition_name=partition))
    return sorted(regions)


mwaaserverless_backends = BackendDict(
    MWAAServerlessBackend, "mwaa-serverless", use_boto3_regions=False, additional_regions=_regions()
)
