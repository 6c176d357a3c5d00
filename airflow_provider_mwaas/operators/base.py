"""The base of the provider's operators: the AWS connection parameters, templated, and a lazy hook."""

from __future__ import annotations

from typing import Any

from airflow_provider_mwaas.hooks.aws_params import DEFAULT_CONN_ID, MwaaServerlessHookMixin
from airflow_provider_mwaas.version_compat import BaseOperator


class MwaaServerlessBaseOperator(MwaaServerlessHookMixin, BaseOperator):
    """Takes ``aws_conn_id``, ``region_name``, ``verify`` and ``botocore_config`` once for every operator.

    They sit in this ``BaseOperator`` subclass's own signature so that Airflow applies them from
    ``default_args`` (e.g. one ``aws_conn_id`` for a whole DAG). Subclasses add them to
    ``template_fields`` with :func:`~airflow_provider_mwaas.hooks.aws_params.aws_template_fields`.

    :param aws_conn_id: the Airflow connection (``aws`` or ``mwaa_serverless`` type); ``None`` uses
        boto3's default credential chain. (templated)
    :param region_name: AWS region, overriding the connection's. (templated)
    :param verify: TLS verification (``False`` or a CA bundle path), overriding the connection's. (templated)
    :param botocore_config: ``botocore.config.Config`` arguments as a dict (retries, timeouts). (templated)
    """

    ui_color = "#ff9900"

    def __init__(
        self,
        *,
        aws_conn_id: str | None = DEFAULT_CONN_ID,
        region_name: str | None = None,
        verify: bool | str | None = None,
        botocore_config: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._init_aws_params(aws_conn_id, region_name, verify, botocore_config)
