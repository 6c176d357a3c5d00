"""A faithful stand-in for the amazon provider's trigger design, for the density benchmark only.

``AwsBaseWaiterTrigger.run`` (amazon 9.39.0) builds ONE hook per trigger, awaits
``hook.get_async_conn()`` (connection lookup and session creation through asgiref's ``sync_to_async``,
i.e. one shared worker thread), enters that aiobotocore client, then loops: one describe call per
attempt (``async_wait`` -> ``waiter.wait(..., MaxAttempts=1)``), a status log line, ``asyncio.sleep``.
The provider has no MWAA Serverless waiter (botocore's waiters file for the service is empty), so the
waiter's single attempt is written out as the GetWorkflowRun call it would make. Not part of the
package: nothing here is used by the provider.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook
from airflow.triggers.base import BaseTrigger, TriggerEvent
from botocore.exceptions import ClientError

TERMINAL = frozenset({"SUCCESS", "FAILED", "TIMEOUT", "STOPPED"})


class UpstreamStyleTrigger(BaseTrigger):
    """One hook + session + aiobotocore client per trigger; GetWorkflowRun per run per interval.

    :param on_ready: called with the run id once the trigger holds its client (benchmark instrumentation).
    :param on_poll: called with the run id after each poll (benchmark instrumentation).
    """

    def __init__(
        self,
        *,
        workflow_arn: str,
        run_id: str,
        waiter_delay: int,
        waiter_max_attempts: int,
        aws_conn_id: str | None,
        region_name: str | None = None,
        verify: bool | str | None = None,
        botocore_config: dict[str, Any] | None = None,
        on_ready: Callable[[str], None] | None = None,
        on_poll: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__()
        self.workflow_arn, self.run_id = workflow_arn, run_id
        self.waiter_delay, self.attempts = waiter_delay, waiter_max_attempts
        self.aws_conn_id, self.region_name, self.verify, self.botocore_config = (
            aws_conn_id,
            region_name,
            verify,
            botocore_config,
        )
        self.on_ready, self.on_poll = on_ready, on_poll

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{self.__class__.__module__}.{self.__class__.__qualname__}",
            {
                "workflow_arn": self.workflow_arn,
                "run_id": self.run_id,
                "waiter_delay": self.waiter_delay,
                "waiter_max_attempts": self.attempts,
                "aws_conn_id": self.aws_conn_id,
                "region_name": self.region_name,
                "verify": self.verify,
                "botocore_config": self.botocore_config,
            },
        )

    def hook(self) -> AwsBaseHook:
        # AwsBaseWaiterTrigger.hook(): a new hook for every trigger
        return AwsBaseHook(
            aws_conn_id=self.aws_conn_id,
            region_name=self.region_name,
            verify=self.verify,
            config=self.botocore_config,
            client_type="mwaa-serverless",
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hook = self.hook()
        async with await hook.get_async_conn() as client:
            state = "UNKNOWN"
            if self.on_ready is not None:
                self.on_ready(self.run_id)
            for _ in range(self.attempts):
                try:
                    response = await client.get_workflow_run(WorkflowArn=self.workflow_arn, RunId=self.run_id)
                    state = response["RunDetail"]["RunState"]
                except ClientError as err:
                    yield TriggerEvent({"status": "error", "message": str(err)})
                    return
                if self.on_poll is not None:
                    self.on_poll(self.run_id)
                if state in TERMINAL:
                    yield TriggerEvent({"status": "success" if state == "SUCCESS" else "failure", "state": state})
                    return
                self.log.info("Workflow run status is: %s", state)  # async_wait's status_message line
                await asyncio.sleep(self.waiter_delay)
            yield TriggerEvent({"status": "timeout", "state": state})
