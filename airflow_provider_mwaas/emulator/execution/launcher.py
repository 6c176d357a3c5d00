"""One workflow run executing in a local Airflow subprocess, watched from a thread of the emulator.

The thread prepares the run's folder (definition, ``Code`` package, loader, Airflow home), starts
:mod:`.runner` in a new session, follows its events file (``loaded`` -> the run is RUNNING) and, when
the process ends, reports the end state, the task instances and the error to the run, publishes each
task's log to the emulator's CloudWatch Logs (moto) and deletes the folder. :meth:`Execution.stop`
kills the process and everything it started (tasks may start their own sessions, e.g. BashOperator).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .environment import airflow_env, new_home, parameter_environment
from .records import TaskRecord, read_run_state, read_task_records, split_task_logs
from .runner import LOADER_TEMPLATE

#: Seconds between SIGTERM and SIGKILL of a stopped execution.
STOP_GRACE_SECONDS = 5.0
_POLL_SECONDS = 0.2


@dataclass
class ExecutionRequest:
    """What one execution runs.

    :param workflow_name: the workflow's name (also the ``mwaa_serverless_workflow_id`` param).
    :param definition: the version's YAML, as snapshotted when the version was made.
    :param code: the version's ``Code`` package (a zip archive), if it has one.
    :param override_parameters: the run's OverrideParameters (environment variables and DAG params).
    :param endpoint_url: the emulator's URL, for every AWS client inside the workflow.
    :param region: the workflow's region.
    """

    workflow_name: str
    definition: bytes
    code: bytes | None
    override_parameters: dict[str, Any] = field(default_factory=dict)
    endpoint_url: str = ""
    region: str = "us-east-1"


@dataclass
class ExecutionResult:
    """How an execution ended.

    :param state: the run's end state (``SUCCESS``, ``FAILED`` or ``STOPPED``).
    :param error_message: why it failed (``None`` on success).
    :param tasks: the task instances as the local Airflow left them.
    :param logs: each task's log lines.
    :param task_errors: each failed task's error.
    """

    state: str
    error_message: str | None
    tasks: list[TaskRecord]
    logs: dict[str, list[str]]
    task_errors: dict[str, str]


class Execution:
    """Run :class:`ExecutionRequest` in a subprocess; report through ``on_state`` and ``on_end``.

    :param request: what to run.
    :param on_state: called with ``"QUEUED"`` (process starting) and ``"RUNNING"`` (DAG built).
    :param on_end: called once with the :class:`ExecutionResult`.
    """

    def __init__(
        self,
        request: ExecutionRequest,
        on_state: Callable[[str], None],
        on_end: Callable[[ExecutionResult], None],
    ):
        self.request = request
        self._on_state = on_state
        self._on_end = on_end
        self.root = Path(tempfile.mkdtemp(prefix="mwaas-execution-"))
        self.home = self.root / "airflow"
        self.process: subprocess.Popen[bytes] | None = None
        self.task_errors: dict[str, str] = {}
        self._stop_requested = threading.Event()
        self._events_read = 0
        self._thread = threading.Thread(target=self._main, name="mwaas-execution", daemon=True)

    @property
    def pid(self) -> int | None:
        """The runner process id, once started."""
        return self.process.pid if self.process is not None else None

    def start(self) -> Execution:
        """Start the watching thread (it starts the process)."""
        self._thread.start()
        return self

    def join(self, timeout: float | None = None) -> None:
        """Wait for the execution to end."""
        self._thread.join(timeout)

    def live_tasks(self) -> list[TaskRecord]:
        """The task instances as the local Airflow has them now."""
        return read_task_records(self.home / "airflow.db")

    def stop(self) -> None:
        """Kill the process and all it started: SIGTERM, then SIGKILL after :data:`STOP_GRACE_SECONDS`."""
        self._stop_requested.set()
        process = self.process
        if process is None or process.poll() is not None:
            return
        _signal_tree(process.pid, signal.SIGTERM)
        threading.Timer(STOP_GRACE_SECONDS, _signal_tree, (process.pid, signal.SIGKILL)).start()

    # -- the watching thread ---------------------------------------------------------------------------

    def _main(self) -> None:
        output = self.root / "output.log"
        try:
            self._on_state("QUEUED")
            loader = self._prepare()
            if self._stop_requested.is_set():
                self._on_end(ExecutionResult("STOPPED", "Run stopped by StopWorkflowRun", [], {}, {}))
                return
            with output.open("wb") as out:
                self.process = subprocess.Popen(
                    [sys.executable, "-m", "airflow_provider_mwaas.emulator.execution.runner"],
                    stdin=subprocess.PIPE,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=self._environment(),
                    cwd=self.root,
                    start_new_session=True,
                )
                self._send_spec(loader)
                if self._stop_requested.is_set():  # a stop that came while the process was starting
                    self.stop()
                while self.process.poll() is None:
                    self._read_events()
                    self._stop_requested.wait(_POLL_SECONDS)
            self._read_events()
            self._on_end(self._result(output.read_text("utf-8", errors="replace")))
        except Exception as err:  # the emulator must survive whatever the workflow does
            self._on_end(ExecutionResult("FAILED", f"The emulator could not execute the workflow: {err}", [], {}, {}))
        finally:
            if not os.environ.get("MWAAS_EXECUTION_KEEP"):
                shutil.rmtree(self.root, ignore_errors=True)

    def _prepare(self) -> Path:
        home = new_home(self.root)
        definition = home / "dags" / "workflow.yaml"
        definition.write_bytes(self.request.definition)
        if self.request.code is not None:
            with zipfile.ZipFile(io.BytesIO(self.request.code)) as archive:
                _safe_extract(archive, self.root / "code")
        loader = home / "dags" / "workflow_loader.py"
        loader.write_text(LOADER_TEMPLATE.format(definition=str(definition)), "utf-8")
        return loader

    def _environment(self) -> dict[str, str]:
        code = [self.root / "code"] if self.request.code is not None else []
        env = airflow_env(self.home, self.request.endpoint_url, self.request.region, code)
        env.update(parameter_environment(self.request.override_parameters))
        return env

    def _send_spec(self, loader: Path) -> None:
        # The parameters travel on the pipe only: we never write override values to a file.
        conf = {"mwaa_serverless_workflow_id": self.request.workflow_name, **self.request.override_parameters}
        spec = {"loader": str(loader), "events": str(self.root / "events.jsonl"), "conf": conf}
        assert self.process is not None and self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(spec).encode("utf-8"))
            self.process.stdin.close()
        except BrokenPipeError:  # the process died at start: its output says why
            pass

    def _read_events(self) -> None:
        path = self.root / "events.jsonl"
        if not path.exists():
            return
        lines = path.read_text("utf-8").splitlines()
        for line in lines[self._events_read :]:
            try:
                event = json.loads(line)
            except ValueError:  # a line being written: read it next time
                return
            self._events_read += 1
            if event.get("event") == "loaded":
                self._on_state("RUNNING")
            elif event.get("event") == "task_failed":
                self.task_errors.setdefault(str(event.get("task_id")), str(event.get("error")))

    def _result(self, output: str) -> ExecutionResult:
        tasks = self.live_tasks()
        logs = split_task_logs(output)
        if self._stop_requested.is_set():
            from airflow_provider_mwaas.emulator.models import utcnow

            now = utcnow()
            return ExecutionResult(
                "STOPPED", "Run stopped by StopWorkflowRun", [t.cancelled(now) for t in tasks], logs, self.task_errors
            )
        if read_run_state(self.home / "airflow.db") == "success" and self.process and self.process.returncode == 0:
            return ExecutionResult("SUCCESS", None, tasks, logs, self.task_errors)
        if self.task_errors:
            task_id, error = next(iter(self.task_errors.items()))
            message = f"Task {task_id} failed: {error}"
        else:
            tail = [line for line in output.splitlines() if line.strip()][-1:] or ["no output"]
            message = f"The workflow could not run: {tail[0].strip()}"
        return ExecutionResult("FAILED", message, tasks, logs, self.task_errors)


def _signal_tree(pid: int, sig: signal.Signals) -> None:
    """Signal ``pid``'s process group and every descendant (tasks may have started their own sessions)."""
    import psutil  # an Airflow dependency

    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        children = []
    for target in (pid, *(child.pid for child in children)):
        try:
            os.killpg(target, sig) if target == pid else os.kill(target, sig)
        except (ProcessLookupError, PermissionError):
            continue


def _safe_extract(archive: zipfile.ZipFile, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    root = target.resolve()
    for member in archive.infolist():
        destination = (target / member.filename).resolve()
        if root not in destination.parents and destination != root:
            raise ValueError(f"Code package member {member.filename!r} would be written outside its folder")
    archive.extractall(target)
