"""A local Amazon MWAA Serverless, built on moto (install the ``emulator`` extra).

* :func:`mock_mwaa_serverless`: in-process, like moto's ``mock_aws``;
* :class:`EmulatorServer`: the HTTP server (``python -m airflow_provider_mwaas.emulator``) in a
  subprocess;
* :class:`EmulatorControl`: scripted outcomes, holds, transitions, fault injection and counters,
  in-process or over HTTP.

Names load lazily (moto is imported only when used); the model-driven request validation lives in
:mod:`airflow_provider_mwaas.service.constraints`, shared with the hook. Loading
:func:`mock_mwaa_serverless` (or anything from :mod:`.registration`) registers the service with moto.
See ``docs/emulator.md``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .control import EmulatorControl
    from .mock import MockMWAAServerless, mock_mwaa_serverless
    from .process import EmulatorServer
    from .registration import EmulatorNotRegisteredError

__all__ = [
    "EmulatorControl",
    "EmulatorNotRegisteredError",
    "EmulatorServer",
    "MockMWAAServerless",
    "mock_mwaa_serverless",
]

_EXPORTS = {
    "EmulatorControl": ".control",
    "EmulatorServer": ".process",
    "MockMWAAServerless": ".mock",
    "mock_mwaa_serverless": ".mock",
    "EmulatorNotRegisteredError": ".registration",
}


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        module = importlib.import_module(module_name, __name__)
    except ImportError as err:
        raise ImportError(
            f"{name} needs the emulator extra: pip install 'airflow-provider-mwaas[emulator]' ({err})"
        ) from err
    return getattr(module, name)
