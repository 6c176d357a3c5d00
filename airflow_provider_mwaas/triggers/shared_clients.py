"""One aiobotocore client per AWS connection, shared by every trigger of a triggerer's event loop.

The upstream design (one hook, session and client per trigger) costs about 1 MiB of RSS per waiting
task and queues every client's creation behind one worker thread. Here the triggers of one event loop
that use the same connection parameters lease ONE client:

* The key is ``(aws_conn_id, region_name, verify, botocore_config)``: everything a trigger carries
  that decides the endpoint, the credentials and the client's config. Different connection ids never
  share a client, even when they hold the same credentials.
* The client is built once, off the event loop (connection lookup, secrets backend, STS AssumeRole run
  in a thread); triggers arriving meanwhile await the same build.
* Credentials: refreshable ones (assumed roles) are refreshed by aiobotocore under its own lock, in a
  thread (see ``MwaaServerlessHook._offload_sync_credential_refresh``), once for all users.
* Rebuilds: the entry drops its client (:meth:`SharedClient.invalidate`) and the next call builds a new one
  from the connection as it is then, when a call's credentials are refused
  (:func:`~airflow_provider_mwaas.service.error_kinds.is_auth_failure`: expired, rotated or revoked keys),
  when a trigger leasing the entry finds the connection changed (an edited key, role or endpoint), and
  once the client is :data:`MAX_CLIENT_AGE` seconds old. The old client is closed once no call uses it.
* The client is closed when its last user leaves; its HTTP pool is sized by
  :data:`SHARED_POOL_CONNECTIONS` (unless the connection or ``botocore_config`` sets one).

State lives per process and per event loop (tests and ``asyncio.run`` create fresh loops; a forked
child never reuses its parent's sockets).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

from airflow_provider_mwaas.errors import MwaaServerlessApiError
from airflow_provider_mwaas.service.error_kinds import is_auth_failure
from airflow_provider_mwaas.triggers.gc_freeze import freeze_imports_once
from airflow_provider_mwaas.triggers.loop_local import LoopLocal

if TYPE_CHECKING:
    from airflow_provider_mwaas.hooks.mwaa_serverless import MwaaServerlessHook

#: Seconds after which a shared client is rebuilt from the connection, even if nothing failed.
MAX_CLIENT_AGE = 900.0
#: HTTP connections per shared client. Coalesced polling needs about one per poller and per fallback
#: or progress call in flight; 50 keeps 1,000 waits on one connection from queueing on the pool.
SHARED_POOL_CONNECTIONS = 50

ClientKey = tuple[Any, ...]
_log = logging.getLogger(__name__)


def client_key(hook_params: dict[str, Any]) -> ClientKey:
    """The sharing key of a trigger's ``hook_params`` (``botocore_config`` compared by value)."""
    config = hook_params.get("botocore_config")
    return (
        hook_params.get("aws_conn_id"),
        hook_params.get("region_name"),
        hook_params.get("verify"),
        json.dumps(config, sort_keys=True, default=repr) if config is not None else None,
    )


class SharedClient:
    """One client for one key, leased by triggers; see the module docstring.

    :param key: the sharing key.
    :param make_hook: builds a hook for the key; the hook builds the client (in a thread) and makes the calls.
    """

    def __init__(self, key: ClientKey, make_hook: Callable[[], MwaaServerlessHook]) -> None:
        self.key = key
        self._make_hook = make_hook
        self.hook = make_hook()
        self.users = 0
        self.builds = 0  # clients built so far
        self._attempts = 0  # builds started (a failed one too: the next starts from a fresh hook)
        self._client: Any = None
        self._creator: Any = None
        self._built_at = 0.0
        self._fingerprint: str | None = None  # of the connection the client was built from
        self._building: asyncio.Future[Any] | None = None
        self._checking: asyncio.Future[None] | None = None
        self._in_flight: dict[int, int] = {}  # id(client) -> calls using it
        self._retired: dict[int, Any] = {}  # id(client) -> creator, closed when its calls end
        self._closing: set[asyncio.Future[None]] = set()

    async def client(self) -> Any:
        """The current client, built (once, off the loop) if there is none or it is too old."""
        if self._client is not None and time.monotonic() - self._built_at > MAX_CLIENT_AGE:
            self.invalidate(self._client, f"it is older than {MAX_CLIENT_AGE:g}s")
        if self._client is not None:
            return self._client
        if self._building is None:
            self._building = asyncio.ensure_future(self._build())
        try:
            return await asyncio.shield(self._building)
        finally:
            if self._building is not None and self._building.done():
                self._building = None

    async def _build(self) -> Any:
        if self._attempts:  # a new hook re-reads the connection (the old one cached it)
            self.hook = self._make_hook()
        self._attempts += 1
        fingerprint = await asyncio.to_thread(self._connection_fingerprint)
        creator = await asyncio.to_thread(self.hook.async_client_creator, SHARED_POOL_CONNECTIONS)
        client = await self.hook.open_async_client(creator)
        self._client, self._creator, self._fingerprint = client, creator, fingerprint
        self._built_at = time.monotonic()
        self.builds += 1
        return client

    def _connection_fingerprint(self) -> str | None:
        """A digest of the connection's fields (secrets included, never kept); ``None`` when unreadable."""
        conn_id = self.key[0]
        if conn_id is None:
            return None
        try:
            conn = self.hook.get_connection(conn_id)
        except Exception:  # missing or unreadable: the build says why, if it matters
            return None
        fields = [conn.conn_type, conn.host, conn.schema, conn.login, conn.password, conn.port, conn.extra]
        return hashlib.sha256(json.dumps(fields, default=str).encode()).hexdigest()

    async def check_connection(self) -> None:
        """Drop the client if the connection changed since it was built (one lookup for concurrent callers)."""
        if self._client is None:
            return
        if self._checking is None:
            self._checking = asyncio.ensure_future(self._check_connection())
        checking = self._checking
        try:
            await asyncio.shield(checking)
        finally:
            if checking.done() and self._checking is checking:
                self._checking = None

    async def _check_connection(self) -> None:
        client = self._client
        fingerprint = await asyncio.to_thread(self._connection_fingerprint)
        if fingerprint is not None and fingerprint != self._fingerprint:
            self.invalidate(client, "its connection changed")

    async def call(self, method: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any) -> Any:
        """``await method(client, *args, **kwargs)``; refused credentials drop the client (rebuilt next call)."""
        async with self.use() as client:
            try:
                return await method(client, *args, **kwargs)
            except MwaaServerlessApiError as err:
                if is_auth_failure(err.code):
                    self.invalidate(client, f"the service refused its credentials ({err.code})")
                raise

    @contextlib.asynccontextmanager
    async def use(self) -> AsyncIterator[Any]:
        """Yield the client for one call; a client retired meanwhile is closed once its calls end."""
        client = await self.client()
        self._in_flight[id(client)] = self._in_flight.get(id(client), 0) + 1
        try:
            yield client
        finally:
            left = self._in_flight[id(client)] = self._in_flight[id(client)] - 1
            if left == 0:
                del self._in_flight[id(client)]
                creator = self._retired.pop(id(client), None)
                if creator is not None:
                    await _close(creator)

    def invalidate(self, client: Any, reason: str = "its credentials expired") -> None:
        """Drop ``client``: the next :meth:`client` builds a new one from the connection.

        :param reason: why, for the log.
        """
        if client is None or client is not self._client:
            return  # another user already replaced it
        _log.info("Rebuilding the shared MWAA Serverless client for %r: %s", self.key[0], reason)
        creator, self._client, self._creator = self._creator, None, None
        if self._in_flight.get(id(client)):
            self._retired[id(client)] = creator
        else:
            closing = asyncio.ensure_future(_close(creator))
            self._closing.add(closing)  # keep a reference until it is done
            closing.add_done_callback(self._closing.discard)

    async def close(self) -> None:
        """Close every client of this entry (its last user left)."""
        creators = [self._creator, *self._retired.values()]
        self._client = self._creator = None
        self._retired.clear()
        for pending in (self._building, self._checking):
            if pending is not None and not pending.done():
                pending.cancel()
        for creator in creators:
            if creator is not None:
                await _close(creator)


async def _close(creator: Any) -> None:
    try:
        await creator.__aexit__(None, None, None)
    except Exception:  # closing must never fail a trigger
        _log.debug("Closing a shared MWAA Serverless client failed", exc_info=True)


class ClientPool:
    """The shared clients of one event loop in one process."""

    def __init__(self) -> None:
        self.entries: dict[ClientKey, SharedClient] = {}

    async def acquire(self, hook_params: dict[str, Any], make_hook: Callable[[], MwaaServerlessHook]) -> SharedClient:
        """Take a share of the client for ``hook_params`` (built on first :meth:`SharedClient.client`);
        give it back with :meth:`release`, even when cancelled.

        A pair of calls rather than only a context manager: a wait holding ``async with`` for days keeps
        an async generator, its context manager and two references alive, objects that every full
        collection walks (at 10,000 waits, 40,000 of them). :meth:`lease` is the context-manager form.

        :param hook_params: the trigger's ``aws_conn_id``, ``region_name``, ``verify``, ``botocore_config``.
        :param make_hook: builds a hook for those parameters; called only if this call creates the entry.
        """
        key = client_key(hook_params)
        entry = self.entries.get(key)
        if entry is None:
            freeze_imports_once()  # opt-in; the first wait of the process, before any wait's objects exist
            entry = self.entries[key] = SharedClient(key, make_hook)
        entry.users += 1
        try:
            await entry.check_connection()  # a trigger arriving after an edit gets the edited connection
        except BaseException:
            await self.release(entry)
            raise
        return entry

    async def release(self, entry: SharedClient) -> None:
        """Give back a share taken by :meth:`acquire`; the last user's release closes the client."""
        entry.users -= 1
        if entry.users == 0 and self.entries.get(entry.key) is entry:
            del self.entries[entry.key]
            await entry.close()

    @contextlib.asynccontextmanager
    async def lease(
        self, hook_params: dict[str, Any], make_hook: Callable[[], MwaaServerlessHook]
    ) -> AsyncIterator[SharedClient]:
        """:meth:`acquire` and :meth:`release` around a block."""
        entry = await self.acquire(hook_params, make_hook)
        try:
            yield entry
        finally:
            await self.release(entry)


_pools: LoopLocal[ClientPool] = LoopLocal(ClientPool)


def client_pool() -> ClientPool:
    """The running event loop's pool in this process (created on first use)."""
    return _pools.get()
