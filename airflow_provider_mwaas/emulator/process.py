"""``EmulatorServer``: the emulator server in a subprocess, for tests and users' own DAG tests.

Needs only the standard library in the calling process; the subprocess runs
``python -m airflow_provider_mwaas.emulator`` with the same interpreter.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from types import TracebackType
from typing import IO, Any

from .control import EmulatorControl

_READY = re.compile(r"^MWAA Serverless emulator listening on (?P<url>http://\S+)$")


class EmulatorStartError(RuntimeError):
    """The server process exited or did not print its URL in time."""


class EmulatorServer:
    """Start the emulator server in a subprocess; stop it on exit of the ``with`` block.

    :param host: address to bind.
    :param port: port; ``0`` picks a free one (read :attr:`url` after start).
    :param transitions: ``"call"`` (runs advance per read; deterministic, the default here) or
        ``"time"``.
    :param seconds_per_state: seconds per state in ``time`` mode.
    :param extra_args: more command-line arguments (e.g. ``("--calls-per-state", "2")``).
    :param startup_timeout: seconds to wait for the ready line.
    :param env: environment of the subprocess (default: this process's).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        transitions: str = "call",
        extra_args: Sequence[str] = (),
        seconds_per_state: float | None = None,
        startup_timeout: float = 60.0,
        env: dict[str, str] | None = None,
    ):
        self.host = host
        self.port = port
        self.transitions = transitions
        self.extra_args = tuple(extra_args)
        self.seconds_per_state = seconds_per_state
        self.startup_timeout = startup_timeout
        self.env = env
        self.url: str | None = None
        self._process: subprocess.Popen[str] | None = None
        self._stderr: IO[str] | None = None

    @property
    def command(self) -> list[str]:
        """The command line the subprocess runs."""
        command = [
            sys.executable,
            "-m",
            "airflow_provider_mwaas.emulator",
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--transitions",
            self.transitions,
        ]
        if self.seconds_per_state is not None:
            command += ["--seconds-per-state", str(self.seconds_per_state)]
        return command + list(self.extra_args)

    @property
    def pid(self) -> int | None:
        """The subprocess id (``None`` before :meth:`start`)."""
        return self._process.pid if self._process else None

    @property
    def control(self) -> EmulatorControl:
        """An :class:`~.control.EmulatorControl` for this server."""
        if self.url is None:
            raise RuntimeError("EmulatorServer is not started")
        return EmulatorControl(endpoint_url=self.url)

    def start(self) -> EmulatorServer:
        """Start the subprocess and wait for its ready line.

        :raises EmulatorStartError: the process died or stayed silent for ``startup_timeout`` s.
        """
        if self._process is not None:
            raise RuntimeError("EmulatorServer already started")
        self._stderr = tempfile.TemporaryFile(mode="w+", encoding="utf-8")  # noqa: SIM115
        env = dict(self.env if self.env is not None else os.environ)
        env.setdefault("PYTHONUNBUFFERED", "1")
        self._process = subprocess.Popen(  # noqa: S603
            self.command,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            env=env,
        )
        lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=_pump, args=(self._process.stdout, lines), daemon=True).start()
        try:
            while True:
                line = lines.get(timeout=self.startup_timeout)
                if line is None:
                    raise EmulatorStartError(f"Emulator exited before it was ready:\n{self._stderr_tail()}")
                match = _READY.match(line.strip())
                if match:
                    self.url = match.group("url")
                    return self
        except queue.Empty:
            self.stop()
            raise EmulatorStartError(
                f"Emulator printed no URL within {self.startup_timeout}s:\n{self._stderr_tail()}"
            ) from None
        except BaseException:
            self.stop()
            raise

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, wait up to ``timeout`` s, then kill. Returns the exit status.

        :param timeout: seconds to wait for a clean exit.
        """
        process, self._process = self._process, None
        code = None
        if process is not None:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    code = process.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    process.kill()
                    code = process.wait(timeout=timeout)
            else:
                code = process.returncode
            if process.stdout is not None:
                process.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        self.url = None
        return code

    def _stderr_tail(self, limit: int = 4000) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read()[-limit:]

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"EmulatorServer(url={self.url!r}, pid={self.pid})"


def _pump(stream: Any, lines: queue.Queue[str | None]) -> None:
    # Keep reading so the child never blocks on a full stdout pipe.
    try:
        for line in stream:
            lines.put(line)
    except (OSError, ValueError):
        pass
    lines.put(None)
