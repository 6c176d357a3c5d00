"""Deprecated: the former home of shared helpers. Each old module path still imports, with a warning.

``import airflow_provider_mwaas.utils.<name>`` (and ``from airflow_provider_mwaas.utils import <name>``)
gives a module holding every name of the module(s) that now hold its code, and emits a
``DeprecationWarning``; docs/architecture.md maps the moves. The old files are gone (moved with
``git mv``) so that changes made to them elsewhere follow them to their new homes: the paths are served
by a finder instead, registered when this package is imported.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings
from importlib.machinery import ModuleSpec
from types import ModuleType

#: Old module name under ``airflow_provider_mwaas.utils`` -> the modules that now hold its names.
MOVED: dict[str, tuple[str, ...]] = {
    "service_model": ("airflow_provider_mwaas.service.model", "airflow_provider_mwaas.service.constraints"),
    "run_states": ("airflow_provider_mwaas.service.run_states",),
    "error_kinds": ("airflow_provider_mwaas.service.error_kinds",),
    "workflow_definition": ("airflow_provider_mwaas.service.workflow_definition",),
    "definition_store": ("airflow_provider_mwaas.deploy.definition_store",),
    "workflow_params": ("airflow_provider_mwaas.deploy.workflow_params",),
    "trigger_events": ("airflow_provider_mwaas.triggers.trigger_events",),
    "client_token": ("airflow_provider_mwaas.operators.client_token",),
    "run_watch": ("airflow_provider_mwaas.watch.run_watch",),
    "diagnostics": ("airflow_provider_mwaas.watch.diagnostics",),
    "deadlines": ("airflow_provider_mwaas.watch.deadlines",),
    "masking": ("airflow_provider_mwaas.params.masking",),
    "validation": ("airflow_provider_mwaas.params.validation",),
    "aws_params": ("airflow_provider_mwaas.hooks.aws_params",),
    "errors": ("airflow_provider_mwaas.errors",),
}


class MovedModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves the retired ``airflow_provider_mwaas.utils.<name>`` paths as re-exports of their new homes."""

    def find_spec(self, fullname: str, path: object = None, target: ModuleType | None = None) -> ModuleSpec | None:
        package, _, name = fullname.rpartition(".")
        if package != __name__ or name not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return None  # the default module object

    def exec_module(self, module: ModuleType) -> None:
        new = MOVED[module.__name__.rpartition(".")[2]]
        # stacklevel 2 skips the import machinery's own frames: the warning points at the importing line.
        warnings.warn(
            f"{module.__name__} is deprecated: import from {' / '.join(new)} instead",
            DeprecationWarning,
            stacklevel=2,
        )
        for name in new:
            # private names too, so that code which reached into the old module keeps working
            names = vars(importlib.import_module(name))
            module.__dict__.update({key: value for key, value in names.items() if not key.startswith("__")})


if not any(isinstance(finder, MovedModuleFinder) for finder in sys.meta_path):
    # after the path finders: only a name no file answers for reaches it
    sys.meta_path.append(MovedModuleFinder())
