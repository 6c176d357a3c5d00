"""Re-exports for the retired ``airflow_provider_mwaas.utils`` paths (see docs/architecture.md)."""

from __future__ import annotations

import importlib
import sys
import warnings


def reexport(old: str, *new: str) -> None:
    """Give module ``old`` every name of the modules ``new``, warning that the path is deprecated.

    Private names are copied too, so code that reached into the old module keeps working.

    :param old: the retired module's name (``__name__`` of the caller).
    :param new: the modules that now hold its names.
    """
    warnings.warn(
        f"{old} is deprecated: import from {' / '.join(new)} instead",
        DeprecationWarning,
        stacklevel=3,
    )
    namespace = sys.modules[old].__dict__
    for name in new:
        module = importlib.import_module(name)
        namespace.update({key: value for key, value in vars(module).items() if not key.startswith("__")})
