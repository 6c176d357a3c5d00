"""Plugging the service into moto without editing moto's files.

moto finds a service in two places, and we add ourselves to both, narrowly:

1. **Routing.** ``moto.backend_index.backend_url_patterns`` is the list of ``(service, url regex)``
   that both the in-process stubber (``moto.core.botocore_stubber``) and the server
   (``moto.moto_server.werkzeug_app.DomainDispatcherApplication``, which builds
   ``airflow-serverless.<region>.amazonaws.com`` from the SigV4 credential scope) walk. We insert our
   two patterns at the front of that same list object (the server keeps a reference to it).
2. **The backend.** ``moto.backends.get_backend("mwaaserverless")`` runs
   ``importlib.import_module("moto.mwaaserverless")`` and reads ``mwaaserverless_backends``.
   ``import_module`` returns what ``sys.modules`` already holds, so we alias
   ``sys.modules["moto.mwaaserverless"]`` to :mod:`.models`. No function of moto is patched.

Our code stays in ``airflow_provider_mwaas.emulator``: a module whose name starts with ``moto``
would make moto's error serializer look the exception's service model up by package name.

**Guard.** If the patterns went missing, a request to the real ``*.api.aws`` host would not be
intercepted and would go to the network. :func:`network_guard` is a botocore ``before-send``
handler that, while any moto mock is active, refuses (raises :class:`EmulatorNotRegisteredError`)
a request for this service whose URL no registered pattern matches.
``tests/emulator/test_moto_contract.py`` checks every moto internal named here.
"""

from __future__ import annotations

import re
import sys
from typing import Any

import moto.backend_index as backend_index
from botocore.handlers import BUILTIN_HANDLERS

from . import models, urls

#: The service name moto knows us by (``get_backend`` strips dashes: ``mwaa-serverless`` works too).
MOTO_SERVICE = "mwaaserverless"
MOTO_MODULE = f"moto.{MOTO_SERVICE}"
URL_PATTERNS = [(MOTO_SERVICE, re.compile(base)) for base in urls.url_bases]
#: Hosts of the real service, which a mock must never let through.
REAL_HOST = re.compile(r"https?://airflow-serverless\.[^/]+\.(?:api\.aws|amazonaws\.com(?:\.cn)?)(?::\d+)?(?:/|$)")
GUARD_EVENT = "before-send.mwaa-serverless"


class EmulatorNotRegisteredError(RuntimeError):
    """A mocked test tried to reach MWAA Serverless but the emulator is not registered with moto."""


def register() -> None:
    """Make moto route and serve MWAA Serverless (idempotent)."""
    sys.modules[MOTO_MODULE] = models
    present = {(service, pattern.pattern) for service, pattern in backend_index.backend_url_patterns}
    for service, pattern in reversed(URL_PATTERNS):
        if (service, pattern.pattern) not in present:
            backend_index.backend_url_patterns.insert(0, (service, pattern))
    if (GUARD_EVENT, network_guard) not in BUILTIN_HANDLERS:
        # Clients created from now on carry the guard (botocore copies BUILTIN_HANDLERS per session).
        BUILTIN_HANDLERS.append((GUARD_EVENT, network_guard))


def is_registered() -> bool:
    """Whether moto would route and serve the service right now."""
    registered = {(service, pattern.pattern) for service, pattern in backend_index.backend_url_patterns}
    return sys.modules.get(MOTO_MODULE) is models and all(
        (service, pattern.pattern) in registered for service, pattern in URL_PATTERNS
    )


def ensure_registered() -> None:
    """Raise unless :func:`is_registered`.

    :raises EmulatorNotRegisteredError: moto would not serve the service.
    """
    if not is_registered():
        raise EmulatorNotRegisteredError(
            "The MWAA Serverless emulator is not registered with moto (backend_url_patterns or "
            f"sys.modules[{MOTO_MODULE!r}] was changed); refusing to let requests reach AWS. "
            "Import airflow_provider_mwaas.emulator.registration and call register()."
        )


def network_guard(request: Any, **_: Any) -> None:
    """botocore ``before-send`` handler: under a moto mock, never let this service reach AWS.

    :param request: botocore's ``AWSPreparedRequest``.
    :raises EmulatorNotRegisteredError: a mock is active, the URL is the real service's and no
        registered pattern would intercept it.
    """
    from moto.core.models import botocore_stubber

    if not botocore_stubber.enabled or not REAL_HOST.match(request.url):
        return None
    if any(pattern.match(request.url) for _, pattern in backend_index.backend_url_patterns):
        return None
    raise EmulatorNotRegisteredError(
        f"Refusing to send {request.url} to the network under a moto mock: the MWAA Serverless "
        "emulator is not registered with moto (see airflow_provider_mwaas.emulator.registration)."
    )


register()
