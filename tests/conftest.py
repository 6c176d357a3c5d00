"""Suite-wide safety and the shared emulator.

- Fake AWS credentials, no profiles, no instance metadata: nothing can sign as a real identity.
- A network guard: any connection (or DNS lookup) to a non-loopback address fails the test at once
  with a clear error, so a missing emulator registration can never reach AWS or hang on a timeout.
- One emulator server per session (a real HTTP server in its own process); each test that asks for
  ``emulator`` gets it reset, with call-driven transitions (each GetWorkflowRun advances a run).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.emulator_conn import emulator_conn_env
from tests.network_guard import install_network_guard

REPO_ROOT = Path(__file__).resolve().parent.parent

# Airflow reads its configuration at first import: point it at a throw-away home and SQLite DB
# before anything imports airflow. The DAGs folder is tests/dags so dag.test() can run triggers inline.
_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="mwaas-airflow-home-"))
os.environ.update(
    {
        "AIRFLOW_HOME": str(_AIRFLOW_HOME),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_AIRFLOW_HOME / 'airflow.db'}",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "tests" / "dags"),
    }
)

FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}
for _name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_ROLE_ARN"):
    os.environ.pop(_name, None)
os.environ.update(FAKE_AWS_ENV)
# Workflows executed by the emulator's executing mode run in subprocesses the guard below cannot
# reach: their runner refuses non-loopback connections itself when this is set.
os.environ["MWAAS_EXECUTION_LOOPBACK_ONLY"] = "1"
# dag-factory (the emulator-execute extra) registers an Airflow plugin that sends usage telemetry to
# an outside host after each run of a dag-factory DAG: off in every process the suite starts.
os.environ.update({"AIRFLOW__DAG_FACTORY__ENABLE_TELEMETRY": "False", "DO_NOT_TRACK": "1", "SCARF_NO_ANALYTICS": "1"})


# The network guard (also installed by the subprocesses tests start themselves: tests/openlineage).
install_network_guard()


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[Any]:
    """One MWAA Serverless emulator server (subprocess, real HTTP) for the whole session."""
    from airflow_provider_mwaas.emulator import EmulatorServer

    with EmulatorServer(host="127.0.0.1", port=0, transitions="call") as server:
        yield server


@pytest.fixture
def emulator(emulator_server: Any) -> Any:
    """The session's emulator, reset, with call-driven transitions."""
    emulator_server.control.reset()
    emulator_server.control.configure_transitions(mode="call", calls_per_state=1)
    return emulator_server


@pytest.fixture
def workflow_arn(emulator: Any) -> str:
    """A fresh workflow (three tasks) in the emulator."""
    return emulator.control.create_workflow(name="orders")


@pytest.fixture
def aws_conn_env(emulator: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """An ``aws`` connection ``mwaa_serverless_default`` pointing at the emulator (env-defined)."""
    for name, value in emulator_conn_env(emulator.url).items():
        monkeypatch.setenv(name, value)
    return "mwaa_serverless_default"


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """A migrated Airflow metadata DB (SQLite, in the session's throw-away AIRFLOW_HOME)."""
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        check=True,
        capture_output=True,
        env=os.environ.copy(),
        timeout=300,
    )
    return _AIRFLOW_HOME


# Long stack scenarios (marker ``long``: the soak, the fleet, the executed-workflow e2e, ...) run in
# ``./scripts/test-long`` (and so in CI), not in the README's ``./scripts/test``, which keeps it near 15
# minutes on 2 cores. ``--long`` (what test-long passes) or ``MWAAS_LONG=1`` selects them here too.
def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--long", action="store_true", help="also run the long stack scenarios (marker 'long')")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--long") or os.environ.get("MWAAS_LONG") == "1":
        return
    long, kept = [], []
    for item in items:
        (long if item.get_closest_marker("long") else kept).append(item)
    if long:
        config.hook.pytest_deselected(items=long)
        items[:] = kept
