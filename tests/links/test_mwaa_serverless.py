"""WorkflowRunLink: console URL per partition and region, persisted through XCom."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.sdk.execution_time.xcom import XCom

from airflow_provider_mwaas.links.mwaa_serverless import WorkflowRunLink, workflow_run_console_url

RUN_ID = "mwaa-run.2026_01"


@pytest.mark.parametrize(
    ("arn", "expected_prefix"),
    [
        (
            "arn:aws:airflow-serverless:eu-west-1:123456789012:workflow/orders-abcdef1234",
            "https://console.aws.amazon.com/mwaa/home?region=eu-west-1#",
        ),
        (
            "arn:aws-cn:airflow-serverless:cn-north-1:123456789012:workflow/orders-abcdef1234",
            "https://console.amazonaws.cn/mwaa/home?region=cn-north-1#",
        ),
        (
            "arn:aws-us-gov:airflow-serverless:us-gov-west-1:123456789012:workflow/orders-abcdef1234",
            "https://console.amazonaws-us-gov.com/mwaa/home?region=us-gov-west-1#",
        ),
    ],
    ids=["aws", "aws-cn", "aws-us-gov"],
)
def test_console_url_takes_partition_and_region_from_the_workflow_arn(arn: str, expected_prefix: str) -> None:
    url = workflow_run_console_url(arn, RUN_ID)
    assert url.startswith(expected_prefix)
    assert url.endswith(f"/workflows/orders-abcdef1234/runs/{RUN_ID}")


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws-iso:airflow-serverless:us-iso-east-1:123456789012:workflow/orders-abcdef1234",
        "arn:aws:s3:::bucket",
        "",
    ],
    ids=["isolated-partition", "other-service", "empty"],
)
def test_console_url_is_empty_when_there_is_no_console_for_the_arn(arn: str) -> None:
    assert workflow_run_console_url(arn, RUN_ID) == ""


def test_console_url_escapes_what_it_inserts() -> None:
    arn = "arn:aws:airflow-serverless:us-east-1:123456789012:workflow/orders-abcdef1234"
    assert workflow_run_console_url(arn, "a#b").endswith("/runs/a%23b")


class RecordingTaskInstance:
    """Just enough of a task instance for persist(): records xcom_push calls."""

    def __init__(self) -> None:
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


def test_persist_then_get_link_round_trips_through_xcom(monkeypatch: pytest.MonkeyPatch) -> None:
    arn = "arn:aws-cn:airflow-serverless:cn-northwest-1:123456789012:workflow/orders-abcdef1234"
    ti = RecordingTaskInstance()
    WorkflowRunLink.persist({"ti": ti}, arn, RUN_ID)
    assert ti.pushed == {WorkflowRunLink.key: {"workflow_arn": arn, "run_id": RUN_ID}}

    reads: list[tuple[Any, str]] = []

    def get_value(*, ti_key: Any, key: str) -> Any:
        reads.append((ti_key, key))
        return ti.pushed.get(key)

    monkeypatch.setattr(XCom, "get_value", get_value)
    link = WorkflowRunLink()
    url = link.get_link(operator=None, ti_key="ti-key")  # type: ignore[arg-type]
    assert url == workflow_run_console_url(arn, RUN_ID)
    assert url.startswith("https://console.amazonaws.cn/mwaa/home?region=cn-northwest-1#")
    assert reads == [("ti-key", WorkflowRunLink.key)]


def test_get_link_is_empty_before_the_run_is_known(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(XCom, "get_value", lambda *, ti_key, key: None)
    assert WorkflowRunLink().get_link(operator=None, ti_key="ti-key") == ""  # type: ignore[arg-type]


def test_link_has_a_stable_name_and_xcom_key() -> None:
    link = WorkflowRunLink()
    assert link.name == "MWAA Serverless Workflow Run"
    assert link.xcom_key == "_link_WorkflowRunLink"
