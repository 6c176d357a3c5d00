"""The run-state sets are the one definition, and they match the installed service model."""

from __future__ import annotations

from airflow_provider_mwaas.hooks.mwaa_serverless import MwaaServerlessHook
from airflow_provider_mwaas.service import run_states
from airflow_provider_mwaas.service.model import service_model


def test_states_partition_the_models_run_status_enum_exactly() -> None:
    model_states = set(service_model().shape_for("WorkflowRunStatus").enum)
    assert {s.value for s in run_states.RunState} == model_states
    assert model_states == run_states.IN_FLIGHT_STATES | run_states.TERMINAL_STATES
    assert not run_states.IN_FLIGHT_STATES & run_states.TERMINAL_STATES
    assert not run_states.SUCCESS_STATES & run_states.FAILURE_STATES


def test_task_instance_state_sets_only_name_states_the_model_knows() -> None:
    model_states = set(service_model().shape_for("TaskInstanceStatus").enum)
    assert model_states >= run_states.TASK_INSTANCE_DONE_STATES
    assert model_states >= run_states.TASK_INSTANCE_FAILED_STATES
    assert run_states.TASK_INSTANCE_FAILED_STATES <= run_states.TASK_INSTANCE_DONE_STATES


def test_hook_exposes_the_same_sets_not_copies() -> None:
    assert MwaaServerlessHook.TERMINAL_STATES is run_states.TERMINAL_STATES
    assert MwaaServerlessHook.IN_FLIGHT_STATES is run_states.IN_FLIGHT_STATES
    assert MwaaServerlessHook.FAILURE_STATES is run_states.FAILURE_STATES
