"""Async calls for the triggers: aiobotocore clients built off the event loop, and the calls on them."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError

from airflow_provider_mwaas.hooks.base import MwaaServerlessBaseHook, _snake, translate_client_error
from airflow_provider_mwaas.params.validation import check_run_id


class AsyncCallsMixin(MwaaServerlessBaseHook):
    """The calls triggers await; every one takes the client from :meth:`async_client`."""

    # Used on the triggerer's event loop. ``async_client()`` builds the aiobotocore client in a
    # thread (connection lookup, role assumption) and moves later credential refreshes off the loop;
    # every call below is awaited on that client. Imports are local to keep this section self-contained.

    def async_client(self) -> Any:
        """Return an async context manager yielding an aiobotocore ``mwaa-serverless`` client.

        Usage: ``async with hook.async_client() as client: await hook.get_workflow_run_async(client, ...)``.
        The client carries the hook's region, ``verify``, endpoint and botocore config (retries included).
        Built the one way every async client is: :meth:`async_client_creator` in a worker thread
        (connection, STS), then :meth:`open_async_client` on the loop.
        """
        import asyncio
        import contextlib

        @contextlib.asynccontextmanager
        async def _client() -> Any:
            creator = await asyncio.to_thread(self.async_client_creator)
            client = await self.open_async_client(creator)
            try:
                yield client
            finally:
                await creator.__aexit__(None, None, None)

        return _client()

    @staticmethod
    def _offload_sync_credential_refresh(client: Any) -> None:
        """Run a refreshable credential's sync refresh (STS AssumeRole, web identity) in a thread.

        The amazon hook gives aiobotocore refreshable credentials whose ``refresh_using`` is a sync
        boto3 STS call; aiobotocore would run it on the event loop, blocking every trigger of the
        triggerer while STS answers (apache/airflow#33091 territory). Wrapping it keeps the loop free.
        """
        import asyncio
        import inspect

        credentials: Any = getattr(getattr(client, "_request_signer", None), "_credentials", None)
        refresh = getattr(credentials, "_refresh_using", None)
        if refresh is None or inspect.iscoroutinefunction(refresh):
            return

        async def refresh_in_thread() -> Any:
            return await asyncio.to_thread(refresh)

        credentials._refresh_using = refresh_in_thread

    async def _call_async(self, client: Any, operation: str, **params: Any) -> dict[str, Any]:
        try:
            response = await getattr(client, _snake(operation))(**params)
        except ClientError as err:
            raise translate_client_error(operation, err) from err
        response.pop("ResponseMetadata", None)
        return response

    async def get_workflow_run_async(self, client: Any, workflow_arn: str, run_id: str) -> dict[str, Any]:
        """Async GetWorkflowRun on ``client`` (from :meth:`async_client`)."""
        check_run_id(run_id)
        return await self._call_async(client, "GetWorkflowRun", WorkflowArn=workflow_arn, RunId=run_id)

    async def stop_workflow_run_async(self, client: Any, workflow_arn: str, run_id: str) -> dict[str, Any]:
        """Async StopWorkflowRun on ``client`` (from :meth:`async_client`)."""
        check_run_id(run_id)
        return await self._call_async(client, "StopWorkflowRun", WorkflowArn=workflow_arn, RunId=run_id)

    async def list_task_instances_async(self, client: Any, workflow_arn: str, run_id: str) -> list[dict[str, Any]]:
        """Async ListTaskInstances (all pages) on ``client`` (from :meth:`async_client`)."""
        check_run_id(run_id)
        paginator = client.get_paginator("list_task_instances")
        items: list[dict[str, Any]] = []
        try:
            async for page in paginator.paginate(WorkflowArn=workflow_arn, RunId=run_id):
                items.extend(page.get("TaskInstances", []))
        except ClientError as err:
            raise translate_client_error("ListTaskInstances", err) from err
        return items

    async def list_workflow_runs_page_async(
        self, client: Any, workflow_arn: str, *, next_token: str | None = None, max_results: int = 100
    ) -> dict[str, Any]:
        """One ListWorkflowRuns page (newest first) on ``client``: ``WorkflowRuns`` and maybe ``NextToken``.

        The triggers' coalesced poller pages by hand so it can stop as soon as every watched run was seen.
        """
        params: dict[str, Any] = {"WorkflowArn": workflow_arn, "MaxResults": max_results}
        if next_token:
            params["NextToken"] = next_token
        return await self._call_async(client, "ListWorkflowRuns", **params)

    def async_client_creator(self, max_pool_connections: int | None = None) -> Any:
        """Resolve the connection and credentials and return aiobotocore's client-creator context (SYNC).

        Blocking (connection lookup, secrets backend, STS AssumeRole): call it in a thread, then enter
        the returned context on the event loop with :meth:`open_async_client`. Used by the triggers'
        shared client pool, which builds one client per connection and shares it.

        :param max_pool_connections: HTTP connections the client may keep open; applied only when
            neither the connection's ``config_kwargs`` nor ``botocore_config`` chose a value.
        """
        config = self.config
        if max_pool_connections is not None and "max_pool_connections" not in config._user_provided_options:
            config = config.merge(Config(max_pool_connections=max_pool_connections))
        return self.get_client_type(region_name=self.region_name, config=config, deferrable=True)

    def sqs_client_creator(self, read_timeout: float) -> Any:
        """aiobotocore's client-creator context for an ``sqs`` client of this hook's connection (SYNC).

        Built like :meth:`async_client_creator` (same session, region, ``verify``; the connection's ``sqs``
        endpoint, e.g. ``endpoint_url``), for the event-woken waits' queue consumer: call it in a thread,
        enter it with :meth:`open_async_client`. Short connect timeout and 3 attempts (a bad queue must
        show quickly: the waits poll meanwhile); ``read_timeout`` must outlast a long poll.
        """
        config = self.config.merge(
            Config(connect_timeout=5, read_timeout=read_timeout, retries={"mode": "standard", "total_max_attempts": 3})
        )
        session = self.get_session(region_name=self.region_name, deferrable=True)
        return session.create_client(
            service_name="sqs",
            endpoint_url=self.conn_config.get_service_endpoint_url(service_name="sqs"),
            config=config,
            verify=self.verify,
        )

    @classmethod
    async def open_async_client(cls, creator: Any) -> Any:
        """Enter ``creator`` (from :meth:`async_client_creator`); leave it with ``creator.__aexit__``.

        Credential refreshes of the client are moved off the event loop, as in :meth:`async_client`.
        """
        client = await creator.__aenter__()
        cls._offload_sync_credential_refresh(client)
        _parse_timestamps_fast(client)
        return client


def parse_timestamp(value: Any) -> datetime:
    """A response timestamp as an aware ``datetime``: epoch seconds and ISO 8601 without dateutil.

    botocore's default parser builds a ``dateutil.tz.tzlocal()`` for every timestamp (about 0.15 ms
    here): a ListWorkflowRuns page of 100 runs spent some 30 ms of the triggerer's event loop on its
    timestamps alone, so 10,000 waits spent seconds per poll. The same instants, in UTC; anything
    else goes to botocore's parser.
    """
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, timezone.utc)
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        from botocore.utils import parse_timestamp as botocore_parse_timestamp

        result: datetime = botocore_parse_timestamp(value)
        return result
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=timezone.utc)


def _parse_timestamps_fast(client: Any) -> None:
    """Make ``client``'s endpoint parse timestamps with :func:`parse_timestamp`.

    botocore builds a parser per response from its factory; ``set_parser_defaults`` is the factory's
    own knob (the factory belongs to this client's session, which the hook made for this client).
    """
    factory = getattr(getattr(client, "_endpoint", None), "_response_parser_factory", None)
    if factory is not None and hasattr(factory, "set_parser_defaults"):
        factory.set_parser_defaults(timestamp_parser=parse_timestamp)
