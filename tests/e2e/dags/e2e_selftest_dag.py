"""A provider-free DAG that proves the e2e harness: one task defers to a standard Airflow trigger.

``wait`` defers to ``TimeDeltaTrigger`` (absolute deadline, so it survives a triggerer restart),
then ``report`` prints what ``wait`` returned. The delay comes from the DAG run conf (``seconds``).
"""

from __future__ import annotations

from datetime import timedelta

from airflow.providers.standard.triggers.temporal import TimeDeltaTrigger
from airflow.sdk import DAG, BaseOperator, task


class WaitOperator(BaseOperator):
    def execute(self, context):
        seconds = float((context["dag_run"].conf or {}).get("seconds", 3))
        self.log.info("deferring for %s s", seconds)
        self.defer(trigger=TimeDeltaTrigger(timedelta(seconds=seconds)), method_name="done")

    def done(self, context, event=None):
        self.log.info("resumed after trigger, event=%s", event)
        return "waited"


with DAG("e2e_selftest", schedule=None, catchup=False, tags=["e2e"]):
    wait = WaitOperator(task_id="wait")

    @task
    def report(value):
        print(f"REPORT {value}")

    report(wait.output)
