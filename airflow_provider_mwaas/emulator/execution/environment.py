"""The local Airflow a workflow run executes in: its environment, home folder and metadata database.

Each run gets a throw-away ``AIRFLOW_HOME`` with a SQLite database copied from a template that is
migrated once per Airflow version (``airflow db migrate`` takes seconds; a copy takes milliseconds) and
cached under ``$XDG_CACHE_HOME/airflow-provider-mwaas`` (override: ``MWAAS_EXECUTION_CACHE``).

The environment is built from scratch for Airflow and AWS: nothing of the caller's ``AIRFLOW__*`` or
``AWS_*`` settings leaks in (a test's Airflow home, a user's real profile), AWS clients inside the
workflow reach the emulator's own endpoint (moto's S3, IAM, STS...), and dag-factory's usage telemetry
is switched off (it would call an outside host after every run).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

#: dag-factory reads ``[dag_factory] enable_telemetry`` and the two opt-out variables every tool honours.
TELEMETRY_OFF = {
    "AIRFLOW__DAG_FACTORY__ENABLE_TELEMETRY": "False",
    "DO_NOT_TRACK": "1",
    "SCARF_NO_ANALYTICS": "1",
}
#: moto accepts any credentials; these sign requests to the emulator only.
EMULATOR_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
_DROPPED_PREFIXES = ("AIRFLOW_", "AWS_", "_AIRFLOW")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def airflow_env(home: Path, endpoint_url: str, region: str, extra_path: list[Path]) -> dict[str, str]:
    """The subprocess environment of one execution.

    :param home: the run's ``AIRFLOW_HOME`` (holds ``airflow.db`` and ``dags/``).
    :param endpoint_url: the emulator's URL; every AWS client of the workflow uses it.
    :param region: the workflow's region.
    :param extra_path: folders put first on ``PYTHONPATH`` (the workflow's ``Code`` package).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(_DROPPED_PREFIXES)}
    env.update(TELEMETRY_OFF)
    env.update(EMULATOR_CREDENTIALS)
    # Amazon operators use the ``aws_default`` connection; boto3 itself honours AWS_ENDPOINT_URL.
    connection = {"conn_type": "aws", "extra": {"endpoint_url": endpoint_url, "region_name": region}}
    env.update(
        {
            "AWS_DEFAULT_REGION": region,
            "AWS_REGION": region,
            "AWS_ENDPOINT_URL": endpoint_url,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(connection),
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
            "PYTHONUNBUFFERED": "1",
            "PYTHONWARNINGS": "ignore::DeprecationWarning",
        }
    )
    # The workflow's code first, then this package (the runner is part of it), then the caller's path.
    own_root = Path(__file__).resolve().parents[3]
    path = [str(p) for p in extra_path] + [str(own_root)]
    if os.environ.get("PYTHONPATH"):
        path.append(os.environ["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(path)
    return env


def parameter_environment(override_parameters: dict[str, Any]) -> dict[str, str]:
    """OverrideParameters as environment variables of the tasks (the service's documented behaviour).

    Strings go as they are, anything else as JSON; a name that cannot be an environment variable is
    left out (it still reaches the run as a DAG param).
    """
    return {
        name: value if isinstance(value, str) else json.dumps(value)
        for name, value in override_parameters.items()
        if _ENV_NAME.fullmatch(name)
    }


def cache_dir() -> Path:
    """Where migrated template databases are kept."""
    explicit = os.environ.get("MWAAS_EXECUTION_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "airflow-provider-mwaas"


def template_database() -> Path:
    """A migrated, empty Airflow metadata database for the installed Airflow (made once, then cached).

    Several emulators may start at once: a file lock makes one of them migrate and the others wait.
    """
    from airflow_provider_mwaas.emulator.execution.versions import airflow_version

    folder = cache_dir() / f"airflow-{airflow_version()}"
    target = folder / "airflow.db"
    if target.exists():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.exists():
            return target
        staging = folder / "staging"
        shutil.rmtree(staging, ignore_errors=True)
        (staging / "dags").mkdir(parents=True)
        env = airflow_env(staging, "http://127.0.0.1:9", "us-east-1", [])
        result = subprocess.run(
            [sys.executable, "-m", "airflow", "db", "migrate"],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"airflow db migrate failed for the execution template:\n{result.stderr[-4000:]}")
        os.replace(staging / "airflow.db", target)
        shutil.rmtree(staging, ignore_errors=True)
    return target


def new_home(root: Path) -> Path:
    """A fresh ``AIRFLOW_HOME`` under ``root`` with a copy of the template database and a ``dags/`` folder."""
    home = root / "airflow"
    (home / "dags").mkdir(parents=True)
    (home / "logs").mkdir()
    shutil.copyfile(template_database(), home / "airflow.db")
    return home
