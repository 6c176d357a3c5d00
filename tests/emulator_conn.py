"""The Airflow connection every test process uses to reach the emulator, as the environment variable."""

from __future__ import annotations

import json
from typing import Any

DEFAULT_CONN_ID = "mwaa_serverless_default"


def emulator_conn_env(
    url: str, conn_id: str = DEFAULT_CONN_ID, password: str = "testing", **extra: Any
) -> dict[str, str]:
    """``{"AIRFLOW_CONN_<ID>": ...}``: an ``aws`` connection to the emulator at ``url`` (us-east-1).

    :param url: the emulator's endpoint URL.
    :param conn_id: the connection id.
    :param password: the secret access key (the hygiene test plants a secret here).
    :param extra: more connection extras (``config_kwargs``, ``aws_session_token``).
    """
    conn = {
        "conn_type": "aws",
        "login": "testing",
        "password": password,
        "extra": {"region_name": "us-east-1", "endpoint_url": url, **extra},
    }
    return {f"AIRFLOW_CONN_{conn_id.upper()}": json.dumps(conn)}
