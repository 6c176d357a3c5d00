"""The token rule: valid for the service whatever the ids hold, deterministic, distinct per task instance."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_mwaas.operators.client_token import derive_client_token
from airflow_provider_mwaas.service.model import input_member

ids = st.text(min_size=1, max_size=300)
map_indexes = st.one_of(st.none(), st.integers(min_value=-1, max_value=100_000))
generations = st.integers(min_value=0, max_value=10_000)


def _model_token_rule() -> re.Pattern[str]:
    shape = input_member("StartWorkflowRun", "ClientToken")
    lo, hi = shape.metadata["min"], shape.metadata["max"]
    return re.compile(f"(?:{shape.metadata['pattern']})", re.DOTALL), lo, hi  # type: ignore[return-value]


@given(dag_id=ids, task_id=ids, run_id=ids, map_index=map_indexes, generation=generations)
def test_any_ids_yield_a_token_the_service_accepts(
    dag_id: str, task_id: str, run_id: str, map_index: int | None, generation: int
) -> None:
    token = derive_client_token(dag_id, task_id, run_id, map_index, generation)
    pattern, lo, hi = _model_token_rule()
    assert lo <= len(token) <= hi
    assert pattern.fullmatch(token)
    assert re.fullmatch(r"[\x21-\x7E]+", token)


@given(dag_id=ids, task_id=ids, run_id=ids, map_index=map_indexes, generation=generations)
def test_the_rule_is_deterministic(
    dag_id: str, task_id: str, run_id: str, map_index: int | None, generation: int
) -> None:
    assert derive_client_token(dag_id, task_id, run_id, map_index, generation) == derive_client_token(
        dag_id, task_id, run_id, map_index, generation
    )


@given(
    a=st.tuples(ids, ids, ids, map_indexes),
    b=st.tuples(ids, ids, ids, map_indexes),
)
def test_different_task_instances_never_share_a_token(a: tuple, b: tuple) -> None:
    norm = lambda t: (t[0], t[1], t[2], -1 if t[3] is None else t[3])  # noqa: E731
    if norm(a) != norm(b):
        assert derive_client_token(*a) != derive_client_token(*b)


@given(dag_id=ids, run_id=ids, generation=generations)
def test_each_generation_has_its_own_token(dag_id: str, run_id: str, generation: int) -> None:
    assert derive_client_token(dag_id, "t", run_id, 0, generation) != derive_client_token(
        dag_id, "t", run_id, 0, generation + 1
    )


def test_separators_inside_ids_cannot_forge_another_identity() -> None:
    assert derive_client_token("a", "b-c", "r") != derive_client_token("a-b", "c", "r")
    assert derive_client_token('a", "b', "c", "r") != derive_client_token("a", 'b", "c', "r")


def test_unmapped_task_is_the_same_with_none_or_minus_one() -> None:
    assert derive_client_token("d", "t", "r", None) == derive_client_token("d", "t", "r", -1)


def test_negative_generation_is_refused() -> None:
    with pytest.raises(ValueError, match="generation"):
        derive_client_token("d", "t", "r", -1, -1)
