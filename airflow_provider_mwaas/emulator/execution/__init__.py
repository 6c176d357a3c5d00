"""Executing emulator mode: workflow runs executed for real by a local Airflow with dag-factory.

Opt-in: ``python -m airflow_provider_mwaas.emulator --execute`` or ``mock_mwaa_serverless(execute=True)``
(install the ``emulator-execute`` extra for dag-factory). StartWorkflowRun then loads the version's YAML
(snapshotted from the emulator's S3 when the version was made) with dag-factory, as MWAA Serverless
does, and runs it in a subprocess local Airflow (``dag.test()`` on a throw-away SQLite home): run
state, task instances, ErrorMessage and task logs (in the emulator's CloudWatch Logs) come from that
execution; StopWorkflowRun kills it. OverrideParameters reach the tasks as environment variables and
as DAG params (the service's documentation); the workflow's ``Code`` package is on their path; AWS
clients inside the workflow talk to the emulator (moto's S3 and every other moto service).

Without the switch nothing here is imported and runs follow the scripted transitions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .run import ExecutedRun


@dataclass(frozen=True)
class WorkflowExecutor:
    """The emulator's switch into executing mode: where the workflows' AWS clients must go.

    :param endpoint_url: the emulator's own URL (reachable from a subprocess on this machine).
    """

    endpoint_url: str
    #: Every run started, so that stopping the emulator stops their executions too.
    runs: list[Any] = field(default_factory=list, compare=False, repr=False)

    def start_run(self, backend: Any, start: Any) -> ExecutedRun:
        """Create the run ``start`` asks for and start executing it.

        :param backend: the MWAA Serverless backend (its account and region).
        :param start: the run's :class:`~..models.run.RunStart`.
        """
        from .run import ExecutedRun

        run = ExecutedRun(start, self.endpoint_url, backend.account_id, backend.region_name)
        run.execution.start()
        self.runs.append(run)
        return run

    def stop_all(self, timeout: float = 15.0) -> None:
        """Kill every execution still in flight and wait for them (the emulator is stopping)."""
        for run in self.runs:
            run.execution.stop()
        for run in self.runs:
            run.execution.join(timeout)


def loopback_url(server: Any) -> str:
    """The URL a subprocess on this machine reaches ``server`` (a werkzeug server) at."""
    host = server.host if server.host not in ("0.0.0.0", "::", "") else "127.0.0.1"  # noqa: S104
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{server.server_port}"


def start_executing(server: Any) -> WorkflowExecutor:
    """Switch the emulator served by ``server`` into executing mode.

    :raises RuntimeError: dag-factory or Airflow is not installed.
    """
    from airflow_provider_mwaas.emulator.state import STATE

    check_installed()
    STATE.executor = WorkflowExecutor(loopback_url(server))
    return STATE.executor


def stop_executing() -> None:
    """Back to scripted runs; executions still in flight are killed (no process outlives the emulator)."""
    from airflow_provider_mwaas.emulator.state import STATE

    executor, STATE.executor = STATE.executor, None
    if executor is not None:
        executor.stop_all()


def check_installed() -> None:
    """Refuse executing mode early when dag-factory or Airflow is missing (a clear message, not a failed run)."""
    from .versions import airflow_version, dag_factory_version

    airflow_version()
    dag_factory_version()


__all__ = ["WorkflowExecutor", "check_installed", "loopback_url", "start_executing", "stop_executing"]
