"""Urgency on the production path, with real PostgreSQL, a private Redis and real ``anjian worker`` processes.

* A due timer is taken before connector calls already waiting in the queue: a worker that
  finishes its current call picks the urgent work first (one worker, so the order is the
  worker's choice, not a race between workers).
* A connector call that runs past its time limit (the RQ job timeout on the worker) is
  retried as the BPMN's ``spiffworkflow:retry`` asks, with backoff, and becomes an incident
  only when the retries are used up.

No timing figure is asserted (the machine is shared); the assertions are about order and counts.
"""
from __future__ import annotations

import time

from sqlalchemy import select

from engine.bpmn_builder import ProcessBuilder
from engine.models import AuditEvent, Incident, OutboxEntry
from tests.fixtures import rq_harness as H
from tests.fixtures.rq_fixtures import LEASE_SECONDS, rq_stack, stack  # noqa: F401 - fixtures
from tests.processes import timer_process


def _call_process(key: str, *, retries: int | None = None, backoff: int | None = None,
                  operator: str = "rq_probe/echo") -> str:
    b = ProcessBuilder(key, "一次服务调用")
    b.lane("production")
    b.start(variables=["n", "sleep_s"]).service(
        "call", "调用", operator, {"value": "'v-' + str(n)", "sleep_s": "sleep_s"},
        result_variable="reply", lane="production", retries=retries, backoff=backoff)
    b.end("end", lane="production")
    b.chain("start", "call", "end")
    return b.to_xml()


def _deploy(stack, name, xml):
    r = stack.api.deploy({name: xml})
    assert r.status_code == 201, r.json


def _start(stack, key, **variables) -> dict:
    r = stack.api.post("/api/v1/process-instances", "prod1", json={"process_key": key, "variables": variables})
    assert r.status_code == 201, r.json
    return r.json


def _timer_fired_at(stack, instance_id):
    with stack.platform.db.session(write=False) as s:
        return s.scalar(select(AuditEvent.at).where(AuditEvent.instance_id == instance_id,
                                                    AuditEvent.kind == "timer"))


def test_a_due_timer_is_taken_before_connector_calls_waiting_in_the_queue(stack):
    _deploy(stack, "calls.bpmn", _call_process("calls"))
    _deploy(stack, "timed.bpmn", timer_process(duration="PT1S"))
    stack.workers(1)
    # Four 4.5-second calls (the tests' default call limit is 5 s): the worker runs the first, three wait
    # in the queue behind it.
    calls = [_start(stack, "calls", n=i, sleep_s=4.5)["id"] for i in range(4)]
    H.wait_for(lambda: [c for c in stack.calls() if c[0] == "start"], 60, what="the first call to start")
    timed = _start(stack, "timed")["id"]
    time.sleep(1.3)  # the timer is due now; the first call is still running
    relay = stack.platform.dispatcher
    assert relay.relay.schedule_due_timers() == 1
    assert relay.relay_once() == 1  # what `anjian scheduler` does on its next pass
    busy = stack.calls()
    assert [c[0] for c in busy] == ["start"], f"the first call ended before the timer was queued: {busy}"

    stack.wait_status(calls, "completed", timeout=120)
    fired = H.wait_for(lambda: _timer_fired_at(stack, timed), 30, what="the timer to fire")
    starts = sorted(at for what, _, _, at in stack.calls() if what == "start")
    assert len(starts) == 4
    # The timer went before every call that was waiting when it became due.
    assert fired.timestamp() < starts[1], (fired.timestamp(), starts)


def test_a_call_past_its_time_limit_is_retried_then_becomes_an_incident(stack):
    """The probe sleeps longer than the limit every time: three attempts (1 + 2 retries), then an incident."""
    _deploy(stack, "slow.bpmn", _call_process("slow", retries=2, backoff=1))
    stack.workers(1)
    stack.scheduler()
    # The call's limit is the lease-derived default (LEASE_SECONDS - 5 = 5 s): 8 s is past it.
    inst = _start(stack, "slow", n=1, sleep_s=8)["id"]
    stack.wait_status([inst], "error", timeout=LEASE_SECONDS * 6 + 60)

    starts = [c for c in stack.calls() if c[0] == "start"]
    ends = [c for c in stack.calls() if c[0] == "end"]
    assert len(starts) == 3 and ends == [], stack.calls()
    with stack.platform.db.session(write=False) as s:
        retries = list(s.scalars(select(AuditEvent.data).where(AuditEvent.instance_id == inst,
                                                               AuditEvent.kind == "service_task_retry")
                                 .order_by(AuditEvent.seq)))
    assert [d["attempt"] for d in retries] == [1, 2]
    assert [d["next_in_s"] for d in retries] == [1, 2]  # backoff 1 s, doubled
    assert all("limit of 5 s" in d["error"] for d in retries), retries
    # The retry waited for its backoff: attempt n+1 started at least next_in_s after attempt n ended.
    assert starts[1][3] - starts[0][3] >= 5 + 1 - 0.5 and starts[2][3] - starts[1][3] >= 5 + 2 - 0.5
    with stack.platform.db.session(write=False) as s:
        (incident,) = s.scalars(select(Incident).where(Incident.instance_id == inst)).all()
        assert incident.details["attempts"] == 3 and incident.details["retryable"] is True
        assert "after 3 attempt(s)" in incident.message
        pending = s.scalars(select(OutboxEntry).where(OutboxEntry.done_at.is_(None))).all()
        assert pending == []


def test_the_scheduler_heartbeat_follows_the_process_not_only_redis(stack):
    import subprocess

    def check() -> subprocess.CompletedProcess:
        return subprocess.run([H.anjian_bin(), "heartbeat", "scheduler", "--max-age", "2"], env=stack.env(),
                              capture_output=True, text=True, timeout=60)

    (stack.workdir / "heartbeat" / "scheduler").unlink(missing_ok=True)  # an earlier test's scheduler
    assert check().returncode == 1  # nothing has beaten yet
    stack.scheduler()
    H.wait_for(lambda: check().returncode == 0, 60, 0.2, what="a fresh scheduler heartbeat")
    stack.redis.stop()  # passes fail now: the scheduler stops beating although its process lives
    H.wait_for(lambda: check().returncode == 1, 60, 0.5, what="the scheduler heartbeat to go stale")
    assert all(p.alive() for p in stack.procs)


def test_each_kind_of_job_lands_on_the_queue_of_its_urgency(stack):
    from rq import Queue

    from worker.queues import QUEUE_HIGH, QUEUE_LOW, QUEUE_NORMAL

    b = ProcessBuilder("report", "长报表")
    b.lane("production")
    b.start(variables=["n"]).service("call", "报表", "rq_probe/report", {"value": "'r-' + str(n)"},
                                     result_variable="reply", lane="production")
    b.end("end", lane="production")
    b.chain("start", "call", "end")
    _deploy(stack, "report.bpmn", b.to_xml())
    _deploy(stack, "calls.bpmn", _call_process("calls"))
    _deploy(stack, "timed.bpmn", timer_process(duration="PT1S"))
    # No worker runs: the jobs stay where the relay put them.
    _start(stack, "calls", n=1, sleep_s=0)
    _start(stack, "report", n=1)
    _start(stack, "timed")
    time.sleep(1.2)
    stack.platform.dispatcher.relay.schedule_due_timers()
    stack.platform.dispatcher.relay_once()
    r = stack.redis.client()
    high, normal, low = (Queue(n, connection=r) for n in (QUEUE_HIGH, QUEUE_NORMAL, QUEUE_LOW))
    assert (high.count, normal.count, low.count) == (1, 1, 1)
    metrics = stack.app.test_client().get("/metrics").data.decode()
    for urgency in ("high", "normal", "low"):
        assert f'anjian_queue_depth_by_urgency{{urgency="{urgency}"}} 1.0' in metrics
    assert "anjian_queue_depth 3.0" in metrics
    (call_job,) = normal.get_jobs()
    (report_job,) = low.get_jobs()
    assert call_job.timeout == (LEASE_SECONDS - 5) + 10 and report_job.timeout == 120 + 10
    # An urgent-only worker takes the timer and leaves the calls alone.
    stack.spawn("worker", "--name", "urgent", "--queues", "high", log_name="urgent")
    H.wait_for(lambda: high.count == 0 and _fired(stack), 60, 0.1, what="the timer fired")
    time.sleep(0.5)
    assert (normal.count, low.count) == (1, 1) and stack.calls() == []
    stack.workers(1)  # a general worker takes the rest, the call before the long report
    H.wait_for(lambda: normal.count == 0 and low.count == 0 and len(stack.calls()) == 4, 60, 0.1,
               what="the calls done")
    assert [v for what, v, *_ in stack.calls() if what == "start"] == ["v-1", "r-1"]


def _fired(stack) -> bool:
    with stack.platform.db.session(write=False) as s:
        return s.scalar(select(AuditEvent.seq).where(AuditEvent.kind == "timer").limit(1)) is not None


def test_a_declared_limit_stops_the_call_on_the_worker(stack):
    b = ProcessBuilder("limited", "限时调用")
    b.lane("production")
    b.start(variables=["n"]).service("call", "调用", "rq_probe/limited", {"value": "'l-' + str(n)", "sleep_s": "6"},
                                     result_variable="reply", lane="production")
    b.end("end", lane="production")
    b.chain("start", "call", "end")
    _deploy(stack, "limited.bpmn", b.to_xml())
    stack.workers(1)
    inst = _start(stack, "limited", n=1)["id"]
    stack.wait_status([inst], "error", timeout=60)
    with stack.platform.db.session(write=False) as s:
        (incident,) = s.scalars(select(Incident).where(Incident.instance_id == inst)).all()
        assert "limit of 2 s" in incident.message and incident.details["attempts"] == 1
    assert [c[0] for c in stack.calls()] == ["start"]  # stopped: the call never reached its end


def test_a_worker_refuses_an_unknown_queue(stack):
    import subprocess

    r = subprocess.run([H.anjian_bin(), "worker", "--queues", "urgent"], env=stack.env(), capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2 and "unknown queue 'urgent'" in r.stderr


def test_in_production_ingest_an_alarm_driven_start_is_an_urgent_job(stack):
    """`anjian ingest` with REDIS_URL: the permit is interrupted at once, alert_response starts on a worker."""
    from engine.iot.alerts import defer_to_outbox
    from tests.iot_support import alert_files, gas_detector, gas_permit_process, ready_tasks, start_permit

    for name, xml in {"permit.bpmn": gas_permit_process(), **alert_files()}.items():
        _deploy(stack, name, xml)
    iot = stack.platform.iot
    iot.reset_state()
    gas_detector(stack.platform)
    permit = start_permit(stack.platform)
    iot.alerts.defer = defer_to_outbox(stack.platform)
    try:
        iot.pipeline.handle_http([{"device": "GT-301", "value": 30.0}])
    finally:
        iot.alerts.defer = None
    assert ready_tasks(stack.platform, permit) == ["stop_work"]  # gas_alarm: in-line, no worker needed
    alerts = iot.alerts.list(None)["items"]
    (red,) = [a for a in alerts if a["grade"] == "red"]
    assert {a["process_status"] for a in alerts} == {None}  # their response processes wait for a worker
    from rq import Queue

    from worker.queues import QUEUE_HIGH, QUEUE_NORMAL
    r = stack.redis.client()
    assert Queue(QUEUE_HIGH, connection=r).count == len(alerts) and Queue(QUEUE_NORMAL, connection=r).count == 0
    stack.spawn("worker", "--name", "urgent", "--queues", "high", log_name="urgent")
    got = H.wait_for(lambda: (lambda a: a if a["process_status"] == "started" else None)(
        iot.alerts.get(None, red["id"])), 60, 0.1, what="alert_response started by the worker")
    assert got["process_instance_id"] is not None

    # The job commits the alert's "started" before it marks its outbox entry done: wait for the
    # entries rather than reading them the instant the alert shows started.
    def outbox_pending():
        with stack.platform.db.session(write=False) as s:
            return s.scalars(select(OutboxEntry).where(OutboxEntry.done_at.is_(None))).all()

    H.wait_for(lambda: outbox_pending() == [], 30, 0.1, what="every outbox entry done by the worker")
    assert outbox_pending() == []
