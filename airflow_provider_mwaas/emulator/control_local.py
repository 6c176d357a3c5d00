"""The control API's behaviour, acting directly on the emulator's state in this process.

:class:`~.control.EmulatorControl` calls this in-process, and the server's control endpoints
(:mod:`.control_http`) call it for HTTP clients, so both ways behave the same. Control calls are not
counted as requests and are not subject to fault injection.
"""

from __future__ import annotations

from typing import Any

from moto.utilities.utils import get_partition

from airflow_provider_mwaas.service.constraints import validate_input

from . import registration  # noqa: F401 - in-process control implies the service is registered
from .definitions import default_definition
from .events import forget_rules
from .faults import FaultConfig
from .models import MWAAServerlessBackend, WorkflowRun, mwaaserverless_backends
from .outcomes import DEFAULT_ERROR_MESSAGE, ScriptedOutcome
from .state import STATE
from .transitions import configure_transitions, current_transitions

DEFAULT_ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"


class LocalControl:
    """Set up workflows, script outcomes, inject faults and read counters, in this process."""

    def create_workflow(
        self,
        name: str = "demo",
        definition_yaml: str | None = None,
        region: str = DEFAULT_REGION,
        account_id: str = DEFAULT_ACCOUNT_ID,
    ) -> str:
        """Upload a definition to the emulator's S3 and create a workflow from it.

        :param name: the workflow name.
        :param definition_yaml: the YAML definition; ``None`` = three tasks, extract -> transform -> load.
        :param region: the workflow's region.
        :param account_id: the workflow's account.
        :return: the ``WorkflowArn``.
        """
        from moto.s3.models import s3_backends

        text = definition_yaml if definition_yaml is not None else default_definition(name)
        s3 = s3_backends[account_id][get_partition(region)]
        bucket = f"mwaas-emulator-{account_id}-{region}"
        if bucket not in s3.buckets:
            s3.create_bucket(bucket, region)
        key = f"workflows/{name}.yaml"
        s3.put_object(bucket, key, text.encode("utf-8"))
        params = {
            "Name": name,
            "DefinitionS3Location": {"Bucket": bucket, "ObjectKey": key},
            "RoleArn": f"arn:{get_partition(region)}:iam::{account_id}:role/mwaas-emulator",
        }
        errors = validate_input("CreateWorkflow", params)
        if errors:
            raise ValueError("; ".join(e.describe() for e in errors))
        return str(self._backend(account_id, region).create_workflow(params)["WorkflowArn"])

    def configure_transitions(
        self, mode: str = "call", seconds_per_state: float = 2.0, calls_per_state: int = 1
    ) -> dict[str, Any]:
        """How runs progress: ``call`` (per read) or ``time`` (per second); see :mod:`.transitions`.

        :param mode: ``"call"`` or ``"time"``.
        :param seconds_per_state: seconds in each state (``time``).
        :param calls_per_state: reads of a run per state (``call``).
        """
        configure_transitions(mode, seconds_per_state, calls_per_state)
        return current_transitions()

    def transitions(self) -> dict[str, Any]:
        """The current transition setting."""
        return current_transitions()

    def script_outcome(
        self,
        workflow_arn: str,
        status: str = "FAILED",
        error_message: str = DEFAULT_ERROR_MESSAGE,
        failed_tasks: list[str] | None = None,
        count: int | None = 1,
        run_id: str | None = None,
    ) -> dict[str, Any]:
        """Make the workflow's next ``count`` runs (``None``: all), or run ``run_id``, end in ``status``.

        :param workflow_arn: the workflow.
        :param status: ``FAILED`` or ``TIMEOUT`` (``SUCCESS`` undoes a script on one run).
        :param error_message: the run's ``ErrorMessage``.
        :param failed_tasks: task ids that fail; ``None`` = the last task.
        :param count: how many future runs; ``None`` = every future run. Ignored with ``run_id``.
        :param run_id: script this existing, in-flight run instead of future runs.
        :raises LookupError: unknown workflow or run.
        :raises ValueError: bad status/count/message, unknown task, or the run already ended.
        """
        outcome = ScriptedOutcome(
            status,
            error_message,
            tuple(failed_tasks) if failed_tasks is not None else None,
            None if run_id is not None else count,
        )
        if run_id is not None:
            self._find_run(run_id, workflow_arn).apply_outcome(outcome)
            return {"RunId": run_id, "Status": status}
        self._find_workflow(workflow_arn)
        STATE.outcomes.add_script(workflow_arn, outcome)
        return {"WorkflowArn": workflow_arn, "Status": status, "Count": count}

    def hold(self, workflow_arn: str | None = None, run_id: str | None = None) -> dict[str, Any]:
        """Keep run ``run_id``, or the next runs of ``workflow_arn`` (of every workflow when both are
        ``None``), ``RUNNING`` until :meth:`release`.

        :raises LookupError: unknown run.
        :raises ValueError: the run already ended.
        """
        if run_id is not None:
            run = self._find_run(run_id, workflow_arn)
            if run.peek in ("SUCCESS", "FAILED", "TIMEOUT", "STOPPED"):
                raise ValueError(f"Run {run_id} already ended ({run.peek})")
            run.held = True
            return {"RunId": run_id, "Held": True}
        STATE.outcomes.hold_future(workflow_arn)
        return {"WorkflowArn": workflow_arn, "Held": True}

    def release(
        self, run_id: str | None = None, workflow_arn: str | None = None, run_ids: list[str] | None = None
    ) -> dict[str, Any]:
        """Let held runs finish: run ``run_id`` (or the runs ``run_ids``); or the held and future runs of
        ``workflow_arn``; or, with neither, everything held. In ``time`` mode a released run's clock
        restarts at the release: it ends ``seconds_per_state`` later.

        :raises LookupError: unknown run.
        """
        if run_id is not None:
            self._find_run(run_id, workflow_arn).release()
            return {"Released": [run_id]}
        if run_ids is not None:
            by_id = {run.run_id: run for run in self._all_runs()}  # one pass for thousands of runs
            unknown = [one for one in run_ids if one not in by_id]
            if unknown:
                raise LookupError(f"No run {unknown[0]}")
            for one in run_ids:
                by_id[one].release()
            return {"Released": list(run_ids)}
        STATE.outcomes.release_future(workflow_arn)
        released = []
        for run in self._all_runs():
            if run.held and (workflow_arn is None or run.workflow_arn == workflow_arn):
                run.release()
                released.append(run.run_id)
        return {"Released": released}

    def set_faults(self, **settings: Any) -> dict[str, Any]:
        """Inject faults into a fraction of requests: ``settings`` are :class:`~.faults.FaultConfig`'s fields
        (documented on :meth:`~.control.EmulatorControl.set_faults`); the others keep their defaults.

        :raises ValueError: a fraction outside 0..1, or an operation the model does not have.
        :raises TypeError: a setting FaultConfig does not have.
        """
        unknown = settings.keys() - _FAULT_SETTINGS.keys()
        if unknown:
            raise TypeError(f"set_faults() got unexpected keyword arguments {sorted(unknown)}")
        _check_operations(settings.get("operations"))
        STATE.faults.configure(FaultConfig(**{name: _FAULT_SETTINGS[name](value) for name, value in settings.items()}))
        return self.faults()

    def script_refusal(
        self, code: str, operations: list[str] | None = None, count: int | None = 1, message: str | None = None
    ) -> dict[str, Any]:
        """Answer the next ``count`` requests for ``operations`` with the service error ``code``.

        :raises ValueError: an unknown code or operation, or a count below 1.
        """
        from .faults import ScriptedRefusal

        _check_operations(operations)
        refusal = ScriptedRefusal(str(code), frozenset(operations) if operations is not None else None, count, message)
        STATE.refusals.add(refusal)
        return {"code": refusal.code, "operations": operations, "count": count}

    def clear_faults(self) -> dict[str, Any]:
        """Inject nothing from now on."""
        STATE.faults.clear()
        return self.faults()

    def faults(self) -> dict[str, Any]:
        """The current fault configuration."""
        config = STATE.faults.config
        return {
            "throttle": config.throttle,
            "internal_error": config.internal_error,
            "latency": config.latency,
            "latency_seconds": config.latency_seconds,
            "drop": config.drop,
            "operations": sorted(config.operations) if config.operations is not None else None,
            "seed": config.seed,
            "retry_after_seconds": config.retry_after_seconds,
        }

    def set_assumptions(self, **changes: Any) -> dict[str, Any]:
        """Switch service behaviour the API model does not document; see :mod:`.assumptions`.

        :raises ValueError: an unknown assumption or a bad value.
        """
        STATE.assumptions = STATE.assumptions.updated(**changes)
        return STATE.assumptions.as_dict()

    def assumptions(self) -> dict[str, Any]:
        """The current assumptions."""
        return STATE.assumptions.as_dict()

    def age_runs(self, seconds: float, workflow_arn: str | None = None, run_id: str | None = None) -> dict[str, Any]:
        """Move runs' timestamps ``seconds`` into the past: run ``run_id``, the runs of ``workflow_arn``,
        or every run. Token memory (``token_memory_seconds``) counts from the moved creation time.

        :raises LookupError: unknown run or workflow.
        :raises ValueError: ``seconds`` is negative or not a number.
        """
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
            raise ValueError(f"seconds must be a number >= 0, got {seconds!r}")
        if run_id is not None:
            runs = [self._find_run(run_id, workflow_arn)]
        else:
            if workflow_arn is not None:
                self._find_workflow(workflow_arn)
            runs = [run for run in self._all_runs() if workflow_arn is None or run.workflow_arn == workflow_arn]
        for run in runs:
            run.age(float(seconds))
        return {"Aged": [run.run_id for run in runs], "Seconds": seconds}

    def counters(self) -> dict[str, Any]:
        """``{"requests": {op: n}, "served": {op: n}, "injected": {kind: n}, "runs_started": n}``."""
        return STATE.counters.snapshot()

    def runs(self, workflow_arn: str | None = None) -> list[dict[str, Any]]:
        """Every run the emulator started (oldest first), optionally of one workflow."""
        return [run.record() for run in self._all_runs() if workflow_arn is None or run.workflow_arn == workflow_arn]

    def reset(self) -> dict[str, Any]:
        """Forget workflows, runs, scripts, holds, faults, counters and EventBridge rules (transitions stay)."""
        for _, _, backend in list(mwaaserverless_backends.iter_backends()):
            backend.reset()
        forget_rules()  # an earlier test's rules would get (and slow down) every event
        STATE.reset()
        return {"reset": True}

    # -- lookups -------------------------------------------------------------------------------------

    @staticmethod
    def _backend(account_id: str, region: str) -> MWAAServerlessBackend:
        return mwaaserverless_backends[account_id][region]

    @staticmethod
    def _all_runs() -> list[WorkflowRun]:
        runs: list[WorkflowRun] = []
        for _, _, backend in list(mwaaserverless_backends.iter_backends()):
            runs.extend(backend.runs.values())  # type: ignore[attr-defined]
        return sorted(runs, key=lambda r: (r.created_at, r.sequence))

    def _find_run(self, run_id: str, workflow_arn: str | None) -> WorkflowRun:
        for run in self._all_runs():
            if run.run_id == run_id and (workflow_arn is None or run.workflow_arn == workflow_arn):
                return run
        raise LookupError(f"No run {run_id}" + (f" of {workflow_arn}" if workflow_arn else ""))

    @staticmethod
    def _find_workflow(workflow_arn: str) -> None:
        for _, _, backend in list(mwaaserverless_backends.iter_backends()):
            if workflow_arn in backend.workflows:  # type: ignore[attr-defined]
                return
        raise LookupError(f"No workflow {workflow_arn}")


#: FaultConfig's fields, each with the conversion a JSON (HTTP) or Python value gets.
_FAULT_SETTINGS: dict[str, Any] = {
    "throttle": float,
    "internal_error": float,
    "latency": float,
    "latency_seconds": float,
    "drop": float,
    "operations": lambda operations: frozenset(operations) if operations is not None else None,
    "seed": lambda seed: seed,
    "retry_after_seconds": int,
}


def _check_operations(operations: list[str] | None) -> None:
    """Refuse operation names the installed model does not have (``None`` = all operations)."""
    from airflow_provider_mwaas.service.model import operation_names

    if operations is not None:
        unknown = set(operations) - set(operation_names())
        if unknown:
            raise ValueError(f"Unknown operations: {sorted(unknown)}")
