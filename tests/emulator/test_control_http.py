"""The control endpoints under ``/_mwaas_emulator/`` (raw HTTP, as curl would use them)."""

from __future__ import annotations

from typing import Any

import requests

from airflow_provider_mwaas.emulator.control_http import METHODS

from .conftest import make_client


def post(url: str, method: str, body: Any = None) -> requests.Response:
    return requests.post(f"{url}/_mwaas_emulator/{method}", json=body if body is not None else {}, timeout=10)


def test_health_lists_the_operations(server: Any, remote: Any) -> None:
    response = requests.get(f"{server.url}/_mwaas_emulator/health", timeout=10)
    assert response.status_code == 200 and "StartWorkflowRun" in response.json()["operations"]


def test_workflow_script_and_runs_over_raw_http(server: Any, remote: Any) -> None:
    arn = post(server.url, "create_workflow", {"name": "curl"}).json()
    assert post(server.url, "script_outcome", {"workflow_arn": arn, "status": "TIMEOUT"}).status_code == 200
    run_id = make_client(server.url).start_workflow_run(WorkflowArn=arn, ClientToken="c1")["RunId"]
    runs = requests.get(f"{server.url}/_mwaas_emulator/runs", params={"workflow_arn": arn}, timeout=10).json()
    assert [(r["RunId"], r["ClientToken"]) for r in runs] == [(run_id, "c1")]
    counters = requests.get(f"{server.url}/_mwaas_emulator/counters", timeout=10).json()
    assert counters["runs_started"] == 1 and counters["requests"] == {"StartWorkflowRun": 1}


def test_errors_are_json_with_status(server: Any, remote: Any) -> None:
    assert post(server.url, "nope").status_code == 404
    bad = post(server.url, "set_faults", {"throttle": 3})
    assert bad.status_code == 400 and "between 0 and 1" in bad.json()["error"]
    assert post(server.url, "release", {"run_id": "ghost"}).status_code == 404
    assert post(server.url, "set_faults", {"unexpected": 1}).status_code == 400
    assert requests.post(f"{server.url}/_mwaas_emulator/reset", data=b"[1]", timeout=10).status_code == 400
    assert requests.get(f"{server.url}/_mwaas_emulator/reset", timeout=10).status_code == 405


def test_every_control_method_has_an_endpoint() -> None:
    from airflow_provider_mwaas.emulator import EmulatorControl

    public = {name for name in dir(EmulatorControl) if not name.startswith("_")} - {"endpoint_url", "timeout"}
    assert public <= set(METHODS)
