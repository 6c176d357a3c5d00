"""Workflow definitions as the emulator uses them: the YAML DAG a workflow points at, as ordered tasks.

The reading itself lives in :mod:`airflow_provider_mwaas.service.workflow_definition`, shared with the
deploy operator (which checks a definition before uploading it) so that both refuse the same documents.
This module adds what only the emulator needs: the default three-task definition.
"""

from __future__ import annotations

from airflow_provider_mwaas.service.workflow_definition import (
    DefinitionError,
    TaskSpec,
    WorkflowDefinition,
    downstream_of,
    parse_definition,
    read_definition,
)

DEFAULT_DEFINITION_TEMPLATE = """\
{name}:
  dag_id: {name}
  schedule: null
  tasks:
    extract:
      operator: airflow.providers.standard.operators.empty.EmptyOperator
    transform:
      operator: airflow.providers.standard.operators.bash.BashOperator
      bash_command: echo transform
      dependencies: [extract]
    load:
      operator: airflow.providers.standard.operators.empty.EmptyOperator
      dependencies: [transform]
"""


def default_definition(name: str) -> str:
    """A three-task definition (extract -> transform -> load) for a workflow called ``name``."""
    return DEFAULT_DEFINITION_TEMPLATE.format(name=name)


__all__ = [
    "DEFAULT_DEFINITION_TEMPLATE",
    "DefinitionError",
    "TaskSpec",
    "WorkflowDefinition",
    "default_definition",
    "downstream_of",
    "parse_definition",
    "read_definition",
]
