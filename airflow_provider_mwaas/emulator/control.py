"""``EmulatorControl``: one client for the control API, in-process or over HTTP.

``EmulatorControl()`` acts on the emulator in this process (inside :func:`~.mock.mock_mwaa_serverless`);
``EmulatorControl(endpoint_url=server.url)`` sends the same calls to a server's control endpoints
(``POST /_mwaas_emulator/<method>`` with the keyword arguments as a JSON object). The HTTP side needs
only the standard library. Errors come back as the same types either way: ``ValueError`` for bad
arguments (HTTP 400), ``LookupError`` for an unknown workflow or run (HTTP 404).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

CONTROL_PREFIX = "/_mwaas_emulator"


class EmulatorControlError(RuntimeError):
    """The control endpoint answered with an unexpected error."""


class EmulatorControl:
    """Drive the emulator: workflows, transitions, scripted outcomes, holds, faults, counters.

    :param endpoint_url: a server's base URL (``http://127.0.0.1:PORT``); ``None`` = this process.
    :param timeout: seconds to wait for an HTTP answer.
    """

    def __init__(self, endpoint_url: str | None = None, timeout: float = 30.0):
        if endpoint_url and not endpoint_url.startswith(("http://", "https://")):
            raise ValueError(f"endpoint_url must be an http(s) URL, got {endpoint_url!r}")
        self.endpoint_url = endpoint_url.rstrip("/") if endpoint_url else None
        self.timeout = timeout
        self._local: Any = None
        if self.endpoint_url is None:
            from .control_local import LocalControl

            self._local = LocalControl()

    def __repr__(self) -> str:
        return f"EmulatorControl(endpoint_url={self.endpoint_url!r})"

    def _forward(self, method: str, arguments: dict[str, Any]) -> Any:
        """Call ``method`` with a public method's own arguments (its ``locals()`` on entry, ``self`` left out)."""
        return self._call(method, **{name: value for name, value in arguments.items() if name != "self"})

    def _call(self, method: str, **kwargs: Any) -> Any:
        if self._local is not None:
            return getattr(self._local, method)(**kwargs)
        request = urllib.request.Request(  # noqa: S310 - scheme checked in __init__
            f"{self.endpoint_url}{CONTROL_PREFIX}/{method}",
            data=json.dumps(kwargs).encode("utf-8"),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as err:
            try:
                message = json.loads(err.read()).get("error", str(err))
            except ValueError:
                message = str(err)
            if err.code == 400:
                raise ValueError(message) from None
            if err.code == 404:
                raise LookupError(message) from None
            raise EmulatorControlError(f"{method}: HTTP {err.code}: {message}") from None

    def create_workflow(
        self,
        name: str = "demo",
        definition_yaml: str | None = None,
        region: str = "us-east-1",
        account_id: str = "123456789012",
    ) -> str:
        """Upload the YAML to the emulator's S3 bucket and create the workflow; returns its ARN.

        :param name: the workflow name.
        :param definition_yaml: the definition; ``None`` = three tasks extract -> transform -> load.
        :param region: the workflow's region.
        :param account_id: the workflow's account.
        """
        return str(
            self._call(
                "create_workflow", name=name, definition_yaml=definition_yaml, region=region, account_id=account_id
            )
        )

    def configure_transitions(
        self, mode: str = "call", seconds_per_state: float = 2.0, calls_per_state: int = 1
    ) -> dict[str, Any]:
        """Runs advance one state per ``calls_per_state`` reads (``call``) or per
        ``seconds_per_state`` seconds (``time``).

        :param mode: ``"call"`` or ``"time"``.
        :param seconds_per_state: seconds in each state (``time``).
        :param calls_per_state: reads of a run per state (``call``).
        """
        result: dict[str, Any] = self._call(
            "configure_transitions", mode=mode, seconds_per_state=seconds_per_state, calls_per_state=calls_per_state
        )
        return result

    def transitions(self) -> dict[str, Any]:
        """The current transition setting ``{"mode", "seconds_per_state", "calls_per_state"}``."""
        result: dict[str, Any] = self._call("transitions")
        return result

    def script_outcome(
        self,
        workflow_arn: str,
        status: str = "FAILED",
        error_message: str = "Scripted failure injected by the MWAA Serverless emulator",
        failed_tasks: list[str] | None = None,
        count: int | None = 1,
        run_id: str | None = None,
    ) -> dict[str, Any]:
        """Make the workflow's next ``count`` runs (``None``: every future run), or run ``run_id``,
        end ``FAILED`` or ``TIMEOUT`` with ``error_message`` and ``failed_tasks`` failed.

        :param workflow_arn: the workflow.
        :param status: ``"FAILED"`` or ``"TIMEOUT"``.
        :param error_message: the run's ``RunDetail.ErrorMessage`` (1..255 characters).
        :param failed_tasks: task ids that fail (their downstream tasks become ``UPSTREAM_FAILED``);
            ``None`` = the definition's last task.
        :param count: number of future runs; ``None`` = all of them.
        :param run_id: script one existing in-flight run instead.
        """
        result: dict[str, Any] = self._forward("script_outcome", locals())
        return result

    def hold(self, workflow_arn: str | None = None, run_id: str | None = None) -> dict[str, Any]:
        """Keep run ``run_id`` (or the next runs of ``workflow_arn``; of every workflow when both are
        ``None``) ``RUNNING`` until :meth:`release`."""
        result: dict[str, Any] = self._call("hold", workflow_arn=workflow_arn, run_id=run_id)
        return result

    def release(
        self, run_id: str | None = None, workflow_arn: str | None = None, run_ids: list[str] | None = None
    ) -> dict[str, Any]:
        """Let held runs finish (one run, the runs ``run_ids``, one workflow's, or all); returns
        ``{"Released": [...]}``. In ``time`` mode a released run ends ``seconds_per_state`` after it."""
        result: dict[str, Any] = self._call("release", run_id=run_id, workflow_arn=workflow_arn, run_ids=run_ids)
        return result

    def set_faults(
        self,
        throttle: float = 0.0,
        internal_error: float = 0.0,
        latency: float = 0.0,
        latency_seconds: float = 0.5,
        drop: float = 0.0,
        operations: list[str] | None = None,
        seed: int | None = 0,
        retry_after_seconds: int = 1,
    ) -> dict[str, Any]:
        """Answer a seeded fraction of requests with faults; see :mod:`.faults`.

        :param throttle: fraction answered ``ThrottlingException``.
        :param internal_error: fraction answered ``InternalServerException`` (HTTP 500).
        :param latency: fraction delayed by ``latency_seconds``.
        :param latency_seconds: the delay.
        :param drop: fraction whose connection is dropped without a response.
        :param operations: operations covered; ``None`` = all.
        :param seed: RNG seed; the same seed and requests give the same faults.
        :param retry_after_seconds: ``RetryAfterSeconds`` of injected errors.
        """
        result: dict[str, Any] = self._forward("set_faults", locals())
        return result

    def script_refusal(
        self, code: str, operations: list[str] | None = None, count: int | None = 1, message: str | None = None
    ) -> dict[str, Any]:
        """Answer the next ``count`` requests for ``operations`` (``None``: any) with the service error
        ``code``: ``AccessDeniedException``, ``ServiceQuotaExceededException``, ``ResourceNotFoundException``,
        ``ValidationException`` or ``ConflictException``. Served by the service (not a fault), never retried.

        :param code: the error code.
        :param operations: operation names, e.g. ``["StartWorkflowRun"]``; ``None`` = every operation.
        :param count: requests to refuse; ``None`` = all of them until :meth:`reset`.
        :param message: the error's ``Message``.
        """
        result: dict[str, Any] = self._call(
            "script_refusal", code=code, operations=operations, count=count, message=message
        )
        return result

    def clear_faults(self) -> dict[str, Any]:
        """Inject nothing from now on."""
        result: dict[str, Any] = self._call("clear_faults")
        return result

    def faults(self) -> dict[str, Any]:
        """The current fault configuration."""
        result: dict[str, Any] = self._call("faults")
        return result

    def set_assumptions(self, **changes: Any) -> dict[str, Any]:
        """Switch service behaviour the API model does not document (docs/emulator.md, "Assumptions").

        Keyword arguments (omitted ones keep their value; :meth:`reset` restores every default):
        ``token_memory_seconds`` (seconds a ClientToken is remembered after its run's creation; ``None``:
        for ever), ``replay_ended_runs`` (a repeated token returns its run after the run ended; else a
        new run), ``conflict_names_run`` (a ConflictException names the run in ``ResourceId``; else the
        token), ``listing_order`` (``ListWorkflowRuns``: ``newest``, ``oldest`` or ``shuffled``).

        :return: every assumption's current value.
        :raises ValueError: an unknown name or a bad value.
        """
        result: dict[str, Any] = self._call("set_assumptions", **changes)
        return result

    def assumptions(self) -> dict[str, Any]:
        """The current assumptions (see :meth:`set_assumptions`)."""
        result: dict[str, Any] = self._call("assumptions")
        return result

    def age_runs(self, seconds: float, workflow_arn: str | None = None, run_id: str | None = None) -> dict[str, Any]:
        """Move runs' timestamps ``seconds`` into the past (one run, one workflow's, or all), as if they
        had been started that long ago; returns ``{"Aged": [run ids], "Seconds": seconds}``."""
        result: dict[str, Any] = self._call("age_runs", seconds=seconds, workflow_arn=workflow_arn, run_id=run_id)
        return result

    def counters(self) -> dict[str, Any]:
        """``{"requests": {op: n}, "served": {op: n}, "injected": {kind: n}, "runs_started": n}``."""
        result: dict[str, Any] = self._call("counters")
        return result

    def runs(self, workflow_arn: str | None = None) -> list[dict[str, Any]]:
        """Every run started (oldest first): ``RunId, WorkflowArn, ClientToken, Status, WorkflowVersion``."""
        result: list[dict[str, Any]] = self._call("runs", workflow_arn=workflow_arn)
        return result

    def reset(self) -> None:
        """Forget workflows, runs, scripts, holds, faults and counters."""
        self._call("reset")
