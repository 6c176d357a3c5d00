"""Request handling: counters, fault injection, model-driven validation, then the backend.

Like a moto ``responses.py``, each operation method only reads parameters, calls the backend and
wraps the result; what every request goes through first lives in :meth:`MWAAServerlessResponse.call_action`:

1. count the request (``STATE.counters``);
2. fault injection (:mod:`.faults`): latency, throttling, internal error, dropped connection;
   then scripted refusals (``AccessDeniedException``, ``ServiceQuotaExceededException``...);
3. ``unknownOperation`` / ``cannotParse`` / ``fieldValidationFailed`` (:mod:`.validation`);
4. dispatch to the operation (moto's ``BaseResponse.call_action``).
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ConnectionClosedError
from moto.core.exceptions import InvalidToken
from moto.core.responses import ActionResult, BaseResponse, EmptyResult
from moto.core.utils import camelcase_to_underscores
from moto.utilities.aws_headers import gen_amzn_requestid_long

from airflow_provider_mwaas.service.constraints import validate_input
from airflow_provider_mwaas.service.model import REASON_OTHER, fault_error_codes, is_known_operation

from .exceptions import InternalServerException, ThrottlingException, ValidationException, auth_refusal, refusal
from .fast_json import FastJsonResult
from .models import MWAAServerlessBackend, mwaaserverless_backends, page_token
from .state import STATE

TARGET_PREFIX = "AmazonMWAAServerless"


class MWAAServerlessResponse(BaseResponse):
    """The service's JSON 1.0 protocol front end."""

    # moto's default only finds the region in ``*.amazonaws.com`` hosts; the service's real
    # endpoint is ``airflow-serverless.<region>.api.aws``.
    region_regex = re.compile(r"\.(?P<region>[^.]+)\.(?:amazonaws\.com|api\.aws)")

    def __init__(self) -> None:
        super().__init__(service_name="mwaa-serverless")
        self.params: Any = {}

    @property
    def backend(self) -> MWAAServerlessBackend:
        """The backend of the request's account and region."""
        return mwaaserverless_backends[self.current_account][self.region]

    # -- the pipeline every request goes through ----------------------------------------------------

    def _get_action(self) -> str:
        # The JSON protocol names the operation only in X-Amz-Target; anything else is unknown.
        target = self.headers.get("X-Amz-Target") or ""
        prefix, _, operation = target.partition(".")
        return operation if prefix == TARGET_PREFIX else ""

    def call_action(self) -> Any:
        """Count, inject faults, validate, then dispatch."""
        operation = self._get_action()
        raw_target = self.headers.get("X-Amz-Target") or "<missing X-Amz-Target>"
        STATE.counters.count_request(operation or raw_target)
        decision = STATE.faults.decide(operation or raw_target)
        if decision.delay:
            STATE.counters.count_injected("latency")
            time.sleep(decision.delay)
        if decision.error == "drop":
            STATE.counters.count_injected("drop")
            return self._drop_connection()
        if decision.error == "throttle":
            STATE.counters.count_injected("throttle")
            return self._error(ThrottlingException(decision.retry_after_seconds))
        if decision.error == "internal_error":
            STATE.counters.count_injected("internal_error")
            return self._error(InternalServerException(retry_after_seconds=decision.retry_after_seconds))
        STATE.counters.count_served(operation or raw_target)

        if not operation or not is_known_operation(operation):
            return self._error(ValidationException.unknown_operation(raw_target))
        denied = self._iam_refusal()
        if denied is not None:  # moto's IAM check (when enabled): the service's JSON answer, not moto's XML
            return self._error(denied)
        scripted = STATE.refusals.take(operation)
        if scripted is not None:  # like the service's authorization/quota checks: before validation
            return self._error(refusal(scripted.code, scripted.message))
        try:
            params = json.loads(self.body) if self.body not in (None, "", b"") else {}
        except (ValueError, UnicodeDecodeError) as err:
            return self._error(ValidationException.cannot_parse(str(err)))
        if not isinstance(params, dict):
            return self._error(ValidationException.cannot_parse("the body must be a JSON object"))
        errors = validate_input(operation, params)
        if errors:
            return self._error(ValidationException.from_field_errors(errors))
        self.params = params
        if camelcase_to_underscores(operation) not in dir(self):
            return self._error(ValidationException(f"{operation} is not implemented by the emulator", REASON_OTHER))
        return super().call_action()

    def _iam_refusal(self) -> Exception | None:
        """Run moto's IAM check (off unless enabled through ``/moto-api/reset-auth``) once, before validation.

        moto answers a refused key, signature or action in XML, which a JSON-protocol client cannot
        read (botocore would report the code ``403``); the service answers in JSON.
        """
        from werkzeug.exceptions import HTTPException

        try:
            super()._authenticate_and_authorize_normal_action()
        except HTTPException as err:  # moto's IAM errors (InvalidClientTokenId, SignatureDoesNotMatch, ...)
            return auth_refusal(getattr(err, "error_type", ""), getattr(err, "message", ""))
        finally:
            self._iam_checked = True
        return None

    def _authenticate_and_authorize_normal_action(self, resource: str = "*") -> None:
        if not getattr(self, "_iam_checked", False):  # checked once, by _iam_refusal
            super()._authenticate_and_authorize_normal_action(resource)

    def _error(self, error: Exception) -> tuple[int, dict[str, str], str]:
        status, headers, body = self.serialized(ActionResult(error))
        # Answered before moto's dispatch, which is what adds the request id to every other answer;
        # the service sends one with every error too (users quote it to AWS support).
        gen_amzn_requestid_long(headers)
        return status, headers, body  # type: ignore[return-value]

    def serialized(self, action_result: ActionResult) -> Any:
        """moto's serialization, plus what the model cannot say: faults are HTTP 500 and
        ``RetryAfterSeconds`` is also sent as a ``Retry-After`` header."""
        status, headers, body = super().serialized(action_result)
        error = action_result.result
        if isinstance(error, Exception):
            code = getattr(error, "code", type(error).__name__)
            if code in fault_error_codes():
                status = 500
            retry_after = getattr(error, "retry_after_seconds", None)
            if retry_after is not None:
                headers["Retry-After"] = str(retry_after)
        return status, headers, body

    def _drop_connection(self) -> tuple[int, dict[str, str], str]:
        sock = self.normalized_request.environ.get("werkzeug.socket")
        if sock is None:
            # In-process there is no socket: raise what botocore raises when a server hangs up.
            raise ConnectionClosedError(endpoint_url=self.uri)
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        # Never reaches the client: werkzeug finds the socket shut and drops the response.
        return 500, {}, ""

    def _page(self, method: Callable[..., tuple[list[Any], str | None]], **kwargs: Any) -> tuple[list[Any], Any]:
        # moto's paginator raises its own InvalidToken (an HTTP error moto answers as-is), or a plain
        # Python error for some forged tokens (page_token checks those first); the service answers a bad
        # NextToken with a ValidationException.
        token = self.params.get("NextToken")
        try:
            if token is not None:
                page_token(token)
            return method(max_results=self.params.get("MaxResults"), next_token=token, **kwargs)
        except InvalidToken as err:
            raise ValidationException(
                "Invalid NextToken: it is not a token this operation returned, or it has expired",
                REASON_OTHER,
                [{"Name": "NextToken", "Message": "Invalid token"}],
            ) from err

    # -- operations --------------------------------------------------------------------------------

    def create_workflow(self) -> ActionResult:
        return ActionResult(self.backend.create_workflow(self.params))

    def get_workflow(self) -> ActionResult:
        return ActionResult(self.backend.get_workflow(self.params["WorkflowArn"], self.params.get("WorkflowVersion")))

    def update_workflow(self) -> ActionResult:
        return ActionResult(self.backend.update_workflow(self.params))

    def delete_workflow(self) -> ActionResult:
        return ActionResult(
            self.backend.delete_workflow(self.params["WorkflowArn"], self.params.get("WorkflowVersion"))
        )

    def list_workflows(self) -> ActionResult:
        workflows, token = self._page(self.backend.list_workflows)
        return ActionResult({"Workflows": [w.summary() for w in workflows], "NextToken": token})

    def list_workflow_versions(self) -> ActionResult:
        arn = self.params["WorkflowArn"]
        versions, token = self._page(self.backend.list_workflow_versions, workflow_arn=arn)
        latest = self.backend.workflows[arn].latest
        return ActionResult({"WorkflowVersions": [v.summary(v is latest) for v in versions], "NextToken": token})

    def start_workflow_run(self) -> ActionResult:
        return ActionResult(self.backend.start_workflow_run(self.params))

    def get_workflow_run(self) -> ActionResult:
        return ActionResult(self.backend.get_workflow_run(self.params["WorkflowArn"], self.params["RunId"]))

    def stop_workflow_run(self) -> ActionResult:
        return ActionResult(self.backend.stop_workflow_run(self.params["WorkflowArn"], self.params["RunId"]))

    def list_workflow_runs(self) -> ActionResult:
        runs, token = self._page(
            self.backend.list_workflow_runs,
            workflow_arn=self.params["WorkflowArn"],
            workflow_version=self.params.get("WorkflowVersion"),
        )
        for run in runs:
            run.read()  # listing a run is a read of it, like GetWorkflowRun
        # the hot response of a poller: serialized by fast_json (byte-identical to moto's serializer)
        return FastJsonResult({"WorkflowRuns": [r.summary() for r in runs], "NextToken": token}, "ListWorkflowRuns")

    def list_task_instances(self) -> ActionResult:
        instances, token = self._page(
            self.backend.list_task_instances, workflow_arn=self.params["WorkflowArn"], run_id=self.params["RunId"]
        )
        return ActionResult({"TaskInstances": instances, "NextToken": token})

    def get_task_instance(self) -> ActionResult:
        return ActionResult(
            self.backend.get_task_instance(
                self.params["WorkflowArn"], self.params["RunId"], self.params["TaskInstanceId"]
            )
        )

    def tag_resource(self) -> ActionResult:
        self.backend.tag_resource(self.params["ResourceArn"], self.params["Tags"])
        return EmptyResult()

    def untag_resource(self) -> ActionResult:
        self.backend.untag_resource(self.params["ResourceArn"], self.params["TagKeys"])
        return EmptyResult()

    def list_tags_for_resource(self) -> ActionResult:
        return ActionResult({"Tags": self.backend.list_tags_for_resource(self.params["ResourceArn"])})

    def create_airflow_ui_url(self) -> ActionResult:
        return ActionResult(self.backend.create_airflow_ui_url(self.params))
