"""The embedded runner (``anjian serve`` without Redis) keeps the urgency order and the time limits."""
from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from connectors.base import Connector, Operation, Param
from engine.models import AuditEvent, Incident, utcnow
from tests.processes import service_process, timer_process


class PrioConnector(Connector):
    name = "prio_test"
    version = "1"

    def __init__(self, config=None):
        super().__init__(config)
        self.calls: list[tuple[str, object]] = []
        self.finished = threading.Event()
        self.release = threading.Event()  # the slow call runs until the test lets it end

    def operations(self):
        ops = [Operation("call", (Param("value"),), handler=self._call)]
        if self.config.get("with_slow"):
            ops.append(Operation("slow", (Param("value"),), handler=self._slow, timeout=0.5))
        return ops

    def _call(self, value):
        self.calls.append((value, utcnow()))
        return {"ok": True}

    def _slow(self, value):
        self.calls.append((value, utcnow()))
        self.release.wait(60)
        self.finished.set()
        return {"ok": True}


@pytest.fixture
def conn(platform):
    c = PrioConnector({"with_slow": True})
    platform.connectors.register(c)
    yield c
    platform.connectors.unregister("prio_test")


def _on_runner_thread(fn):
    """Run ``fn`` on a thread that is not the main one, like the embedded runner thread."""
    t = threading.Thread(target=fn, name="anjian-embedded-runner")
    t.start()
    t.join(60)
    assert not t.is_alive()


def _start(api, key):
    r = api.post("/api/v1/process-instances", "prod1", json={"process_key": key})
    assert r.status_code == 201, r.json
    return r.json


@pytest.fixture
def order_conn(platform):
    c = PrioConnector()
    platform.connectors.register(c)
    yield c
    platform.connectors.unregister("prio_test")


def test_a_due_timer_runs_before_calls_queued_earlier(api, platform, order_conn):
    conn = order_conn
    assert api.deploy({"svc.bpmn": service_process(operator="prio_test/call")}).status_code == 201
    assert api.deploy({"t.bpmn": timer_process(duration="PT1H")}).status_code == 201
    calls = [_start(api, "svc")["id"] for _ in range(3)]  # their outbox entries are older than the timer's
    timed = _start(api, "timed")["id"]
    with time_machine.travel(utcnow() + timedelta(hours=1, seconds=1), tick=True):
        assert platform.dispatcher.run_once() == 4
    with platform.db.session(write=False) as s:
        fired = s.scalar(select(AuditEvent.at).where(AuditEvent.instance_id == timed, AuditEvent.kind == "timer"))
    assert fired is not None and len(conn.calls) == 3
    assert all(fired <= at for _, at in conn.calls), (fired, conn.calls)
    got = api.get(f"/api/v1/process-instances/{calls[0]}", "prod1").json
    assert [t["bpmn_id"] for t in got["active_tasks"]] == ["read"]


def test_a_call_past_its_declared_limit_is_abandoned_retried_then_an_incident(api, platform, conn):
    assert api.deploy({"slow.bpmn": service_process("slow", operator="prio_test/slow", retries=1, backoff=1)}
                      ).status_code == 201
    inst = _start(api, "slow")["id"]
    _on_runner_thread(platform.dispatcher.run_once)
    assert len(conn.calls) == 1 and not conn.finished.is_set()  # the runner did not wait for the call
    with time_machine.travel(utcnow() + timedelta(seconds=2), tick=True):
        _on_runner_thread(platform.dispatcher.run_once)
    assert len(conn.calls) == 2
    got = api.get(f"/api/v1/process-instances/{inst}", "safety1").json
    assert got["status"] == "error"
    retry = [e for e in got["timeline"] if e["kind"] == "service_task_retry"]
    assert len(retry) == 1 and "limit of 0.5 s" in retry[0]["data"]["error"]
    with platform.db.session(write=False) as s:
        (incident,) = s.scalars(select(Incident).where(Incident.instance_id == inst)).all()
        assert incident.details["attempts"] == 2 and incident.details["retryable"] is True
    assert not conn.finished.is_set()
    conn.release.set()  # let the abandoned calls end before the connector is unregistered
    conn.finished.wait(10)


def test_a_batch_of_due_timers_fires_together_and_a_broken_one_alone(api, platform):
    """What an urgent RQ worker runs for a burst of timers (worker.jobs.run_outbox_entries)."""
    from sqlalchemy import update

    from engine.models import OutboxEntry, ProcessInstance

    assert api.deploy({"t.bpmn": timer_process(duration="PT1H")}).status_code == 201
    ids = [_start(api, "timed")["id"] for _ in range(4)]
    with platform.db.session() as s:  # one instance's stored state is damaged: it cannot be loaded
        s.execute(update(ProcessInstance).where(ProcessInstance.id == ids[2]).values(state="{not json"))
    with time_machine.travel(utcnow() + timedelta(hours=1, seconds=1), tick=True):
        assert platform.dispatcher.relay.schedule_due_timers() == 4
        entries = platform.dispatcher.relay.claim_due(kinds=("timer",))
        with platform.db.session(write=False) as s:
            by_instance = {s.get(OutboxEntry, e).payload["instance_id"]: e for e in entries}
        out = platform.dispatcher.jobs.run_timer_batch(entries + [999_999])
    broken = by_instance[ids[2]]
    assert out[999_999] in ("missing", "already-done")
    assert out[broken].startswith("failed") or out[broken] != "fired"
    assert [out[by_instance[i]] for i in ids if i != ids[2]] == ["fired"] * 3
    for iid in ids[:2] + ids[3:]:
        got = api.get(f"/api/v1/process-instances/{iid}", "safety1").json
        assert [t["bpmn_id"] for t in got["active_tasks"]] == ["escalated"]
    with platform.db.session(write=False) as s:
        assert s.get(OutboxEntry, broken).done_at is None  # left for the relay to re-send
