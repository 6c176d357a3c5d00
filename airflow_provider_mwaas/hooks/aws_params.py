"""AWS connection parameters shared by every operator and sensor, and carried whole into triggers.

Deliberately not built on the amazon provider's ``AwsBaseOperator``/``aws_template_fields``: those
modules import boto3 at import time, and our operators are imported at every DAG parse (see the
performance notes in the README). The hook is imported only when a task runs.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_mwaas.hooks.mwaa_serverless import MwaaServerlessHook

DEFAULT_CONN_ID = "aws_default"
AWS_TEMPLATE_FIELDS: tuple[str, ...] = ("aws_conn_id", "region_name", "verify", "botocore_config")


def aws_template_fields(*fields: str) -> tuple[str, ...]:
    """Return ``fields`` plus the AWS connection fields, sorted, for ``template_fields``."""
    return tuple(sorted({*fields, *AWS_TEMPLATE_FIELDS}))


class MwaaServerlessHookMixin:
    """Holds ``aws_conn_id``, ``region_name``, ``verify``, ``botocore_config`` and builds the hook lazily.

    :param aws_conn_id: the Airflow connection (``aws`` or ``mwaa_serverless`` type); ``None`` uses
        boto3's default credential chain.
    :param region_name: AWS region; overrides the connection's.
    :param verify: TLS verification (``False`` or a CA bundle path); overrides the connection's.
    :param botocore_config: a dict of ``botocore.config.Config`` arguments (e.g. retries, timeouts).
    """

    aws_conn_id: str | None
    region_name: str | None
    verify: bool | str | None
    botocore_config: dict[str, Any] | None

    def _init_aws_params(self, *params: Any) -> None:
        """Keep ``aws_conn_id, region_name, verify, botocore_config``, given in that order by the owner's
        ``__init__`` (whose signature carries them, so that Airflow applies them from ``default_args``)."""
        self.aws_conn_id, self.region_name, self.verify, self.botocore_config = params

    @property
    def hook_params(self) -> dict[str, Any]:
        """Every parameter the hook is built from; triggers carry exactly these (nothing secret)."""
        return {
            "aws_conn_id": self.aws_conn_id,
            "region_name": self.region_name,
            "verify": self.verify,
            "botocore_config": self.botocore_config,
        }

    @cached_property
    def hook(self) -> MwaaServerlessHook:
        """The hook, built on first use (at execute time, never at DAG parse)."""
        from airflow_provider_mwaas.hooks.mwaa_serverless import MwaaServerlessHook

        return MwaaServerlessHook.from_params(**self.hook_params)
