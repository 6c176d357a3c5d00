"""``MwaaServerlessHook.test_connection()``: one cheap real call, and a message that says what to fix.

Success, role assumption, unreachable endpoints and injected server errors run against the emulator.
The refusals the emulator cannot produce (access denied, expired or unknown keys, a refused
AssumeRole) come from a tiny local HTTP server answering exactly what AWS answers on the wire, so
botocore parses them as it would in production. A region that does not resolve is the one case that
needs DNS, which cannot be real here: that test makes the lookup fail the way a resolver does.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from airflow_provider_mwaas.hooks.mwaa_serverless import MwaaServerlessHook

ROLE_ARN = "arn:aws:iam::222222222222:role/airflow-mwaas"


def _connection(monkeypatch: pytest.MonkeyPatch, conn_type: str = "mwaa_serverless", **extra: Any) -> str:
    conn = {"conn_type": conn_type, "login": "testing", "password": "testing", "extra": extra}
    monkeypatch.setenv("AIRFLOW_CONN_MWAAS_TEST", json.dumps(conn))
    return "mwaas_test"


def _test(conn_id: str, **hook_kwargs: Any) -> tuple[bool, str]:
    return MwaaServerlessHook(aws_conn_id=conn_id, **hook_kwargs).test_connection()


class _AwsErrorServer(ThreadingHTTPServer):
    """Answers every request with one AWS error: JSON 1.0 for MWAA Serverless, query XML for STS."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _AwsErrorHandler)
        self.json_error: tuple[int, str, str] = (400, "ValidationException", "unset")
        self.sts_error: tuple[int, str, str] | None = None
        self.requests: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _AwsErrorHandler(BaseHTTPRequestHandler):
    server: _AwsErrorServer

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        if "Action=AssumeRole" in body and self.server.sts_error is not None:
            self.server.requests.append("AssumeRole")
            status, code, message = self.server.sts_error
            payload = (
                f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message>"
                "</Error><RequestId>sts-request-1</RequestId></ErrorResponse>"
            ).encode()
            headers = {"Content-Type": "text/xml"}
        else:
            self.server.requests.append(str(self.headers.get("X-Amz-Target", "")).rsplit(".", 1)[-1])
            status, code, message = self.server.json_error
            payload = json.dumps({"__type": code, "message": message}).encode()
            headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "mwaas-request-1"}
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def aws_errors() -> Iterator[_AwsErrorServer]:
    server = _AwsErrorServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


# -- success ------------------------------------------------------------------------------------


def test_a_form_connection_to_the_emulator_passes_and_says_where_it_looked(
    emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator.control.create_workflow(name="orders")
    conn_id = _connection(monkeypatch, region_name="us-east-1", endpoint_url=emulator.url, role_arn=None)

    ok, message = _test(conn_id)

    assert ok, message
    assert (
        message == f"Connection works: ListWorkflows answered in us-east-1 at {emulator.url}; "
        "at least one workflow is visible; the run actions are allowed."
    )
    probes = {operation: 1 for operation, _ in MwaaServerlessHook.RUN_ACTION_PROBES}
    assert emulator.control.counters()["requests"] == {"ListWorkflows": 1, **probes}


def test_an_existing_aws_connection_passes_too(emulator: Any, aws_conn_env: str) -> None:
    ok, message = _test(aws_conn_env)

    assert ok, message
    assert "no workflow is visible yet" in message


def test_a_role_in_another_account_is_assumed_and_sees_that_accounts_workflows(
    emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator.control.create_workflow(name="orders", region="eu-west-1", account_id="222222222222")
    base = {"region_name": "eu-west-1", "endpoint_url": emulator.url}

    own_ok, own = _test(_connection(monkeypatch, **base))
    role_ok, role = _test(_connection(monkeypatch, **base, role_arn=ROLE_ARN, sts_endpoint_url=emulator.url))

    assert own_ok and "no workflow is visible yet" in own
    assert role_ok and f"as role {ROLE_ARN}; at least one workflow is visible" in role


# -- failures -----------------------------------------------------------------------------------


def test_an_unreachable_endpoint_names_the_url_and_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    closed = _closed_port_url()
    conn_id = _connection(monkeypatch, region_name="us-east-1", endpoint_url=closed)

    ok, message = _test(conn_id)

    assert not ok
    assert message.startswith(f"Unreachable endpoint {closed}/ (")
    assert "Connection refused" in message
    assert "Check MWAA Serverless endpoint URL in the connection" in message


def test_an_unreachable_sts_endpoint_names_the_role_and_the_sts_field(
    emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed = _closed_port_url()
    conn_id = _connection(
        monkeypatch, region_name="us-east-1", endpoint_url=emulator.url, role_arn=ROLE_ARN, sts_endpoint_url=closed
    )

    ok, message = _test(conn_id)

    assert not ok
    assert message.startswith(f"Unreachable STS endpoint {closed}/ while assuming role {ROLE_ARN}")
    assert "Check STS endpoint URL in the connection" in message
    assert emulator.control.counters()["requests"] == {}  # never got as far as MWAA Serverless


def test_the_test_makes_one_attempt_only(emulator: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The user is waiting in the browser: no retry storm behind the button (tasks still retry)."""
    emulator.control.set_faults(internal_error=1.0, operations=["ListWorkflows"])
    conn_id = _connection(monkeypatch, region_name="us-east-1", endpoint_url=emulator.url)

    ok, message = _test(conn_id)

    assert not ok
    assert message.startswith("ListWorkflows failed with InternalServerException")
    assert emulator.control.counters()["requests"] == {"ListWorkflows": 1}


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("AccessDeniedException", "Grant the connection's identity the IAM action airflow-serverless:ListWorkflows"),
        ("ExpiredTokenException", "Expired credentials: ListWorkflows failed with ExpiredTokenException"),
        ("UnrecognizedClientException", "Invalid credentials: ListWorkflows failed with UnrecognizedClientException"),
    ],
    ids=["access_denied", "expired_credentials", "unknown_keys"],
)
def test_a_service_refusal_says_what_to_fix(
    aws_errors: _AwsErrorServer, monkeypatch: pytest.MonkeyPatch, code: str, expected: str
) -> None:
    aws_errors.json_error = (400 if code != "AccessDeniedException" else 403, code, "refused by the service")
    conn_id = _connection(monkeypatch, region_name="us-east-1", endpoint_url=aws_errors.url)

    ok, message = _test(conn_id)

    assert not ok
    assert expected in message
    assert "refused by the service" in message and "request id: mwaas-request-1" in message
    assert aws_errors.requests == ["ListWorkflows"]


def test_access_denied_lists_every_action_the_provider_needs(
    aws_errors: _AwsErrorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws_errors.json_error = (403, "AccessDeniedException", "not authorized")
    conn_id = _connection(monkeypatch, region_name="us-east-1", endpoint_url=aws_errors.url)

    _, message = _test(conn_id)

    for action in MwaaServerlessHook.IAM_ACTIONS:
        assert action in message


def test_a_refused_assume_role_names_the_role_and_sts_assume_role(
    aws_errors: _AwsErrorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws_errors.sts_error = (403, "AccessDenied", "not authorized to perform: sts:AssumeRole")
    conn_id = _connection(
        monkeypatch,
        region_name="us-east-1",
        endpoint_url=aws_errors.url,
        role_arn=ROLE_ARN,
        sts_endpoint_url=aws_errors.url,
        external_id="orders-team",
    )

    ok, message = _test(conn_id)

    assert not ok
    assert message.startswith(f"Could not assume role {ROLE_ARN}: AssumeRole failed with AccessDenied")
    assert "needs sts:AssumeRole on that role" in message and "External ID" in message
    assert aws_errors.requests == ["AssumeRole"]


def test_expired_keys_under_a_role_are_reported_as_expired(
    aws_errors: _AwsErrorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws_errors.sts_error = (403, "ExpiredToken", "The security token included in the request is expired")
    conn_id = _connection(
        monkeypatch,
        region_name="us-east-1",
        endpoint_url=aws_errors.url,
        role_arn=ROLE_ARN,
        sts_endpoint_url=aws_errors.url,
    )

    ok, message = _test(conn_id)

    assert not ok
    assert message.startswith("Expired credentials: AssumeRole failed with ExpiredToken")


def test_a_malformed_region_is_reported_before_any_request(emulator: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    conn_id = _connection(monkeypatch, region_name="us east 1", endpoint_url=emulator.url)

    ok, message = _test(conn_id)

    assert not ok
    assert message.startswith("Unknown region 'us east 1': set AWS Region")
    assert emulator.control.counters()["requests"] == {}


def test_a_region_botocore_does_not_know_is_reported_as_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    host = "airflow-serverless.xx-nowhere-9.api.aws"
    real_getaddrinfo = socket.getaddrinfo

    def resolver(name: Any, *args: Any, **kwargs: Any) -> Any:
        if name == host:  # what a resolver answers for a region that does not exist
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real_getaddrinfo(name, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    conn_id = _connection(monkeypatch, region_name="xx-nowhere-9")

    ok, message = _test(conn_id)

    assert not ok
    assert message.startswith("Unknown region 'xx-nowhere-9': botocore does not know it")
    assert "Check AWS Region in the connection" in message


def test_no_region_anywhere_says_where_to_set_one(emulator: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    conn_id = _connection(monkeypatch, endpoint_url=emulator.url, region_name="")

    ok, message = _test(conn_id)

    assert not ok
    assert message.startswith("No region: set AWS Region in the connection")


def test_an_unknown_connection_id_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    ok, message = MwaaServerlessHook(aws_conn_id="no_such_connection").test_connection()

    assert not ok
    assert "Invalid aws_conn_id: 'no_such_connection'" in message


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_a_denied_run_action_is_named_and_fails_the_test(emulator: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    emulator.control.create_workflow(name="visible")  # the probe takes the account from its ARN
    emulator.control.script_refusal("AccessDeniedException", operations=["GetWorkflowRun"], count=None)
    conn_id = _connection(monkeypatch, region_name="us-east-1", endpoint_url=emulator.url)

    ok, message = _test(conn_id)

    assert not ok
    assert "is denied airflow-serverless:GetWorkflowRun (probed on a workflow that does not exist" in message
    assert "StartWorkflowRun (" not in message.split("Tasks need")[0]
    assert emulator.control.counters()["runs_started"] == 0


def test_every_run_action_is_probed_without_starting_anything(emulator: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # No workflow to take the account from: STS GetCallerIdentity (an aws connection's endpoint_url is
    # every service's, so STS is the emulator's too).
    conn_id = _connection(monkeypatch, conn_type="aws", region_name="us-east-1", endpoint_url=emulator.url)

    ok, message = _test(conn_id)

    assert ok, message
    assert message.endswith("the run actions are allowed.")
    requests = emulator.control.counters()["requests"]
    for operation, _ in MwaaServerlessHook.RUN_ACTION_PROBES:
        assert requests.get(operation) == 1, (operation, requests)
    assert emulator.control.counters()["runs_started"] == 0


def test_run_actions_not_probed_when_the_account_is_unknown_still_passes(
    emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A form connection with no STS endpoint and no workflow visible: the account cannot be learned here
    # (STS would be AWS's), so the probes are skipped with the reason; the connection itself works.
    unreachable = f"http://127.0.0.1:{_free_port()}"
    conn_id = _connection(monkeypatch, region_name="us-east-1", endpoint_url=emulator.url, sts_endpoint_url=unreachable)

    ok, message = _test(conn_id)

    assert ok, message
    assert "Run actions not probed: Unreachable STS endpoint" in message
    assert emulator.control.counters()["requests"] == {"ListWorkflows": 1}


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
