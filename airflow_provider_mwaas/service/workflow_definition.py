"""Reading a workflow definition: the YAML DAG an MWAA Serverless workflow points at.

MWAA Serverless workflows are YAML DAG definitions (DAG Factory style)::

    my_dag:
      tasks:
        - task_id: extract
          operator: airflow.providers.standard.operators.empty.EmptyOperator
        - task_id: load
          operator: airflow.providers.standard.operators.bash.BashOperator
          dependencies: [extract]

``tasks`` is a list of tasks with a ``task_id`` each (as here), or a mapping of task id -> task, at the
top level or one level down. This module reads that much (task ids, operator names, dependencies) and
refuses a document it cannot turn into at least one task, saying on which line and why.

Shared by the deploy operator (which checks a definition before any request) and the emulator (which
refuses it the way the service does). Pure Python and PyYAML (an Airflow dependency): no AWS SDK.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

import yaml

#: Airflow's task id rule (``airflow.utils.helpers.KEY_REGEX`` and its 250-character limit).
AIRFLOW_TASK_ID = re.compile(r"[\w.-]{1,250}")


class DefinitionError(ValueError):
    """The definition is not YAML or declares no runnable tasks.

    :param reason: what is wrong, in words.
    :param line: 1-based line of the problem, when known.
    :param column: 1-based column, when known.
    :param source: where the definition came from (a path or ``s3://`` URI), for the message.
    """

    def __init__(self, reason: str, line: int | None = None, column: int | None = None, source: str | None = None):
        self.reason = reason
        self.line = line
        self.column = column
        self.source = source
        where = []
        if source:
            where.append(source)
        if line is not None:
            where.append(f"line {line}" + (f", column {column}" if column is not None else ""))
        prefix = ": ".join(where)
        super().__init__(f"Workflow definition {prefix}: {reason}" if prefix else f"Workflow definition: {reason}")


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


@dataclass(frozen=True)
class WorkflowDefinition:
    """A definition that parsed and names its tasks.

    :param content: the document's bytes, exactly as read (what gets uploaded).
    :param sha256: hex digest of ``content``: the content address of the definition.
    :param tasks: the tasks, upstream tasks first.
    :param schedule: the DAG's ``schedule`` value, if any.
    """

    content: bytes
    sha256: str
    tasks: tuple[TaskSpec, ...]
    schedule: Any = None

    @property
    def task_ids(self) -> list[str]:
        """The task ids, upstream first."""
        return [t.task_id for t in self.tasks]


def read_definition(text: str | bytes, source: str | None = None, *, strict: bool = False) -> WorkflowDefinition:
    """Parse a definition and check that it names its tasks.

    :param text: the YAML document.
    :param source: where it came from, quoted in errors.
    :param strict: also refuse task ids Airflow would refuse (``[A-Za-z0-9_.-]``, at most 250
        characters); the deploy operator is strict, the emulator is not.
    :raises DefinitionError: not YAML (with the parser's line and reason), a duplicate key, no
        ``tasks``, a task that is not a mapping, an unknown dependency or a cycle.
    """
    content = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    node, document = _load(content, source)
    if node is None or not isinstance(node, yaml.MappingNode) or not isinstance(document, dict):
        line = node.start_mark.line + 1 if node is not None else 1
        raise DefinitionError("must be a YAML mapping (the DAG), not a scalar or a list", line, source=source)
    _refuse_duplicate_keys(node, source)
    found = _find_tasks(node, document, source)
    if found is None:
        raise DefinitionError(
            "declares no tasks: expected a 'tasks' mapping or list at the top level or under the DAG's key",
            source=source,
        )
    tasks, tasks_line = found
    if not tasks:
        raise DefinitionError("declares no tasks: 'tasks' is empty", tasks_line, source=source)
    specs = [_task_spec(task_id, body, line, source, strict) for task_id, body, line in tasks]
    lines: dict[str, int] = {}
    for task_id, _, line in tasks:
        lines.setdefault(task_id, line)
    ordered = _topological(specs, lines, source)
    return WorkflowDefinition(content, hashlib.sha256(content).hexdigest(), tuple(ordered), _schedule_of(document))


def parse_definition(text: str | bytes) -> list[TaskSpec]:
    """Read the tasks of a definition, upstream tasks first (the emulator's entry point).

    :raises DefinitionError: see :func:`read_definition`.
    """
    return list(read_definition(text).tasks)


def downstream_of(specs: list[TaskSpec], task_ids: set[str]) -> set[str]:
    """Every task that depends, directly or not, on one of ``task_ids`` (excluding them)."""
    found: set[str] = set()
    frontier = set(task_ids)
    while frontier:
        nxt = {s.task_id for s in specs if set(s.upstream) & frontier} - found - task_ids
        found |= nxt
        frontier = nxt
    return found


# -- parsing ----------------------------------------------------------------------------------------


def _load(content: bytes, source: str | None) -> tuple[Any, Any]:
    """The document's node tree (for line numbers) and its value, in one safe parse."""
    loader = yaml.SafeLoader(content)
    try:
        node = loader.get_single_node()
        document = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        reason = " ".join(part for part in (err.context, err.problem) if part) or "cannot be parsed"
        raise DefinitionError(
            f"not valid YAML: {reason}",
            mark.line + 1 if mark is not None else None,
            mark.column + 1 if mark is not None else None,
            source,
        ) from None
    except yaml.YAMLError as err:  # e.g. a reader error on a non-printable character
        raise DefinitionError(f"not valid YAML: {err}", source=source) from None
    finally:
        loader.dispose()
    return node, document


def _refuse_duplicate_keys(node: Any, source: str | None) -> None:
    # PyYAML keeps the last of two equal keys silently: two tasks with one id would deploy as one.
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                line = key.start_mark.line + 1
                if key.value in seen:
                    raise DefinitionError(
                        f"duplicate key {key.value!r} (first at line {seen[key.value]})",
                        line,
                        key.start_mark.column + 1,
                        source,
                    )
                seen[key.value] = line
            _refuse_duplicate_keys(value, source)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _refuse_duplicate_keys(item, source)


def _find_tasks(
    node: Any, document: dict[Any, Any], source: str | None
) -> tuple[list[tuple[str, Any, int]], int] | None:
    """``(task id, body, line)`` of each task and the line of the ``tasks`` key; ``None`` without one."""
    candidates: list[tuple[Any, Any]] = [(node, document)]
    for key_node, value_node in node.value:
        if isinstance(value_node, yaml.MappingNode):
            value = document.get(_scalar(key_node))
            if isinstance(value, dict):
                candidates.append((value_node, value))
    for mapping_node, mapping in candidates:
        if "tasks" not in mapping:
            continue
        tasks = mapping["tasks"]
        key_node, tasks_node = next((k, v) for k, v in mapping_node.value if _scalar(k) == "tasks")
        tasks_line = key_node.start_mark.line + 1
        if isinstance(tasks, dict) and isinstance(tasks_node, yaml.MappingNode):
            # Keys are unique (duplicates were refused), so the nodes and the dict agree one to one.
            key_lines = {str(_scalar(k)): k.start_mark.line + 1 for k, _ in tasks_node.value}
            return [(str(t), body, key_lines.get(str(t), tasks_line)) for t, body in tasks.items()], tasks_line
        if isinstance(tasks, list) and isinstance(tasks_node, yaml.SequenceNode):
            triples = []
            for item, item_node in zip(tasks, tasks_node.value, strict=True):
                task_id = str(item.get("task_id", "")) if isinstance(item, dict) else ""
                triples.append((task_id, item, item_node.start_mark.line + 1))
            return triples, tasks_line
        if tasks is None:
            return [], tasks_line
        raise DefinitionError(
            f"'tasks' must be a mapping of task id to task, or a list of tasks; got {type(tasks).__name__}",
            tasks_line,
            source=source,
        )
    return None


def _scalar(node: Any) -> Any:
    return node.value if isinstance(node, yaml.ScalarNode) else None


def _task_spec(task_id: str, body: Any, line: int | None, source: str | None, strict: bool) -> TaskSpec:
    if not task_id or not isinstance(body, dict):
        what = "has no task_id" if not task_id else f"is a {type(body).__name__}"
        raise DefinitionError(
            f"task {task_id!r} {what}: each task must be a mapping with a task id", line, source=source
        )
    if strict and not AIRFLOW_TASK_ID.fullmatch(task_id):
        raise DefinitionError(
            f"task id {task_id!r} is not a valid Airflow task id (letters, digits, '_', '.', '-'; at most 250)",
            line,
            source=source,
        )
    operator = body.get("operator", "EmptyOperator")
    if strict and not (isinstance(operator, str) and operator):
        raise DefinitionError(f"task {task_id!r}: 'operator' must be a non-empty string", line, source=source)
    upstream = body.get("dependencies", body.get("upstream", [])) or []
    if isinstance(upstream, str):
        upstream = [upstream]
    if not isinstance(upstream, list):
        raise DefinitionError(
            f"task {task_id!r}: 'dependencies' must be a task id or a list of them", line, source=source
        )
    return TaskSpec(task_id, str(operator).rsplit(".", 1)[-1], tuple(str(u) for u in upstream))


def _topological(specs: list[TaskSpec], lines: dict[str, int], source: str | None) -> list[TaskSpec]:
    by_id = {spec.task_id: spec for spec in specs}
    for spec in specs:
        for upstream in spec.upstream:
            if upstream not in by_id:
                raise DefinitionError(
                    f"task {spec.task_id!r} depends on unknown task {upstream!r}",
                    lines.get(spec.task_id),
                    source=source,
                )
    ordered: list[TaskSpec] = []
    done: set[str] = set()
    while len(ordered) < len(specs):
        ready = [s for s in specs if s.task_id not in done and set(s.upstream) <= done]
        if not ready:
            stuck = [s.task_id for s in specs if s.task_id not in done]
            raise DefinitionError(
                f"dependency cycle among tasks {', '.join(map(repr, stuck))}", lines.get(stuck[0]), source=source
            )
        ordered.extend(ready)
        done.update(s.task_id for s in ready)
    return ordered


def _schedule_of(document: dict[Any, Any]) -> Any:
    for candidate in (document, *(v for v in document.values() if isinstance(v, dict))):
        if "schedule" in candidate:
            return candidate["schedule"]
    return None
