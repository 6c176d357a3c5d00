"""``[mwaas] triggerer_gc_freeze``: the imports leave the garbage collector's full collections once per
process, when the first wait takes a client, and only when a user asked for it."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_mwaas.triggers import gc_freeze
from tests.triggers.conftest import make_trigger, only_event

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """As in a new triggerer process: nothing decided, nothing frozen; unfrozen again afterwards."""
    assert gc.get_freeze_count() == 0
    monkeypatch.setattr(gc_freeze, "_decided", False)
    yield
    gc.unfreeze()


@pytest.mark.parametrize("option", [None, "False"])
async def test_without_the_option_nothing_is_frozen(
    option: str | None,
    fresh_process: None,
    aws_conn_env: str,
    workflow_arn: str,
    start_run: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if option is None:
        monkeypatch.delenv("AIRFLOW__MWAAS__TRIGGERER_GC_FREEZE", raising=False)
    else:
        monkeypatch.setenv("AIRFLOW__MWAAS__TRIGGERER_GC_FREEZE", option)
    event = await only_event(make_trigger(aws_conn_env, workflow_arn, start_run()))
    assert event["status"] == "success"
    assert gc.get_freeze_count() == 0


async def test_with_the_option_the_first_wait_freezes_the_imports_once(
    fresh_process: None,
    aws_conn_env: str,
    workflow_arn: str,
    start_run: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("AIRFLOW__MWAAS__TRIGGERER_GC_FREEZE", "True")
    caplog.set_level("INFO", logger=gc_freeze.__name__)
    freezes: list[int] = []
    freeze = gc.freeze

    def counted_freeze() -> None:
        freeze()
        freezes.append(gc.get_freeze_count())

    monkeypatch.setattr(gc, "freeze", counted_freeze)
    first = await only_event(make_trigger(aws_conn_env, workflow_arn, start_run()))
    second = await only_event(make_trigger(aws_conn_env, workflow_arn, start_run()))
    assert (first["status"], second["status"]) == ("success", "success")
    assert len(freezes) == 1, "once per process, not once per wait or per client"
    assert freezes[0] > 10_000, "the process's imports (Airflow, botocore, the provider)"
    lines = [r.getMessage() for r in caplog.records if r.name == gc_freeze.__name__]
    assert lines == [
        f"[mwaas] triggerer_gc_freeze: {freezes[0]} objects taken out of the garbage collector's full collections"
    ]
