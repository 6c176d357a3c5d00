"""An asset watcher's trigger: fires once per run of a workflow that ends in a chosen state, read from SQS.

The events come from EventBridge (the service's run-state events, a rule sending them to an SQS queue:
``MwaaServerlessHook.ensure_events_queue``, docs/events.md). Use it in an ``AssetWatcher`` (Airflow 3)::

    Asset("mwaas://orders/succeeded", watchers=[AssetWatcher(name="orders_succeeded",
        trigger=WorkflowRunEventsTrigger(queue_url=..., workflow_arn=...))])

Why not the amazon provider's ``SqsSensorTrigger`` (9.39): it yields one event per received *batch*
(several runs would make one asset event), holds every message body in the payload rather than the run
id and ARN, filters by literal or JSONPath only (the ``detail`` fields are undocumented; we read events
with :func:`~airflow_provider_mwaas.service.run_events.read_run_event`, which does not depend on them),
sleeps ``waiter_delay`` (60 s) between empty polls and does not release the messages it filters out.
``common-messaging``'s ``MessageQueueTrigger`` wraps that same trigger for SQS.

Delivery rules (docs/events.md, "Delivery"; what each message means is
:class:`~.workflow_run_messages.FiringRule`'s): a message this trigger fires on is deleted after the event
is yielded (at-least-once: a triggerer restart in between fires it again; the run id dedupes within one
triggerer); a message it cannot use is left to other consumers (hidden from them for ``hold_seconds``
at most, released at once when the watcher stops) and deleted only when older than
``stale_after_seconds``; a duplicate of a run already fired is deleted.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import TriggerEvent

from airflow_provider_mwaas.errors import InvalidParameterError
from airflow_provider_mwaas.hooks.aws_params import DEFAULT_CONN_ID, MwaaServerlessHookMixin
from airflow_provider_mwaas.service.run_states import TERMINAL_STATES
from airflow_provider_mwaas.triggers.workflow_run_messages import OTHER, SEEN_RUNS, FiringRule  # noqa: F401  (SEEN_RUNS re-exported)
from airflow_provider_mwaas.version_compat import BaseEventTrigger

#: botocore-free shape checks (the trigger is built at every DAG parse): the model's own pattern is
#: checked by the service when the ARN is used elsewhere.
_WORKFLOW_ARN = re.compile(r"arn:aws[a-z-]*:airflow-serverless:[a-z0-9-]+:\d{12}:workflow/[A-Za-z0-9_.-]+")
_QUEUE_URL = re.compile(r"https?://\S+/\d{12}/[A-Za-z0-9_-]{1,80}")
FIRST_BACKOFF_SECONDS = 5.0


class WorkflowRunEventsTrigger(MwaaServerlessHookMixin, BaseEventTrigger):
    """Fire once per run of ``workflow_arn`` that ends in one of ``states``, from an SQS queue of events.

    The event's payload (the asset event's ``extra["payload"]``): ``workflow_arn``, ``run_id``, ``state``,
    ``detail_type``, ``event_id``, ``event_time``.

    :param queue_url: the SQS queue EventBridge sends the service's events to.
    :param workflow_arn: the workflow whose runs fire the trigger.
    :param states: terminal run states that fire it (default ``["SUCCESS"]``).
    :param aws_conn_id: the AWS connection (an ``aws`` or ``mwaa_serverless`` connection).
    :param region_name: the queue's region (default: the connection's).
    :param verify: TLS verification, as for the amazon provider.
    :param botocore_config: botocore config as a dict.
    :param wait_time_seconds: SQS long poll per receive (1..20); an empty queue returns after it.
    :param hold_seconds: how long a received message stays hidden from other consumers (its
        visibility timeout) while this trigger decides; >= 1.
    :param stale_after_seconds: a message this trigger cannot use is deleted once it is older than
        this (sent time); ``None`` never deletes one (the queue's retention period drops it).
    :param max_backoff_seconds: the longest wait between retries when the queue cannot be read.
    """

    def __init__(
        self,
        queue_url: str,
        workflow_arn: str,
        states: list[str] | None = None,
        aws_conn_id: str | None = DEFAULT_CONN_ID,
        region_name: str | None = None,
        verify: bool | str | None = None,
        botocore_config: dict[str, Any] | None = None,
        wait_time_seconds: int = 20,
        hold_seconds: int = 30,
        stale_after_seconds: int | None = 3600,
        max_backoff_seconds: float = 300.0,
    ) -> None:
        super().__init__()
        if not isinstance(queue_url, str) or not _QUEUE_URL.fullmatch(queue_url):
            raise InvalidParameterError("queue_url", queue_url, "an SQS queue URL, https://HOST/ACCOUNT/QUEUE_NAME")
        if not isinstance(workflow_arn, str) or not _WORKFLOW_ARN.fullmatch(workflow_arn):
            allowed = "a workflow ARN, arn:aws:airflow-serverless:REGION:ACCOUNT:workflow/NAME-ID"
            raise InvalidParameterError("workflow_arn", workflow_arn, allowed)
        states = list(states) if states is not None else ["SUCCESS"]
        if not states or isinstance(states, str) or any(s not in TERMINAL_STATES for s in states):
            raise InvalidParameterError("states", states, f"a non-empty list of {sorted(TERMINAL_STATES)}")
        if not isinstance(wait_time_seconds, int) or not 1 <= wait_time_seconds <= 20:
            raise InvalidParameterError("wait_time_seconds", wait_time_seconds, "an integer from 1 to 20")
        if not isinstance(hold_seconds, int) or not 1 <= hold_seconds <= 43200:
            raise InvalidParameterError("hold_seconds", hold_seconds, "an integer from 1 to 43200 (12 hours)")
        if stale_after_seconds is not None and (not isinstance(stale_after_seconds, int) or stale_after_seconds < 0):
            raise InvalidParameterError("stale_after_seconds", stale_after_seconds, "None or an integer >= 0")
        self.queue_url = queue_url
        self.workflow_arn = workflow_arn
        self.states = states
        self._init_aws_params(aws_conn_id, region_name, verify, botocore_config)
        self.wait_time_seconds = wait_time_seconds
        self.hold_seconds = hold_seconds
        self.stale_after_seconds = stale_after_seconds
        self.max_backoff_seconds = float(max_backoff_seconds)
        self._rule = FiringRule(workflow_arn, states, stale_after_seconds)
        #: message id -> (receipt handle, monotonic time it is visible again): released when the watcher stops
        self._held: dict[str, tuple[str, float]] = {}

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Classpath and kwargs (no secrets: the connection is named, never copied)."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "queue_url": self.queue_url,
                "workflow_arn": self.workflow_arn,
                "states": list(self.states),
                **self.hook_params,
                "wait_time_seconds": self.wait_time_seconds,
                "hold_seconds": self.hold_seconds,
                "stale_after_seconds": self.stale_after_seconds,
                "max_backoff_seconds": self.max_backoff_seconds,
            },
        )

    # -- the loop ------------------------------------------------------------------------------------

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Receive forever; yield one event per matching run; back off while the queue cannot be read."""
        hook = self.hook
        backoff = 0.0
        client: Any = None
        creator: Any = None
        try:
            while True:
                try:
                    if client is None:
                        creator = await asyncio.to_thread(hook.sqs_async_client_creator)
                        client = await hook.open_async_client(creator)
                    messages = await self._receive(client)
                except Exception as err:  # a long-lived watcher: log, back off, retry
                    first = not backoff
                    backoff = min(self.max_backoff_seconds, backoff * 2 or FIRST_BACKOFF_SECONDS)
                    self._log_unreadable(err, backoff, first)
                    await _close(creator)
                    client = creator = None
                    await asyncio.sleep(backoff)
                    continue
                if backoff:
                    self.log.info("SQS queue %s is readable again", self.queue_url)
                    backoff = 0.0
                for message in messages:
                    verdict, payload = self._rule.classify(message, self.log)
                    if payload is not None:
                        yield TriggerEvent(payload)
                    if verdict != OTHER or self._rule.stale(message, self.log):
                        await self._delete(client, message)
        finally:
            await self._release_held(client)
            await _close(creator)

    async def _receive(self, client: Any) -> list[dict[str, Any]]:
        response = await client.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=self.wait_time_seconds,
            VisibilityTimeout=self.hold_seconds,
            MessageSystemAttributeNames=["SentTimestamp"],
        )
        messages: list[dict[str, Any]] = response.get("Messages") or []
        now = time.monotonic()
        self._held = {k: v for k, v in self._held.items() if v[1] > now}  # visible again by themselves
        for message in messages:
            self._held[message["MessageId"]] = (message["ReceiptHandle"], now + self.hold_seconds)
        return messages

    async def _delete(self, client: Any, message: dict[str, Any]) -> None:
        self._held.pop(message["MessageId"], None)
        try:
            await client.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        except Exception as err:  # it comes back after hold_seconds; the run id dedupes it
            self.log.warning("Could not delete message %s from %s: %s", message["MessageId"], self.queue_url, err)

    async def _release_held(self, client: Any) -> None:
        """Make the messages still hidden by this trigger visible again at once (the watcher is stopping)."""
        held, self._held = self._held, {}
        if client is None:
            return
        now = time.monotonic()
        handles = [handle for handle, visible_at in held.values() if visible_at > now]
        entries = [{"Id": str(i), "ReceiptHandle": h, "VisibilityTimeout": 0} for i, h in enumerate(handles)]
        for start in range(0, len(entries), 10):
            try:
                await client.change_message_visibility_batch(
                    QueueUrl=self.queue_url, Entries=entries[start : start + 10]
                )
            except Exception as err:  # they come back after hold_seconds anyway
                self.log.warning("Could not release %d message(s) of %s: %s", len(entries), self.queue_url, err)
                return

    def _log_unreadable(self, err: Exception, backoff: float, first: bool) -> None:
        code = (getattr(err, "response", None) or {}).get("Error", {}).get("Code") or type(err).__name__
        if first:  # one line per outage; the retries are quiet
            self.log.error(
                "Cannot read SQS queue %s (%s: %s). Check that it exists (MwaaServerlessHook.ensure_events_queue), "
                "its region and that the connection may sqs:ReceiveMessage and sqs:DeleteMessage; retrying with "
                "backoff up to %.0fs",
                self.queue_url,
                code,
                err,
                self.max_backoff_seconds,
            )
        else:
            self.log.debug("SQS queue %s still unreadable (%s); next try in %.0fs", self.queue_url, code, backoff)


async def _close(creator: Any) -> None:
    if creator is not None:
        with contextlib.suppress(Exception):  # closing a broken client
            await creator.__aexit__(None, None, None)
