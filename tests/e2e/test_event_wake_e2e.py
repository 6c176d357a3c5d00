"""Event-woken waits on a real scheduler + 2 triggerers sharing one SQS queue: one triggerer SIGKILLed
mid-wait loses, hangs and duplicates nothing; with the queue deleted mid-wait every wait still ends, by
polling. Reduced size here (``MWAAS_EVENT_WAKE_WAITS``, default 20); full size (200):
``./scripts/event-wake-e2e``. Harness: tests/e2e/event_wake_harness.py."""

from __future__ import annotations

import math
import os

import pytest

from tests.e2e.event_wake_harness import EventWakeConfig, print_report, run_event_wake

pytestmark = [pytest.mark.long, pytest.mark.e2e, pytest.mark.timeout(900)]


def test_event_woken_waits_survive_a_killed_triggerer_and_a_deleted_queue() -> None:
    config = EventWakeConfig(waits=int(os.environ.get("MWAAS_EVENT_WAKE_WAITS", "20")))
    report = run_event_wake(config)
    print_report(report, config)
    assert report.problems == []
    assert report.runs_started == config.waits
    assert (report.duplicates, report.lost, report.hung, report.not_success) == (0, 0, 0, 0)
    assert len(report.triggers_per_triggerer) == 2 and report.moved_waits > 0, "both triggerers held waits"
    assert math.isfinite(report.moved_fired_max), "the killed triggerer's waits fired (on the survivor)"
    # the survivor's waits ended on their events: before any of them polled again (waiter_delay), with
    # the listings of event-woken looks only (no GetWorkflowRun per run)
    assert report.survivor_fired_max < config.waiter_delay
    assert report.deleted_not_success == 0 and math.isfinite(report.deleted_fired_max)
