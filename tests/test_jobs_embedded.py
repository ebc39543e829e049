"""Service tasks, retries, incidents and timers through the outbox, embedded dispatcher."""
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from connectors.base import Connector, ConnectorError, Operation, Param
from engine.models import OutboxEntry, utcnow
from tests.processes import service_process, timer_process


class PlantTestConnector(Connector):
    name = "plant_test"
    version = "1"

    def __init__(self, config=None):
        super().__init__(config)
        self.calls = []
        self.fail_times = 0

    def operations(self):
        return [
            Operation("echo", (Param("value"),), handler=self._echo),
            Operation("broken", (Param("value"),), handler=self._broken),
        ]

    def _echo(self, value):
        self.calls.append(value)
        if self.fail_times > 0:
            self.fail_times -= 1
            raise ConnectorError("MES timed out", connector="plant_test", operation="echo", retryable=True)
        return {"echo": value, "n": len(self.calls)}

    def _broken(self, value):
        raise ConnectorError("HTTP 400 from MES: unknown area", connector="plant_test", operation="broken",
                             retryable=False)


@pytest.fixture
def conn(platform):
    c = PlantTestConnector()
    platform.connectors.register(c)
    yield c
    platform.connectors.unregister("plant_test")


def _start(api, key):
    r = api.post("/api/v1/process-instances", "prod1", json={"process_key": key})
    assert r.status_code == 201, r.json
    return r.json


def test_service_task_runs_after_commit_not_in_the_request(api, platform, conn):
    assert api.deploy({"svc.bpmn": service_process()}).status_code == 201
    inst = _start(api, "svc")
    # The request only recorded the call.
    assert inst["status"] == "waiting" and conn.calls == []
    assert platform.dispatcher.run_once() == 1
    assert conn.calls == ["unit-1"]
    got = api.get(f"/api/v1/process-instances/{inst['id']}", "prod1").json
    assert got["status"] == "running"
    assert got["variables"]["reply"] == {"echo": "unit-1", "n": 1}
    assert [t["bpmn_id"] for t in got["active_tasks"]] == ["read"]
    # Running the same entry again (a re-sent job) does not advance it twice.
    with platform.db.session() as s:
        entry_id = s.scalar(select(OutboxEntry.id))
    assert platform.dispatcher.jobs.run_entry(entry_id) == "already-done"
    assert conn.calls == ["unit-1"]


def test_retries_with_backoff_then_success(api, platform, conn):
    assert api.deploy({"svc.bpmn": service_process(retries=2, backoff=1)}).status_code == 201
    conn.fail_times = 1
    inst = _start(api, "svc")
    platform.dispatcher.run_once()
    assert conn.calls == ["unit-1"]
    # Second attempt waits for its backoff (1 s): nothing is due right away.
    assert platform.dispatcher.run_once() == 0
    with time_machine.travel(utcnow() + timedelta(seconds=2), tick=True):
        assert platform.dispatcher.run_once() == 1
    assert conn.calls == ["unit-1", "unit-1"]
    got = api.get(f"/api/v1/process-instances/{inst['id']}", "prod1").json
    assert got["status"] == "running" and got["variables"]["reply"]["n"] == 2
    kinds = [e["kind"] for e in got["timeline"]]
    assert "service_task_retry" in kinds and kinds[-1] == "service_task"


def test_exhausted_or_permanent_failure_opens_an_incident_that_can_be_retried(api, platform, conn):
    assert api.deploy({"svc.bpmn": service_process("svc2", operator="plant_test/broken", retries=3)}).status_code == 201
    inst = _start(api, "svc2")
    platform.dispatcher.run_once()
    got = api.get(f"/api/v1/process-instances/{inst['id']}", "safety1").json
    assert got["status"] == "error"  # not retried: the connector said the error is permanent
    incidents = api.get("/api/v1/incidents?status=open", "admin").json
    assert incidents["total"] == 1
    inc = incidents["items"][0]
    assert inc["details"]["operator"] == "plant_test/broken"
    assert inc["details"]["params"] == {"value": "unit-1"}
    assert "unknown area" in inc["details"]["error"]
    assert api.get("/api/v1/incidents", "prod1").status_code == 403
    # Fix the variable and retry: the call is made again with the corrected parameter.
    r = api.post(f"/api/v1/incidents/{inc['id']}/retry", "admin", json={"variables": {"n": 7}})
    assert r.status_code == 200, r.json
    assert r.json["instance"]["status"] == "waiting"
    platform.dispatcher.run_once()
    again = api.get("/api/v1/incidents?status=open", "admin").json
    assert again["total"] == 1 and again["items"][0]["details"]["params"] == {"value": "unit-7"}
    r = api.post(f"/api/v1/incidents/{again['items'][0]['id']}/resolve", "admin", json={"comment": "MES 配置修复中"})
    assert r.status_code == 200 and r.json["status"] == "resolved"
    assert api.post(f"/api/v1/incidents/{again['items'][0]['id']}/resolve", "admin",
                    json={"comment": "again"}).status_code == 409


def test_timer_boundary_fires_through_the_outbox(api, platform):
    assert api.deploy({"t.bpmn": timer_process(duration="PT1H")}).status_code == 201
    inst = _start(api, "timed")
    assert inst["next_timer_at"] is not None
    assert platform.dispatcher.run_once() == 0
    with time_machine.travel(utcnow() + timedelta(hours=1, seconds=1), tick=True):
        assert platform.dispatcher.run_once() == 1
    got = api.get(f"/api/v1/process-instances/{inst['id']}", "safety1").json
    assert [t["bpmn_id"] for t in got["active_tasks"]] == ["escalated"]
    assert got["next_timer_at"] is None
    timer_events = [e for e in got["timeline"] if e["kind"] == "timer"]
    assert len(timer_events) == 1 and timer_events[0]["data"]["lateness_ms"] >= 0
    with platform.db.session() as s:
        assert s.scalar(select(func.count()).select_from(OutboxEntry).where(OutboxEntry.done_at.is_(None))) == 0
