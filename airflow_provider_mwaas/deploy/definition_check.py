"""Offline checks of a workflow definition against what MWAA Serverless accepts.

Beyond "parses and names its tasks" (:func:`~airflow_provider_mwaas.service.workflow_definition.read_definition`,
whose refusal is the first finding), a definition is checked for:

* the layout MWAA Serverless uses (dag-factory): one top-level key, the workflow's DAG, holding ``tasks``
  (an optional ``default`` block beside it is dag-factory's shared defaults);
* DAG-level fields: the service documents ``dag_id``, ``schedule``, ``start_date`` and ``end_date``
  (with ``tasks``, ``task_groups``, ``params`` and ``default_args``); ``description``, ``catchup``, ``tags``
  and callbacks are ignored by it (a warning), anything else is unknown to it (a warning);
* each task's ``operator``: a fully qualified class path (an error otherwise) and, when asked, importable
  in this Python (an error: the local execution and the service would both fail to build the DAG);
* parameters a template references (``{{ params.x }}``) but the DAG does not declare under ``params``
  (a warning: only a run with OverrideParameters would supply them).

Every finding has the file, the line and the reason. Pure Python and PyYAML (no AWS SDK, no Airflow
unless operator imports are checked).
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from airflow_provider_mwaas.service.workflow_definition import DefinitionError, load_document, read_definition

ERROR, WARNING = "error", "warning"
#: DAG-level fields MWAA Serverless documents (plus dag-factory's structure keys it relies on).
SUPPORTED_DAG_FIELDS = frozenset(
    {"dag_id", "schedule", "start_date", "end_date", "tasks", "task_groups", "params", "default_args"}
)
#: DAG-level fields the service accepts but ignores.
IGNORED_DAG_FIELDS = frozenset(
    {
        "description",
        "catchup",
        "tags",
        "on_success_callback",
        "on_failure_callback",
        "sla_miss_callback",
        "on_success_callback_name",
        "on_success_callback_file",
        "on_failure_callback_name",
        "on_failure_callback_file",
    }
)
_PARAM_REFERENCE = re.compile(r"params\s*(?:\.\s*(?P<attr>[A-Za-z_]\w*)|\[\s*['\"](?P<key>[^'\"]+)['\"]\s*\])")
#: Params the service itself passes to every run.
SERVICE_PARAMS = frozenset({"mwaa_serverless_workflow_id"})


@dataclass(frozen=True)
class Finding:
    """One problem in a definition.

    :param source: the file (or ``s3://`` URI) checked.
    :param line: 1-based line (``None`` when it concerns the whole document).
    :param severity: ``"error"`` (the service or its execution would refuse it) or ``"warning"``.
    :param reason: what is wrong, in words.
    """

    source: str
    line: int | None
    severity: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line or 1}: {self.severity}: {self.reason}"


def check_file(path: Path, import_operators: bool = False) -> list[Finding]:
    """Check the definition at ``path`` (see :func:`check_definition`)."""
    try:
        content = path.read_bytes()
    except OSError as err:
        return [Finding(str(path), None, ERROR, f"cannot be read: {err.strerror or err}")]
    return check_definition(content, str(path), import_operators)


def check_definition(content: bytes | str, source: str, import_operators: bool = False) -> list[Finding]:
    """Every finding of one definition, in line order; ``[]`` when it is fine.

    :param content: the YAML document.
    :param source: its name, in the findings.
    :param import_operators: also import every task's operator class (needs the workflow's providers
        installed, as for executing it locally).
    """
    raw = content.encode("utf-8") if isinstance(content, str) else content
    try:
        read_definition(raw, source=source, strict=True)
    except DefinitionError as err:
        return [Finding(source, err.line, ERROR, err.reason)]
    node, _ = load_document(raw, source)
    findings = _layout(node, source)
    dag = _dag_node(node)
    if dag is not None:
        findings += _dag_fields(dag, source)
        findings += _operators(dag, source, import_operators)
        findings += _undeclared_params(dag, source)
    return sorted(findings, key=lambda f: (f.line or 0, f.severity))


def _layout(node: yaml.MappingNode, source: str) -> list[Finding]:
    keys = [(k.value, k.start_mark.line + 1) for k, _ in node.value if isinstance(k, yaml.ScalarNode)]
    if any(key == "tasks" for key, _ in keys):
        line = next(line for key, line in keys if key == "tasks")
        return [
            Finding(
                source,
                line,
                ERROR,
                "'tasks' is at the top level: MWAA Serverless expects the workflow's DAG "
                "as the one top-level key, with its tasks under it (dag-factory layout)",
            )
        ]
    dags = [(key, line) for key, line in keys if key != "default"]
    if len(dags) > 1:
        return [
            Finding(source, line, ERROR, f"a second DAG {key!r}: a workflow definition holds exactly one DAG")
            for key, line in dags[1:]
        ]
    return []


def _dag_node(node: yaml.MappingNode) -> yaml.MappingNode | None:
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode) and key.value != "default" and isinstance(value, yaml.MappingNode):
            return value
    return None


def _dag_fields(dag: yaml.MappingNode, source: str) -> list[Finding]:
    findings = []
    for key, _ in dag.value:
        name, line = str(key.value), key.start_mark.line + 1
        if name in SUPPORTED_DAG_FIELDS:
            continue
        if name in IGNORED_DAG_FIELDS:
            findings.append(Finding(source, line, WARNING, f"DAG field {name!r} is ignored by MWAA Serverless"))
        else:
            findings.append(
                Finding(
                    source,
                    line,
                    WARNING,
                    f"DAG field {name!r} is not one MWAA Serverless documents "
                    f"(supported: {', '.join(sorted(SUPPORTED_DAG_FIELDS))})",
                )
            )
    return findings


def _tasks(dag: yaml.MappingNode) -> list[tuple[str, yaml.MappingNode]]:
    tasks_node = next((v for k, v in dag.value if getattr(k, "value", None) == "tasks"), None)
    if isinstance(tasks_node, yaml.MappingNode):
        return [(str(k.value), v) for k, v in tasks_node.value if isinstance(v, yaml.MappingNode)]
    if isinstance(tasks_node, yaml.SequenceNode):
        found = []
        for item in tasks_node.value:
            if isinstance(item, yaml.MappingNode):
                task_id = next((v.value for k, v in item.value if getattr(k, "value", None) == "task_id"), "")
                found.append((str(task_id), item))
        return found
    return []


def _operators(dag: yaml.MappingNode, source: str, import_operators: bool) -> list[Finding]:
    findings = []
    for task_id, task in _tasks(dag):
        operator = next(((k, v) for k, v in task.value if getattr(k, "value", None) == "operator"), None)
        if operator is None:
            findings.append(
                Finding(source, task.start_mark.line + 1, ERROR, f"task {task_id!r} names no 'operator' class path")
            )
            continue
        key, value = operator
        path, line = str(getattr(value, "value", "")), key.start_mark.line + 1
        if not re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+", path):
            findings.append(
                Finding(
                    source,
                    line,
                    ERROR,
                    f"task {task_id!r}: operator {path!r} is not a fully qualified class path "
                    "(e.g. airflow.providers.amazon.aws.operators.s3.S3CopyObjectOperator)",
                )
            )
        elif import_operators:
            problem = _import_problem(path)
            if problem:
                findings.append(Finding(source, line, ERROR, f"task {task_id!r}: operator {path!r} {problem}"))
    return findings


def _import_problem(path: str) -> str | None:
    module_name, _, class_name = path.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except Exception as err:
        return f"cannot be imported here ({type(err).__name__}: {err})"
    if not isinstance(getattr(module, class_name, None), type):
        return f"is not a class of module {module_name}"
    return None


def _undeclared_params(dag: yaml.MappingNode, source: str) -> list[Finding]:
    declared = set(SERVICE_PARAMS)
    for key, value in dag.value:
        if getattr(key, "value", None) == "params" and isinstance(value, yaml.MappingNode):
            declared |= {str(k.value) for k, _ in value.value}
    findings = []
    for scalar in _scalars(dag):
        for match in _PARAM_REFERENCE.finditer(str(scalar.value)):
            name = match.group("attr") or match.group("key")
            if name not in declared:
                findings.append(
                    Finding(
                        source,
                        scalar.start_mark.line + 1,
                        WARNING,
                        f"parameter {name!r} is referenced but not declared under the DAG's 'params' "
                        "(only a run with OverrideParameters would set it)",
                    )
                )
    return findings


def _scalars(node: Any) -> list[yaml.ScalarNode]:
    if isinstance(node, yaml.ScalarNode):
        return [node]
    if isinstance(node, yaml.MappingNode):
        return [s for _, value in node.value for s in _scalars(value)]
    if isinstance(node, yaml.SequenceNode):
        return [s for item in node.value for s in _scalars(item)]
    return []
