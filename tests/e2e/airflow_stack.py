"""A real Airflow 3 stack for end-to-end tests: api-server, scheduler, triggerer and dag-processor.

``AirflowStack`` builds a fresh ``AIRFLOW_HOME`` in a temporary directory (absolute-path SQLite DB,
LocalExecutor with parallelism 2) with a copy of a migrated empty database, starts the four components as
separate processes (each in its own process group, on free ports, sharing one JWT secret), waits until
``/api/v2/monitor/health`` reports every component healthy, and stops everything on exit -- also when
the body raised, in which case it prints the tail of each component's log first.

It talks to Airflow only over the public REST API (``GET /auth/token`` with the simple auth manager's
"all admins" mode), so it does not depend on Airflow internals beyond documented settings.

Usage::

    with AirflowStack(dag_files=[path], extra_env={"AIRFLOW_VAR_X": "1"}) as stack:
        stack.wait_for_dag("my_dag")
        run_id = stack.trigger_dag("my_dag")
        run = stack.wait_for_run("my_dag", run_id, timeout=120)

Facts this is built on: ``/work/shared/reference/airflow-recipes.md`` and ``docs/e2e.md``.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
from cryptography.fernet import Fernet

REPO_ROOT = Path(__file__).resolve().parents[2]

#: DAG run / task instance states after which nothing more happens on their own.
TERMINAL_RUN_STATES = frozenset({"success", "failed"})
TERMINAL_TI_STATES = frozenset({"success", "failed", "skipped", "upstream_failed", "removed"})

#: Components started by the stack, in start order.
COMPONENTS = ("api-server", "scheduler", "triggerer", "dag-processor")
#: Keys of ``/api/v2/monitor/health`` that must all say "healthy".
HEALTH_KEYS = ("metadatabase", "scheduler", "triggerer", "dag_processor")


class StackError(RuntimeError):
    """The stack could not be started, or a wait on it timed out."""


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1 (the usual small race applies)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def airflow_executable() -> list[str]:
    """The ``airflow`` CLI of the running interpreter's environment."""
    candidate = Path(sys.executable).parent / "airflow"
    if candidate.exists():
        return [str(candidate)]
    return [sys.executable, "-m", "airflow"]


def tail(path: Path, lines: int = 60) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"<cannot read {path}: {exc}>"
    return "\n".join(text.splitlines()[-lines:])


@dataclass
class Component:
    """One started Airflow process (its own session and process group: pgid == pid)."""

    name: str
    proc: subprocess.Popen
    log_path: Path
    #: Descendants seen while it ran, pid -> creation time; stop() kills the ones still alive (some leave
    #: the group). The creation time tells a descendant from a later process that reused its pid.
    seen_children: dict[int, float] = field(default_factory=dict)
    #: A triggerer's TriggererJob id, once known.
    job_id: int | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def remember_children(self) -> None:
        with contextlib.suppress(psutil.Error):
            for child in psutil.Process(self.pid).children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    self.seen_children[child.pid] = child.create_time()

    def send(self, sig: int) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)

    def stop(self, sig: int = signal.SIGTERM, grace: float = 20.0) -> None:
        """Signal the main process by pid, wait, then kill whatever is left of its group/children."""
        self.begin_stop(sig)
        self.finish_stop(grace)

    def begin_stop(self, sig: int = signal.SIGTERM) -> None:
        self.remember_children()
        self.send(sig)

    def finish_stop(self, grace: float = 20.0) -> None:
        try:
            self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.send(signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=10)
        self.kill_leftovers()

    def kill_leftovers(self) -> None:
        """SIGKILL leftovers: the process group (pgid == pid) and any remembered descendants."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        for pid in self._own_children():
            with contextlib.suppress(psutil.Error):
                psutil.Process(pid).kill()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if not any(_not_zombie(pid) for pid in self._own_children()):
                break
            time.sleep(0.1)

    def _own_children(self) -> list[int]:
        """The remembered descendants still running as themselves: a pid now held by another process (the
        pid space wraps: 32,768 in containers) is not ours to kill."""
        own = []
        for pid, created in self.seen_children.items():
            with contextlib.suppress(psutil.Error):
                if psutil.Process(pid).create_time() == created:
                    own.append(pid)
        return own


def _not_zombie(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


class AirflowStack:
    """Context manager running a real LocalExecutor Airflow stack on SQLite in a temporary home.

    :param dag_files: files copied into the stack's dags folder before anything starts.
    :param extra_env: environment for every component (connections, variables, settings); it wins
        over the stack's defaults, so a caller may override any ``AIRFLOW__*`` setting.
    :param home: use this directory as ``AIRFLOW_HOME`` (created; kept) instead of a temporary one.
    :param keep_home: do not delete the temporary home on exit (its path is printed).
    :param verbose: print progress lines (start, health, stop) to stderr.
    :param triggerers: triggerers to run (``triggerer``, ``triggerer-2``, ...; each its own log port).
    :param triggerer_capacity: ``[triggerer] capacity`` (``None``: Airflow's default).
    :param local_settings: source of an ``airflow_local_settings.py`` (cluster policies) written to
        ``$AIRFLOW_HOME/config`` before anything starts; ``None``: none.
    :param celery_broker_url: run the CeleryExecutor with this broker (and result backend: its db 1),
        and ``celery_workers`` workers (``celery-worker-1``, ...) of ``worker_concurrency`` slots each;
        ``None``: the LocalExecutor.
    """

    def __init__(
        self,
        dag_files: Iterable[str | os.PathLike[str]] = (),
        extra_env: Mapping[str, str] | None = None,
        *,
        home: str | os.PathLike[str] | None = None,
        keep_home: bool = False,
        parallelism: int = 2,
        triggerer_heartbeat: float = 1.0,
        triggerer_health_threshold: float = 8.0,
        start_timeout: float = 120.0,
        verbose: bool = True,
        triggerers: int = 1,
        triggerer_capacity: int | None = None,
        celery_broker_url: str | None = None,
        celery_workers: int = 2,
        worker_concurrency: int = 2,
        local_settings: str | None = None,
    ) -> None:
        self.dag_files = [Path(p) for p in dag_files]
        self.extra_env = dict(extra_env or {})
        self._home_arg = Path(home) if home else None
        self.keep_home = keep_home
        self.parallelism = parallelism
        self.triggerer_heartbeat = triggerer_heartbeat
        self.triggerer_health_threshold = triggerer_health_threshold
        self.start_timeout = start_timeout
        self.verbose = verbose
        self.triggerers = triggerers
        self.triggerer_capacity = triggerer_capacity
        self.celery_broker_url = celery_broker_url
        self.celery_workers = celery_workers if celery_broker_url else 0
        self.worker_concurrency = worker_concurrency
        self.local_settings = local_settings

        self.home: Path | None = None
        self.api_port = 0
        self.env: dict[str, str] = {}
        self.components: dict[str, Component] = {}
        #: Every component ever started (a restarted triggerer adds one), for cleanup and log dumps.
        self.all_components: list[Component] = []
        self._token: str | None = None
        self._client: httpx.Client | None = None
        self._restarts: dict[str, int] = {}

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def dags_folder(self) -> Path:
        assert self.home is not None
        return self.home / "dags"

    @property
    def component_log_dir(self) -> Path:
        assert self.home is not None
        return self.home / "component-logs"

    def _log(self, msg: str) -> None:
        if self.verbose:
            print(f"[airflow-stack] {msg}", file=sys.stderr, flush=True)

    def __enter__(self) -> AirflowStack:
        try:
            self.start()
        except BaseException:
            self.dump_logs()
            self.stop()
            raise
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.dump_logs()
        self.stop()

    def _build_env(self) -> dict[str, str]:
        assert self.home is not None
        env = {
            k: v
            for k, v in os.environ.items()
            # Isolation: no Airflow setting, connection or variable leaks in from the caller's shell.
            if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "AIRFLOW_VAR_")) and k != "AIRFLOW_HOME"
        }
        pythonpath = [str(REPO_ROOT)]
        if env.get("PYTHONPATH"):
            pythonpath.append(env["PYTHONPATH"])
        worker_port, trigger_port = free_port(), free_port()
        # dag-factory's plugin (emulator-execute extra) would send telemetry from every component.
        env["AIRFLOW__DAG_FACTORY__ENABLE_TELEMETRY"] = "False"
        env.update(
            {
                "AIRFLOW_HOME": str(self.home),
                "PYTHONPATH": os.pathsep.join(pythonpath),
                "PYTHONUNBUFFERED": "1",
                # Nothing may reach real AWS: fake credentials, no instance metadata lookups.
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_EC2_METADATA_DISABLED": "true",
                "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.home / 'airflow.db'}",
                "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                "AIRFLOW__CORE__PARALLELISM": str(self.parallelism),
                "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.base_url}/execution/",
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(self.api_port),
                "AIRFLOW__API__BASE_URL": self.base_url,
                "AIRFLOW__API__WORKERS": "1",
                "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
                "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(64),
                "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(worker_port),
                "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(trigger_port),
                "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(self.home / "logs"),
                "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_STORAGE_PATH": str(self.home / "bundles"),
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                "AIRFLOW__DAG_PROCESSOR__BUNDLE_REFRESH_CHECK_INTERVAL": "2",
                "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "15",
                "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
                "AIRFLOW__DAG_PROCESSOR__PRINT_STATS_INTERVAL": "0",
                "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.5",
                "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": str(self.triggerer_heartbeat),
                # At least 4-5 heartbeats, or a busy 2-core machine expires a live triggerer.
                "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": str(self.triggerer_health_threshold),
            }
        )
        if self.triggerer_capacity is not None:
            env["AIRFLOW__TRIGGERER__CAPACITY"] = str(self.triggerer_capacity)
        if self.celery_broker_url:
            env.update(
                {
                    "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
                    "AIRFLOW__CELERY__BROKER_URL": self.celery_broker_url,
                    "AIRFLOW__CELERY__RESULT_BACKEND": self.celery_broker_url.rsplit("/", 1)[0] + "/1",
                    "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(self.worker_concurrency),
                }
            )
        env.update(self.extra_env)
        return env

    def start(self) -> None:
        t0 = time.monotonic()
        if self._home_arg is not None:
            self.home = self._home_arg.resolve()
            self.home.mkdir(parents=True, exist_ok=True)
        else:
            self.home = Path(tempfile.mkdtemp(prefix="airflow-e2e-")).resolve()
        self.dags_folder.mkdir(exist_ok=True)
        self.component_log_dir.mkdir(exist_ok=True)
        for src in self.dag_files:  # a folder (e.g. a DAG's workflow definitions) is copied whole
            if src.is_dir():
                shutil.copytree(src, self.dags_folder / src.name)
            else:
                shutil.copy2(src, self.dags_folder / src.name)
        if self.local_settings is not None:  # Airflow puts $AIRFLOW_HOME/config on sys.path
            (self.home / "config").mkdir(exist_ok=True)
            (self.home / "config" / "airflow_local_settings.py").write_text(self.local_settings)
        self.api_port = free_port()
        self.env = self._build_env()
        self._log(f"AIRFLOW_HOME={self.home} api={self.base_url}")

        db = self.home / "airflow.db"
        if not db.exists():
            # No component may write its own airflow.cfg (each would generate its own Fernet key): one
            # key for all is in the environment, and an airflow.cfg with no settings leaves the defaults.
            config = self.home / "airflow.cfg"
            if not config.exists():
                config.write_text("# Settings: the stack's environment (tests/e2e/airflow_stack.py).\n")
            # A copy of a migrated, empty database for this Airflow (the emulator's executing mode keeps
            # one per version: made once by ``airflow db migrate``, then milliseconds instead of seconds).
            from airflow_provider_mwaas.emulator.execution.environment import template_database

            shutil.copyfile(template_database(), db)
            self._log(f"db copied from the migrated template in {time.monotonic() - t0:.1f}s")
        else:  # a kept home from an earlier run: bring its database up to date
            self._migrate()
            self._log(f"db migrated in {time.monotonic() - t0:.1f}s")

        for name in COMPONENTS:
            self._start_component(name)
        for number in range(1, self.celery_workers + 1):
            self._start_component(f"celery-worker-{number}")
        self.wait_healthy(timeout=self.start_timeout)
        running = [job["id"] for job in self.triggerer_jobs() if job["state"] == "running"]
        if len(running) == 1:
            self.components["triggerer"].job_id = running[0]
        for number in range(2, self.triggerers + 1):
            self.start_triggerer(name=f"triggerer-{number}")  # after the first: job ids follow names
        self._log(f"stack healthy after {time.monotonic() - t0:.1f}s")

    def _migrate(self) -> None:
        """``airflow db migrate`` on the stack's database (log: ``component-logs/db-migrate.log``)."""
        assert self.home is not None
        migrate_log = self.component_log_dir / "db-migrate.log"
        with migrate_log.open("wb") as out:
            result = subprocess.run(
                [*airflow_executable(), "db", "migrate"],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.home,
                timeout=180,
                check=False,
            )
        if result.returncode != 0:
            raise StackError(f"airflow db migrate failed ({result.returncode}):\n{tail(migrate_log)}")

    def _start_component(self, name: str) -> Component:
        n = self._restarts.get(name, 0)
        self._restarts[name] = n + 1
        log_path = self.component_log_dir / (f"{name}.log" if n == 0 else f"{name}-{n + 1}.log")
        args = [*airflow_executable(), name]
        env = self.env
        if name == "api-server":
            args += ["--host", "127.0.0.1", "--port", str(self.api_port)]
        elif name.startswith("triggerer-"):  # one more triggerer: its own log-server port
            args = [*airflow_executable(), "triggerer"]
            env = {**self.env, "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port())}
        elif name.startswith("celery-worker-"):  # its own celery hostname and log-server port
            args = [*airflow_executable(), "celery", "worker", "--celery-hostname", f"{name}@%h"]
            args += ["--without-gossip", "--without-mingle"]
            env = {**self.env, "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port())}
        with log_path.open("ab") as out:
            proc = subprocess.Popen(
                args,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.home,
                start_new_session=True,  # own process group: pgid == pid
            )
        comp = Component(name=name, proc=proc, log_path=log_path)
        self.components[name] = comp
        self.all_components.append(comp)
        self._log(f"started {name} pid={proc.pid} log={log_path.name}")
        return comp

    def stop(self) -> None:
        """Stop every component ever started: SIGTERM by pid, wait, then kill leftovers of the group."""
        if self._client is not None:
            self._client.close()
            self._client = None
        # SIGTERM each main process by pid, then wait for it and clean up its group, in three batches:
        # triggerer(s) alone (stopped together with the scheduler, a triggerer's shutdown took ~10 s
        # instead of ~2 s here, presumably SQLite contention), then scheduler + dag-processor together,
        # then the api-server (running tasks and stopping components still talk to it).
        comps = list(self.all_components)
        t0 = time.monotonic()
        triggerers = tuple(c.name for c in comps if c.name.startswith("triggerer"))
        workers = tuple(c.name for c in comps if c.name.startswith("celery-worker"))
        for names in (triggerers, workers, ("scheduler", "dag-processor"), ("api-server",)):
            batch = [c for c in comps if c.name in names]
            for comp in batch:
                if comp.alive():
                    comp.begin_stop(signal.SIGTERM)
            for comp in batch:
                comp.finish_stop(grace=20.0)
        for comp in comps:  # anything not covered above
            comp.finish_stop(grace=5.0)
        if comps:
            self._log(f"stopped {len(comps)} component(s) in {time.monotonic() - t0:.1f}s")
        self.all_components.clear()
        self.components.clear()
        if self.home is not None and self._home_arg is None:
            if self.keep_home:
                self._log(f"kept AIRFLOW_HOME={self.home}")
            else:
                shutil.rmtree(self.home, ignore_errors=True)

    def dump_logs(self, lines: int = 60) -> str:
        """Print (to stderr) and return the tail of each component's log."""
        parts = []
        if self.home is None:
            return ""
        for path in sorted(self.component_log_dir.glob("*.log")):
            parts.append(f"===== {path.name} (last {lines} lines) =====\n{tail(path, lines)}")
        text = "\n".join(parts)
        print(text, file=sys.stderr, flush=True)
        return text

    # ------------------------------------------------------------------ components

    def _check_alive(self) -> None:
        for name, comp in self.components.items():
            if not comp.alive():
                raise StackError(f"{name} (pid {comp.pid}) exited with {comp.proc.returncode}:\n{tail(comp.log_path)}")

    def health(self) -> dict[str, Any]:
        resp = httpx.get(f"{self.base_url}/api/v2/monitor/health", timeout=5)
        resp.raise_for_status()
        return resp.json()

    def wait_healthy(self, timeout: float = 120.0, keys: Iterable[str] = HEALTH_KEYS) -> dict[str, Any]:
        keys = tuple(keys)
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            self._check_alive()
            with contextlib.suppress(httpx.HTTPError, ValueError):
                last = self.health()
                if all((last.get(k) or {}).get("status") == "healthy" for k in keys):
                    for comp in self.components.values():
                        comp.remember_children()
                    return last
            time.sleep(0.5)
        raise StackError(f"stack not healthy after {timeout}s; last health: {last}")

    def stop_triggerer(self, sig: int = signal.SIGTERM, grace: float = 20.0, name: str = "triggerer") -> None:
        """Stop the running triggerer with ``sig`` (SIGKILL: no clean shutdown), then clean its group.

        After SIGKILL the trigger moves to a new triggerer only once the old heartbeat is older than
        ``triggerer_health_threshold``; after SIGTERM the job is marked finished and it moves at once.
        A killed triggerer's log-server child may survive and hold its port: its group is killed too.
        """
        comp = self.components.pop(name)
        self._log(f"stopping triggerer pid={comp.pid} with {signal.Signals(sig).name}")
        comp.stop(sig, grace=grace)

    def triggerer_jobs(self) -> list[dict[str, Any]]:
        return self.get("/api/v2/jobs", job_type="TriggererJob", limit=100)["jobs"]

    def start_triggerer(self, wait_running: bool = True, timeout: float = 60.0, name: str = "triggerer") -> Component:
        """Start a new triggerer; by default wait until its own TriggererJob row is running."""
        known = {job["id"] for job in self.triggerer_jobs()}
        comp = self._start_component(name)
        if wait_running:

            def new_job() -> dict[str, Any] | None:
                self._check_alive()
                for job in self.triggerer_jobs():
                    if job["id"] not in known and job["state"] == "running" and job["latest_heartbeat"]:
                        return job
                return None

            job = self.wait_for(new_job, timeout, "the new triggerer's job to run")
            comp.job_id = job["id"]
            comp.remember_children()
            self._log(f"new triggerer job {job['id']} running")
        return comp

    # ------------------------------------------------------------------ REST

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(base_url=self.base_url, timeout=30)
        return self._client

    def token(self, refresh: bool = False) -> str:
        if self._token is None or refresh:
            resp = httpx.get(f"{self.base_url}/auth/token", timeout=30)
            resp.raise_for_status()
            self._token = resp.json()["access_token"]
        return self._token

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A REST call with a bearer token (refreshed once on 401). Raises on 4xx/5xx."""
        for attempt in range(2):
            headers = {"Authorization": f"Bearer {self.token(refresh=attempt > 0)}"}
            headers.update(kwargs.pop("headers", {}) or {})
            resp = self.client.request(method, path, headers=headers, **kwargs)
            if resp.status_code != 401:
                break
        if resp.is_error:
            raise StackError(f"{method} {path} -> {resp.status_code}: {resp.text[:2000]}")
        return resp

    def get(self, path: str, **params: Any) -> Any:
        return self.api("GET", path, params={k: v for k, v in params.items() if v is not None}).json()

    def wait_for(self, predicate, timeout: float, what: str, interval: float = 0.5):
        """Poll ``predicate`` until truthy (returned) or raise ``StackError`` after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        last_exc: Exception | None = None
        while time.monotonic() < deadline:
            try:
                value = predicate()
            except StackError:
                raise
            except Exception as exc:  # transient REST errors while polling
                last_exc = exc
                value = None
            if value:
                return value
            time.sleep(interval)
        raise StackError(f"timed out after {timeout}s waiting for {what}" + (f" ({last_exc!r})" if last_exc else ""))

    def import_errors(self) -> list[dict[str, Any]]:
        return self.get("/api/v2/importErrors").get("import_errors", [])

    def wait_for_dag(self, dag_id: str, timeout: float = 90.0) -> dict[str, Any]:
        """Wait until ``dag_id`` is parsed and serialized; fail fast on an import error of its file."""

        def parsed() -> dict[str, Any] | None:
            self._check_alive()
            resp = self.api_raw("GET", f"/api/v2/dags/{dag_id}")
            if resp.status_code == 200:
                return resp.json()
            errors = self.import_errors()
            if errors:
                raise StackError(f"DAG import errors: {json.dumps(errors, indent=1)[:4000]}")
            return None

        return self.wait_for(parsed, timeout, f"DAG {dag_id} to be parsed")

    def api_raw(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Like ``api`` but returns error responses instead of raising."""
        headers = {"Authorization": f"Bearer {self.token()}", **(kwargs.pop("headers", None) or {})}
        return self.client.request(method, path, headers=headers, **kwargs)

    def trigger_dag(
        self,
        dag_id: str,
        conf: Mapping[str, Any] | None = None,
        run_id: str | None = None,
        logical_date: str | None = None,
    ) -> str:
        """Trigger a run (``logical_date``: ISO 8601, or ``None`` for a run without one); return its id."""
        body: dict[str, Any] = {"logical_date": logical_date, "conf": dict(conf or {})}
        if run_id:
            body["dag_run_id"] = run_id
        return self.api("POST", f"/api/v2/dags/{dag_id}/dagRuns", json=body).json()["dag_run_id"]

    def dag_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return self.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 180.0) -> dict[str, Any]:
        """Wait for a DAG run's terminal state (returned as the run's JSON); raise on timeout."""

        def done() -> dict[str, Any] | None:
            self._check_alive()
            run = self.dag_run(dag_id, run_id)
            return run if run["state"] in TERMINAL_RUN_STATES else None

        try:
            return self.wait_for(done, timeout, f"DAG run {dag_id}/{run_id} to finish", interval=1.0)
        except StackError as exc:
            raise StackError(f"{exc}; task states: {self.task_states(dag_id, run_id)}") from None

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        return self.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"]

    def task_instance(self, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
        return self.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}")

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str | None]:
        try:
            return {ti["task_id"]: ti["state"] for ti in self.task_instances(dag_id, run_id)}
        except Exception as exc:
            return {"<error>": repr(exc)}

    def wait_for_task_state(
        self, dag_id: str, run_id: str, task_id: str, states: Iterable[str], timeout: float = 90.0
    ) -> dict[str, Any]:
        wanted = set(states)

        def reached() -> dict[str, Any] | None:
            self._check_alive()
            ti = self.task_instance(dag_id, run_id, task_id)
            if ti["state"] in wanted:
                return ti
            if ti["state"] in TERMINAL_TI_STATES:
                raise StackError(f"{task_id} ended {ti['state']} while waiting for {sorted(wanted)}")
            return None

        return self.wait_for(reached, timeout, f"{task_id} to reach {sorted(wanted)}")

    def event_logs(self, dag_id: str, run_id: str | None = None, event: str | None = None, **params: Any):
        return self.get("/api/v2/eventLogs", dag_id=dag_id, run_id=run_id, event=event, limit=100, **params)[
            "event_logs"
        ]

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value") -> Any:
        return self.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}")["value"]

    def set_variable(self, key: str, value: str) -> None:
        """Create or replace an Airflow Variable in the metastore (env ``AIRFLOW_VAR_*`` would win)."""
        resp = self.api_raw("PATCH", f"/api/v2/variables/{key}", json={"key": key, "value": value})
        if resp.status_code == 404:
            self.api("POST", "/api/v2/variables", json={"key": key, "value": value})
        elif resp.is_error:
            raise StackError(f"PATCH variable {key} -> {resp.status_code}: {resp.text[:500]}")

    def task_log_dir(self, dag_id: str, run_id: str, task_id: str) -> Path:
        assert self.home is not None
        return self.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}"

    def trigger_log_files(self, dag_id: str, run_id: str, task_id: str) -> list[Path]:
        """One file per triggerer job that ran this task's trigger (``attempt=N.log.trigger.<job>.log``)."""
        return sorted(self.task_log_dir(dag_id, run_id, task_id).glob("attempt=*.log.trigger.*.log"))

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int | None = None) -> str:
        """The text of a task's log: one try, or every try up to the current one (joined)."""
        if try_number is None:
            last = max(int(self.task_instance(dag_id, run_id, task_id).get("try_number") or 1), 1)
            tries = range(1, last + 1)
        else:
            tries = range(try_number, try_number + 1)
        chunks = []
        for n in tries:
            resp = self.api_raw(
                "GET",
                f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{n}",
                params={"full_content": "true"},
                headers={"Accept": "application/json"},
            )
            if resp.status_code != 200:
                chunks.append(f"--- try {n}: HTTP {resp.status_code} {resp.text[:500]}")
                continue
            chunks.append(f"--- try {n}\n{_log_content_text(resp.json().get('content'))}")
        return "\n".join(chunks)


_LOG_NOISE_KEYS = frozenset(
    {
        "event",
        "timestamp",
        "level",
        "logger",
        "sources",
        "filename",
        "lineno",
        "loc",
        "dag_id",
        "run_id",
        "task_id",
        "ti_id",
        "map_index",
        "try_number",
    }
)


def _log_content_text(content: Any) -> str:
    """Flatten the log endpoint's ``content`` (structured lines in Airflow 3, or a string) to text."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    lines = []
    for item in content:
        if isinstance(item, dict):
            extra = {k: v for k, v in item.items() if k not in _LOG_NOISE_KEYS}
            line = " ".join(
                str(part) for part in (item.get("timestamp", ""), item.get("level", ""), item.get("event", "")) if part
            )
            if item.get("logger"):
                line += f" [{item['logger']}]"
            if item.get("sources"):
                line += " " + " ".join(map(str, item["sources"]))
            details = extra.pop("error_detail", None)
            if extra:
                line += " " + json.dumps(extra, default=str)
            for exc in details or []:
                if isinstance(exc, dict):  # keep the exception, drop the frames
                    line += f"\n    {exc.get('exc_type')}: {exc.get('exc_value')}"
            lines.append(line)
        else:
            lines.append(str(item))
    return "\n".join(lines)
