"""Workflow definitions: the YAML DAG a workflow points at, reduced to the tasks the emulator runs.

MWAA Serverless workflows are YAML DAG definitions (DAG Factory style)::

    my_dag:
      dag_id: my_dag
      tasks:
        extract:
          operator: airflow.providers.standard.operators.empty.EmptyOperator
        load:
          operator: airflow.providers.standard.operators.bash.BashOperator
          dependencies: [extract]

The emulator only needs the task ids, their operator names and their order, so it reads that much
and refuses a document it cannot turn into at least one task.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

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


class DefinitionError(ValueError):
    """The definition is not YAML or declares no runnable tasks."""


@dataclass(frozen=True)
class TaskSpec:
    """One task of a workflow definition.

    :param task_id: the Airflow task id.
    :param operator_name: the operator's class name (last segment of ``operator``).
    :param upstream: task ids this task depends on.
    """

    task_id: str
    operator_name: str
    upstream: tuple[str, ...] = ()


def default_definition(name: str) -> str:
    """A three-task definition (extract -> transform -> load) for a workflow called ``name``."""
    return DEFAULT_DEFINITION_TEMPLATE.format(name=name)


def parse_definition(text: str | bytes) -> list[TaskSpec]:
    """Read the tasks of a definition, upstream tasks first.

    :param text: the YAML document.
    :raises DefinitionError: not YAML, no ``tasks`` mapping/list, an unknown dependency or a cycle.
    """
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise DefinitionError(f"Workflow definition is not valid YAML: {err}") from err
    tasks = _find_tasks(document)
    if not tasks:
        raise DefinitionError("Workflow definition declares no tasks")
    specs = [_task_spec(task_id, body) for task_id, body in tasks]
    return _topological(specs)


def _find_tasks(document: Any) -> list[tuple[str, Any]]:
    if not isinstance(document, dict):
        raise DefinitionError("Workflow definition must be a YAML mapping")
    candidates = [document, *(v for v in document.values() if isinstance(v, dict))]
    for candidate in candidates:
        tasks = candidate.get("tasks")
        if isinstance(tasks, dict):
            return [(str(task_id), body) for task_id, body in tasks.items()]
        if isinstance(tasks, list):
            return [(str(item.get("task_id", "")) if isinstance(item, dict) else "", item) for item in tasks]
    return []


def _task_spec(task_id: str, body: Any) -> TaskSpec:
    if not task_id or not isinstance(body, dict):
        raise DefinitionError(f"Task {task_id!r} must be a mapping with a task id")
    operator = str(body.get("operator", "EmptyOperator"))
    upstream = body.get("dependencies", body.get("upstream", [])) or []
    if isinstance(upstream, str):
        upstream = [upstream]
    return TaskSpec(task_id, operator.rsplit(".", 1)[-1], tuple(str(u) for u in upstream))


def _topological(specs: list[TaskSpec]) -> list[TaskSpec]:
    by_id = {spec.task_id: spec for spec in specs}
    for spec in specs:
        for upstream in spec.upstream:
            if upstream not in by_id:
                raise DefinitionError(f"Task {spec.task_id!r} depends on unknown task {upstream!r}")
    ordered: list[TaskSpec] = []
    done: set[str] = set()
    while len(ordered) < len(specs):
        ready = [s for s in specs if s.task_id not in done and set(s.upstream) <= done]
        if not ready:
            raise DefinitionError("Workflow definition has a dependency cycle")
        ordered.extend(ready)
        done.update(s.task_id for s in ready)
    return ordered


def downstream_of(specs: list[TaskSpec], task_ids: set[str]) -> set[str]:
    """Every task that depends, directly or not, on one of ``task_ids`` (excluding them)."""
    found: set[str] = set()
    frontier = set(task_ids)
    while frontier:
        nxt = {s.task_id for s in specs if set(s.upstream) & frontier} - found - task_ids
        found |= nxt
        frontier = nxt
    return found
