"""The benchmark commands run end to end at tiny sizes (behaviour only: no figures are judged).

The commands are independent processes, each mostly waiting on its own emulator and intervals: a
module fixture starts them all at once (about 50 s on 2 cores instead of about 110 s one after the other)
and each test waits for its own command and checks its own output.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.timeout(240)

#: Each benchmark command at a tiny size, by name.
COMMANDS: dict[str, list[str]] = {
    "triggerer_density": ["--n", "5", "--delay", "1", "--window", "1"],
    "parse_cost": ["--runs", "1", "--breakdown", "3"],
    "scale": [
        *("--n", "6", "--upstream-n", "3", "--worker-n", "2"),
        *("--delay", "1", "--window", "1", "--groups", "2", "--failed", "1"),
    ],
    "event_wake": [
        *("--n", "4", "--scale-n", "6", "--delay", "3"),
        *("--safety", "30", "--steady-window", "2", "--groups", "2"),
    ],
    "listing_page": ["--runs", "150", "--samples", "3", "--walks", "1"],
}


@dataclass
class Finished:
    """What one benchmark command returned and printed."""

    returncode: int
    stdout: str
    stderr: str


class Started:
    """The benchmark commands, started together; ``result(name)`` waits for one of them."""

    def __init__(self) -> None:
        self.procs = {
            name: subprocess.Popen(
                [sys.executable, str(REPO_ROOT / "benchmarks" / f"{name}.py"), *args],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for name, args in COMMANDS.items()
        }
        self.results: dict[str, Finished] = {}

    def result(self, name: str, timeout: float = 230) -> Finished:
        """Wait for ``name`` (killed after ``timeout`` s) and return what it returned and printed.

        :param name: a key of :data:`COMMANDS`.
        :param timeout: seconds to wait for the command to end.
        """
        if name not in self.results:
            proc = self.procs[name]
            try:
                stdout, stderr = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                stdout, stderr = proc.communicate()
                stderr += f"\n<{name} killed after {timeout} s>"
            self.results[name] = Finished(proc.returncode, stdout, stderr)
        return self.results[name]

    def stop(self) -> None:
        """Kill whatever is still running (a test that failed early left its command's peers running)."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
            proc.communicate()


@pytest.fixture(scope="module")
def benchmarks() -> Iterator[Started]:
    started = Started()
    try:
        yield started
    finally:
        started.stop()


def test_triggerer_density_runs_every_design_and_prints_its_table(benchmarks: Started) -> None:
    result = benchmarks.result("triggerer_density")
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [
        line.split()[:2]
        for line in result.stdout.splitlines()
        if line.split()[:2] in (["upstream", "5"], ["shared", "5"], ["ours", "5"])
    ]
    assert rows == [["upstream", "5"], ["shared", "5"], ["ours", "5"]]
    # Which requests fall inside a 1-interval window depends on timing; that coalesced polling lists runs
    # is proven in tests/triggers. Here: the per-operation breakdown is printed for every design.
    for design in ("upstream", "shared", "ours"):
        assert f"{design:9} N=    5: " in result.stdout


def test_parse_cost_compares_every_variant(benchmarks: Started) -> None:
    result = benchmarks.result("parse_cost")
    assert result.returncode == 0, result.stderr[-3000:]
    for variant in ("import airflow.sdk", "+ from airflow.sdk import BaseOperator", "(ours)", "(amazon)"):
        assert variant in result.stdout
    assert "imports ours adds over '+ BaseOperator'" in result.stdout


def test_scale_prints_the_issue_table_for_every_column(benchmarks: Started) -> None:
    result = benchmarks.result("scale")
    assert result.returncode == 0, result.stderr[-3000:]
    header = next(line for line in result.stdout.splitlines() if line.startswith("measure"))
    assert header.split()[1:7] == ["upstream", "N=3", "ours", "N=6", "worker", "N=2"]
    ended = next(line for line in result.stdout.splitlines() if line.startswith("waits ended"))
    assert ended.split()[2:] == ["3", "of", "3", "6", "of", "6", "2", "of", "2", "all"], "every wait ended"
    assert "detection latency median / max" in result.stdout


def test_event_wake_prints_events_and_polling_side_by_side(benchmarks: Started) -> None:
    result = benchmarks.result("event_wake")
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    heads = [line.split() for line in lines if line.strip().startswith("measure")]
    assert heads == [["measure", "polling", "N=4", "events", "N=4"], ["measure", "polling", "N=6", "events", "N=6"]]
    ended = next(line for line in lines if line.strip().startswith("waits ended"))
    assert ended.split()[2:] == ["4", "of", "4", "4", "of", "4"], "every wait ended"
    for label in ("detection latency median/p99/max", "requests per hour"):
        assert label in result.stdout


def test_listing_page_times_the_newest_page_and_a_walk(benchmarks: Started) -> None:
    result = benchmarks.result("listing_page")
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [line.split()[:4] for line in result.stdout.splitlines() if line.split()[:1] == ["150"]]
    expected = [["150", client, "newest", "3"] for client in ("plain", "provider")]
    expected[1:1] = [["150", "plain", "walk", "2"]]
    assert rows == [*expected, ["150", "provider", "walk", "2"]], result.stdout
