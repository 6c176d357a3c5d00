"""Credential failures in a triggerer: several triggers on several connections in one event loop.

The emulator's own server (moto: MWAA Serverless, IAM and STS on one endpoint) with moto's IAM checks
switched on (``/moto-api/reset-auth``): keys are real IAM access keys, a revoked one is refused
(``UnrecognizedClientException``), and STS refuses AssumeRole when the role's trust policy does not name
the caller. Real aiobotocore clients over HTTP; no mock of the provider.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from airflow_provider_mwaas.triggers import coalescing, shared_clients
from airflow_provider_mwaas.triggers.shared_clients import client_key, client_pool
from tests.triggers.conftest import make_trigger, only_event
from tests.triggers.test_sharing_and_coalescing import until

pytestmark = pytest.mark.timeout(120)

ACCOUNT = "123456789012"
ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


@pytest.fixture(scope="module")
def iam_emulator() -> Iterator[Any]:
    """An emulator server of this module's own: its IAM checks are switched on and off per test."""
    from airflow_provider_mwaas.emulator import EmulatorServer

    with EmulatorServer(host="127.0.0.1", port=0, transitions="call") as server:
        yield server


@pytest.fixture
def aws(iam_emulator: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The server reset, IAM checks off until :meth:`Aws.enforce`; on again after the test."""
    helper = Aws(iam_emulator.url, monkeypatch)
    helper.set_checks(False)
    helper.post("/moto-api/reset", b"")  # every moto backend: IAM users, keys and roles of earlier tests
    iam_emulator.control.reset()
    iam_emulator.control.configure_transitions(mode="call", calls_per_state=1)
    monkeypatch.setattr("airflow_provider_mwaas.service.error_kinds.MAX_BACKOFF_FACTOR", 1)
    monkeypatch.setattr("airflow_provider_mwaas.service.error_kinds.MAX_CONSECUTIVE_TRANSIENT_FAILURES", 2)
    try:
        yield helper
    finally:
        helper.set_checks(False)


class Aws:
    """IAM users, keys, roles and Airflow connections on the module's emulator."""

    def __init__(self, url: str, monkeypatch: pytest.MonkeyPatch) -> None:
        self.url = url
        self.monkeypatch = monkeypatch
        self.admin: tuple[str, str] | None = None

    def set_checks(self, on: bool) -> None:
        """moto's IAM checks on every request from now on (``on``), or none."""
        self.post("/moto-api/reset-auth", b"0" if on else b"inf")

    def post(self, path: str, body: bytes) -> None:
        request = urllib.request.Request(
            f"{self.url}{path}", data=body, method="POST", headers={"Content-Type": "text/plain"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200

    def client(self, service: str, key: tuple[str, str] | None = None) -> Any:
        key_id, secret = key or self.admin or ("testing", "testing")
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id=key_id,
            aws_secret_access_key=secret,
            aws_session_token=None,
        )

    def user(self, name: str) -> tuple[str, str]:
        """A user allowed every action, and a key of it."""
        iam = self.client("iam")
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName="all", PolicyDocument=json.dumps(ALLOW_ALL))
        return self.key(name)

    def key(self, user: str) -> tuple[str, str]:
        created = self.client("iam").create_access_key(UserName=user)["AccessKey"]
        return created["AccessKeyId"], created["SecretAccessKey"]

    def revoke(self, user: str, key: tuple[str, str]) -> None:
        self.client("iam").delete_access_key(UserName=user, AccessKeyId=key[0])

    def role(self, name: str, trusted_user: str) -> str:
        """A role allowed every action, whose trust policy names only ``trusted_user``."""
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/{trusted_user}"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        iam = self.client("iam")
        arn = str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"])
        iam.put_role_policy(RoleName=name, PolicyName="all", PolicyDocument=json.dumps(ALLOW_ALL))
        return arn

    def connection(self, conn_id: str, key: tuple[str, str], role_arn: str | None = None) -> str:
        """An ``aws`` connection to the emulator (STS too, for role assumption); set again to edit it."""
        extra: dict[str, Any] = {"region_name": "us-east-1", "endpoint_url": self.url}
        if role_arn:
            extra.update(role_arn=role_arn, service_config={"sts": {"endpoint_url": self.url}})
        conn = {"conn_type": "aws", "login": key[0], "password": key[1], "extra": extra}
        self.monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
        return conn_id


def start_runs(aws: Any, workflow_arn: str, count: int) -> list[str]:
    client = aws.client("mwaa-serverless")
    return [str(client.start_workflow_run(WorkflowArn=workflow_arn)["RunId"]) for _ in range(count)]


async def events_of(triggers: list[Any]) -> list[Any]:
    """Run the triggers in this event loop, as the triggerer does; an escaped exception is returned."""
    return list(await asyncio.gather(*(only_event(t) for t in triggers), return_exceptions=True))


async def test_a_refused_role_assumption_is_an_error_event_of_its_triggers_only(iam_emulator: Any, aws: Aws) -> None:
    workflow_arn = iam_emulator.control.create_workflow(name="orders")
    aws.admin = aws.user("admin")
    key = aws.user("airflow")
    refusing = aws.role("refusing", trusted_user="someone-else")
    good = aws.connection("mwaas_good", key)
    refused = aws.connection("mwaas_refused", key, role_arn=refusing)
    runs = start_runs(aws, workflow_arn, 5)
    aws.set_checks(True)

    conns = [good, refused, good, refused, good]
    events = await events_of([make_trigger(conn, workflow_arn, run) for conn, run in zip(conns, runs, strict=True)])

    assert not [e for e in events if isinstance(e, BaseException)], "no exception escapes a trigger"
    for conn, run_id, event in zip(conns, runs, events, strict=True):
        assert event["run_id"] == run_id
        if conn == good:
            assert event["status"] == "success", event
            continue
        assert event["status"] == "error", event
        assert (event["error"]["operation"], event["error"]["code"]) == ("AssumeRole", "AccessDenied")
        assert f"connection 'mwaas_refused': Could not assume role {refusing}" in event["message"]
        assert "trust policy" in event["message"]
    assert client_pool().entries == {}


async def test_a_rotated_key_rebuilds_the_shared_client_and_a_revoked_one_fails_only_its_triggers(
    iam_emulator: Any, aws: Aws
) -> None:
    workflow_arn = iam_emulator.control.create_workflow(name="orders")
    aws.admin = aws.user("admin")
    old_key, revoked_key, steady_key = aws.user("rotating"), aws.user("leaver"), aws.user("steady")
    rotating = aws.connection("mwaas_rotating", old_key)
    revoked = aws.connection("mwaas_revoked", revoked_key)
    steady = aws.connection("mwaas_steady", steady_key)
    iam_emulator.control.hold(workflow_arn=workflow_arn)
    runs = start_runs(aws, workflow_arn, 5)
    aws.set_checks(True)

    conns = [rotating, revoked, steady, rotating, revoked]
    tasks = [
        asyncio.ensure_future(only_event(make_trigger(c, workflow_arn, r))) for c, r in zip(conns, runs, strict=True)
    ]
    await until(lambda: len(coalescing.pollers()) == 3 and all(p.polls >= 1 for p in coalescing.pollers().values()))
    entry = client_pool().entries[client_key({"aws_conn_id": rotating})]
    assert entry.builds == 1

    new_key = aws.key("rotating")
    aws.connection(rotating, new_key)  # the connection is rotated first, then the old key revoked
    aws.revoke("rotating", old_key)
    aws.revoke("leaver", revoked_key)  # revoked, and its connection never fixed
    iam_emulator.control.release(workflow_arn=workflow_arn)
    events = await asyncio.gather(*tasks, return_exceptions=True)

    assert not [e for e in events if isinstance(e, BaseException)], "no exception escapes a trigger"
    for conn, run_id, event in zip(conns, runs, events, strict=True):
        assert event["run_id"] == run_id
        if conn == revoked:
            assert event["status"] == "error", event
            assert event["error"]["code"] == "UnrecognizedClientException"
            assert "security token included in the request is invalid" in event["message"]
        else:
            assert event["status"] == "success", event
    assert entry.builds == 2, "the rotated connection's client was rebuilt once, with the new key"


async def test_a_trigger_arriving_after_the_connection_was_edited_gets_the_edited_connection(
    iam_emulator: Any, aws: Aws
) -> None:
    workflow_arn = iam_emulator.control.create_workflow(name="orders")
    aws.admin = aws.user("admin")
    key = aws.user("airflow")
    first, second = aws.role("first", trusted_user="airflow"), aws.role("second", trusted_user="airflow")
    conn_id = aws.connection("mwaas_edited", key, role_arn=first)
    iam_emulator.control.hold(workflow_arn=workflow_arn)
    early, late = start_runs(aws, workflow_arn, 2)
    aws.set_checks(True)

    waiting = asyncio.ensure_future(only_event(make_trigger(conn_id, workflow_arn, early)))
    await until(lambda: len(coalescing.pollers()) == 1 and next(iter(coalescing.pollers().values())).polls >= 1)
    entry = client_pool().entries[client_key({"aws_conn_id": conn_id})]
    assert await assumed_role(aws, entry) == "first"

    aws.connection(conn_id, key, role_arn=second)  # a user edits the connection's role
    arriving = asyncio.ensure_future(only_event(make_trigger(conn_id, workflow_arn, late)))
    await until(lambda: entry.users == 2 and entry.builds == 2 and entry._client is not None)
    assert await assumed_role(aws, entry) == "second"

    iam_emulator.control.release(workflow_arn=workflow_arn)
    events = await asyncio.gather(waiting, arriving)
    assert [(e["status"], e["run_id"]) for e in events] == [("success", early), ("success", late)]


async def test_a_shared_client_is_rebuilt_from_the_connection_once_it_is_max_client_age_old(
    aws_conn_env: str, emulator: Any, workflow_arn: str, start_run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shared_clients, "MAX_CLIENT_AGE", 1.0)
    emulator.control.hold(workflow_arn=workflow_arn)
    run_id = start_run()
    task = asyncio.ensure_future(only_event(make_trigger(aws_conn_env, workflow_arn, run_id)))
    await until(lambda: bool(client_pool().entries))
    (entry,) = client_pool().entries.values()
    await until(lambda: entry.builds >= 3)
    emulator.control.release(workflow_arn=workflow_arn)
    assert (await task)["status"] == "success"


async def assumed_role(aws: Aws, entry: Any) -> str:
    """The role whose credentials the shared client signs with (asked of STS with those credentials)."""
    frozen = await entry._client._request_signer._credentials.get_frozen_credentials()
    sts = boto3.client(
        "sts",
        endpoint_url=aws.url,
        region_name="us-east-1",
        aws_access_key_id=frozen.access_key,
        aws_secret_access_key=frozen.secret_key,
        aws_session_token=frozen.token,
    )
    arn = await asyncio.to_thread(lambda: str(sts.get_caller_identity()["Arn"]))
    return arn.split(":assumed-role/")[1].split("/")[0]
