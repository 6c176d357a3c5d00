"""A Celery fleet (Redis broker, 2 workers, 2 triggerers) runs N deferred waits, one triggerer SIGKILLed
mid-wait: no duplicate run, no lost wait, every task success, the killed triggerer's waits finish on the
other. Reduced size here (``MWAAS_FLEET_WAITS``, default 40); full size: ``./scripts/fleet``."""

from __future__ import annotations

import math
import os

import pytest

from tests.fleet.harness import FleetConfig, print_report, run_fleet

pytestmark = [pytest.mark.long, pytest.mark.fleet, pytest.mark.e2e, pytest.mark.timeout(900)]


def test_a_celery_fleet_loses_no_wait_when_a_triggerer_is_killed() -> None:
    config = FleetConfig(waits=int(os.environ.get("MWAAS_FLEET_WAITS", "40")))
    report = run_fleet(config)
    print_report(report)
    assert report.problems == []
    assert report.runs_started == config.waits
    assert (report.duplicates, report.lost, report.not_success) == (0, 0, 0)
    assert len(report.triggers_per_triggerer) == 2 and report.moved_waits > 0, "both triggerers held waits"
    # the killed triggerer's waits completed (on the survivor): the hang guard is the only time limit here;
    # the time itself is reported (print_report) against heartbeat timeout + 2 x waiter_delay
    assert math.isfinite(report.moved_fired_after_kill), "its waits fired"
