"""A network guard: any connection (or DNS lookup) to a non-loopback address fails at once with a clear
error, so a missing emulator registration can never reach AWS or hang on a timeout.

Installed by tests/conftest.py for the test session, and by the subprocesses tests start themselves.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

__all__ = ["NetworkAccessError", "install_network_guard"]


class NetworkAccessError(RuntimeError):
    """A test tried to leave the machine."""


_OWN_HOSTNAME = socket.gethostname()


def _is_local(host: Any) -> bool:
    if host in (None, "", "localhost", _OWN_HOSTNAME) or (isinstance(host, str) and host.endswith(".localhost")):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address[0]):
        raise NetworkAccessError(f"test tried to connect to {address!r}: only loopback is allowed")
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> Any:
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address[0]):
        raise NetworkAccessError(f"test tried to connect to {address!r}: only loopback is allowed")
    return _real_connect_ex(self, address)


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    name = host.decode() if isinstance(host, bytes) else host
    if not _is_local(name):
        raise NetworkAccessError(f"test tried to resolve {name!r}: only loopback is allowed")
    return _real_getaddrinfo(host, *args, **kwargs)


def install_network_guard() -> None:
    """Patch ``socket`` so that only loopback connections and lookups succeed (idempotent)."""
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = _guarded_getaddrinfo
