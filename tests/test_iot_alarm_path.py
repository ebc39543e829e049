"""The alarm path does only alarm work (SQLite and PostgreSQL).

* The data-gap sweep runs on a thread of its own: while a sweep is still busy, a gas reading
  over a live permit's limit is evaluated and the permit is interrupted.
* Devices of one area that fall silent together (a gateway down) become ONE grouped alert
  naming them and start one ``alert_response``, not one per device.
"""
from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from engine.iot.pipeline import Envelope, IngestPipeline, IngestWorker
from engine.models import ProcessInstance, utcnow
from engine.principal import SYSTEM
from tests.fixtures.rq_harness import wait_for
from tests.iot_support import (AREA, OTHER_AREA, alert_files, deploy, gas_detector, gas_permit_process, iot,  # noqa: F401
                               ready_tasks, start_permit)


class _SlowSweepPipeline(IngestPipeline):
    """The real pipeline, whose data-gap sweep holds on until the test lets it finish.

    It stands for a sweep that takes long (hundreds of silent devices on a busy database).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sweeping = threading.Event()
        self.release = threading.Event()
        self.sweep_threads: set[str] = set()

    def sweep_data_gaps(self, now=None):
        self.sweep_threads.add(threading.current_thread().name)
        self.sweeping.set()
        self.release.wait(120)
        return super().sweep_data_gaps(now)


def _responses(platform) -> int:
    with platform.db.session(write=False) as s:
        return s.scalar(select(func.count()).select_from(ProcessInstance)
                        .where(ProcessInstance.process_key == "alert_response"))


def test_a_gas_alarm_is_not_held_up_by_a_data_gap_sweep(iot, platform):
    deploy(platform, {"permit.bpmn": gas_permit_process(), **alert_files()})
    gas_detector(platform)
    permit = start_permit(platform)
    pipeline = _SlowSweepPipeline(iot.devices, iot.readings, iot.evaluator, iot.alerts, iot.rules)
    worker = IngestWorker(pipeline, sweep_seconds=0.05)
    worker.start()
    try:
        assert pipeline.sweeping.wait(30), "the sweep never started"
        topic = f"anjian/plant/{AREA}/GT-301/gas"
        worker.offer(Envelope(topic, json.dumps({"value": 2.0}).encode(), utcnow()))
        worker.offer(Envelope(topic, json.dumps({"value": 30.0}).encode(), utcnow()))
        # The permit is interrupted while the sweep is still busy.
        wait_for(lambda: ready_tasks(platform, permit) == ["stop_work"], 60, 0.05,
                 what="the permit's stop-work task while the sweep runs")
        assert not pipeline.release.is_set()
        red = [a for a in iot.alerts.list(SYSTEM)["items"] if a["grade"] == "red"]
        assert len(red) == 1 and red[0]["device_id"] == "GT-301"
        assert pipeline.sweep_threads == {"anjian-data-gap-sweep"}
    finally:
        pipeline.release.set()
        worker.stop()


def test_devices_silent_together_make_one_grouped_alert_naming_them(iot, platform):
    deploy(platform, alert_files())
    gateway = [f"GT-G{i:03d}" for i in range(40)]
    for dev in gateway:
        gas_detector(platform, dev)
    gas_detector(platform, "GT-ALONE", area=OTHER_AREA)
    iot.pipeline.handle_http([{"device": dev, "value": 1.0} for dev in gateway + ["GT-ALONE"]])

    later = datetime.now(timezone.utc) + timedelta(seconds=400)
    done = iot.pipeline.sweep_data_gaps(later)
    assert sorted((d["area"], d["device_id"], d["outcome"]) for d in done) == \
        sorted([(AREA, None, "opened"), (OTHER_AREA, "GT-ALONE", "opened")])
    alerts = {a["area"]: a for a in iot.alerts.list(SYSTEM)["items"]}
    assert len(alerts) == 2
    group = alerts[AREA]
    assert group["grade"] == "blue" and group["owner_department"] == "maintenance"
    assert group["details"]["devices"] == gateway and group["details"]["device_count"] == 40
    assert "40" in group["title"] and "GT-G000" in group["title"]
    assert alerts[OTHER_AREA]["device_id"] == "GT-ALONE" and "no data" in alerts[OTHER_AREA]["title"]
    assert _responses(platform) == 2  # one response process per alert, not 41

    # A later sweep with one more device silent updates the same alert: nothing new opens.
    gas_detector(platform, "GT-G040")
    again = iot.pipeline.sweep_data_gaps(later + timedelta(seconds=400))
    assert all(d["outcome"] != "opened" for d in again), again
    assert iot.alerts.list(SYSTEM)["total"] == 2
    assert _responses(platform) == 2
    got = iot.alerts.get(SYSTEM, group["id"])
    assert "GT-G040" in got["details"]["devices"]
