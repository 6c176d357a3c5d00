"""Reading workflow definitions."""

from __future__ import annotations

import pytest

from airflow_provider_mwaas.emulator.definitions import (
    DefinitionError,
    default_definition,
    downstream_of,
    parse_definition,
)


def test_default_definition_has_three_ordered_tasks() -> None:
    tasks = parse_definition(default_definition("demo"))
    assert [(t.task_id, t.operator_name) for t in tasks] == [
        ("extract", "EmptyOperator"),
        ("transform", "BashOperator"),
        ("load", "EmptyOperator"),
    ]


def test_tasks_are_ordered_upstream_first() -> None:
    text = "tasks:\n  c: {dependencies: [b]}\n  b: {dependencies: a}\n  a: {operator: pkg.MyOperator}\n"
    tasks = parse_definition(text)
    assert [t.task_id for t in tasks] == ["a", "b", "c"]
    assert downstream_of(tasks, {"a"}) == {"b", "c"}


def test_task_list_form() -> None:
    text = "dag:\n  tasks:\n    - task_id: one\n    - task_id: two\n      dependencies: [one]\n"
    assert [t.task_id for t in parse_definition(text)] == ["one", "two"]


@pytest.mark.parametrize(
    "text", ["a: [", "- 1\n- 2\n", "dag: {schedule: x}\n", "tasks:\n  a: {dependencies: [a]}\n", "tasks:\n  a: 3\n"]
)
def test_unusable_definitions_are_refused(text: str) -> None:
    with pytest.raises(DefinitionError):
        parse_definition(text)
