"""The production path with real services: PostgreSQL, a private redis-server, `anjian worker`,
`anjian scheduler` and `anjian serve` processes. No mocks.

PostgreSQL only (the concurrency is the point). The connector the workers call
is a real pip-installed package (tests/rq_connector_pkg) that records every
call in a file, so the tests can count connector calls across processes.
"""
from __future__ import annotations

import time

import pytest
import requests
from sqlalchemy import func, select

from engine.bpmn_builder import ProcessBuilder
from engine.models import OutboxEntry
from tests.conftest import DEMO_PASSWORD
from tests.fixtures import rq_harness as H
from tests.fixtures.rq_fixtures import LEASE_SECONDS, rq_stack, stack  # noqa: F401 - fixtures
from tests.processes import timer_process


def one_call_process(key="one_call") -> str:
    """start → one rq_probe/echo call (value 'v-<n>', sleeping sleep_s) → end."""
    b = ProcessBuilder(key, "一次服务调用")
    b.lane("production")
    b.start(variables=["n", "sleep_s"]).service("call", "调用", "rq_probe/echo", {"value": "'v-' + str(n)", "sleep_s": "sleep_s"},
                      result_variable="reply", lane="production")
    b.end("end", lane="production")
    b.chain("start", "call", "end")
    return b.to_xml()


def report_then_call_process(key="report_call") -> str:
    """start → user task 'report' → rq_probe/echo → end: completing the task produces the service job."""
    b = ProcessBuilder(key, "上报后调用")
    b.lane("production")
    b.start(variables=["n"]).user("report", "上报", lane="production")
    b.service("call", "调用", "rq_probe/echo", {"value": "'v-' + str(n)"}, result_variable="reply",
              lane="production")
    b.end("end", lane="production")
    b.chain("start", "report", "call", "end")
    return b.to_xml()


def _deploy(stack, name, xml):
    r = stack.api.deploy({name: xml})
    assert r.status_code == 201, r.json


def _start(stack, key, **variables) -> dict:
    r = stack.api.post("/api/v1/process-instances", "prod1", json={"process_key": key, "variables": variables})
    assert r.status_code == 201, r.json
    return r.json


def _pending_outbox(stack) -> int:
    with stack.platform.db.session(write=False) as s:
        return s.scalar(select(func.count()).select_from(OutboxEntry).where(OutboxEntry.done_at.is_(None)))


def test_service_tasks_complete_through_rq_on_two_workers(stack):
    from rq import Worker

    _deploy(stack, "one_call.bpmn", one_call_process())
    stack.workers(2)
    started = [_start(stack, "one_call", n=i, sleep_s=0) for i in range(12)]
    # The API request only recorded the call: no connector ran inside it.
    assert all(inst["status"] == "waiting" for inst in started)
    ids = [inst["id"] for inst in started]
    stack.wait_status(ids, "completed", timeout=120)

    for i, iid in enumerate(ids):
        got = stack.api.get(f"/api/v1/process-instances/{iid}", "prod1").json
        assert got["variables"]["reply"]["echo"] == f"v-{i}"
        kinds = [e["kind"] for e in got["timeline"]]
        assert kinds.count("service_task") == 1 and "service_task_retry" not in kinds
    calls = stack.calls()
    assert sorted(v for what, v, *_ in calls if what == "end") == sorted(f"v-{i}" for i in range(12))
    assert sum(1 for what, *_ in calls if what == "start") == 12
    assert _pending_outbox(stack) == 0
    # Both workers took jobs.
    done_by = {w.name: w.successful_job_count for w in Worker.all(connection=stack.redis.client())}
    assert len(done_by) == 2 and all(n > 0 for n in done_by.values()) and sum(done_by.values()) == 12, done_by


def test_worker_killed_mid_job_another_worker_completes_it_once(stack):
    _deploy(stack, "one_call.bpmn", one_call_process())
    workers = stack.workers(2)
    stack.scheduler()
    inst = _start(stack, "one_call", n=1, sleep_s=2)

    first = H.wait_for(lambda: [c for c in stack.calls() if c[0] == "start"], 60, what="the connector call to start")
    busy_pid = first[0][2]
    victim = next(w for w in workers if w.pid == busy_pid or busy_pid in H._children(w.pid))
    killed = victim.kill9()
    assert busy_pid in killed and not victim.alive()
    time.sleep(0.5)
    assert stack.statuses([inst["id"]]) == {inst["id"]: "waiting"}
    assert [c[0] for c in stack.calls()] == ["start"]  # the killed call never finished

    # After the lease the scheduler re-sends the job; the surviving worker completes it.
    stack.wait_status([inst["id"]], "completed", timeout=LEASE_SECONDS + 60)
    events = stack.events(inst["id"], "service_task")
    assert len(events) == 1, [e.data for e in events]
    calls = stack.calls()
    starts = [c for c in calls if c[0] == "start"]
    ends = [c for c in calls if c[0] == "end"]
    assert len(starts) == 2 and len(ends) == 1, calls
    assert ends[0][2] != busy_pid
    # The re-send waited for the lease: the second call started a lease after the first was sent.
    assert starts[1][3] - starts[0][3] >= LEASE_SECONDS - 3
    got = stack.api.get(f"/api/v1/process-instances/{inst['id']}", "prod1").json
    assert got["variables"]["reply"]["echo"] == "v-1"
    assert _pending_outbox(stack) == 0


def test_redis_down_the_api_keeps_answering_and_nothing_is_lost(stack):
    _deploy(stack, "report_call.bpmn", report_then_call_process())
    port = H.free_port()
    api = stack.spawn("serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2", "--threads", "4",
                      log_name="serve")
    base = f"http://127.0.0.1:{port}"

    def ready():
        try:
            return requests.get(f"{base}/readyz", timeout=1).status_code == 200
        except requests.RequestException:
            return False
    try:
        H.wait_for(ready, 60, 0.2, what="anjian serve ready")
    except TimeoutError:
        raise AssertionError(api.log()) from None
    http = requests.Session()
    token = http.post(f"{base}/api/v1/auth/login", json={"username": "prod1", "password": DEMO_PASSWORD},
                      timeout=10).json()["access_token"]
    http.headers["Authorization"] = f"Bearer {token}"
    stack.workers(2)
    stack.scheduler()

    instances = []
    for i in range(8):
        r = http.post(f"{base}/api/v1/process-instances", json={"process_key": "report_call", "variables": {"n": i}},
                      timeout=10)
        assert r.status_code == 201, r.text
        instances.append(r.json())

    stack.redis.stop()
    slowest = 0.0
    for inst in instances:
        (task,) = inst["active_tasks"]
        t0 = time.perf_counter()
        r = http.post(f"{base}/api/v1/tasks/{task['id']}/complete", json={"data": {}}, timeout=10)
        slowest = max(slowest, time.perf_counter() - t0)
        assert r.status_code == 200, r.text
    assert slowest < 2.0, f"a task completion took {slowest:.2f} s with Redis down"
    assert requests.get(f"{base}/readyz", timeout=5).status_code == 200
    ids = [inst["id"] for inst in instances]
    # The jobs wait in the outbox: nothing ran, nothing was dropped.
    time.sleep(2)
    assert set(stack.statuses(ids).values()) == {"waiting"}
    assert _pending_outbox(stack) == 8
    assert stack.calls() == []

    stack.redis.start()  # an empty Redis: every queued job is gone, the outbox still has them
    stack.wait_status(ids, "completed", timeout=LEASE_SECONDS + 90)
    for iid in ids:
        assert len(stack.events(iid, "service_task")) == 1
    assert sorted(v for what, v, *_ in stack.calls() if what == "end") == sorted(f"v-{i}" for i in range(8))
    assert _pending_outbox(stack) == 0
    assert all(p.alive() for p in stack.procs), stack.logs()


def test_two_schedulers_one_leader_timers_fire_once(stack):
    _deploy(stack, "timed.bpmn", timer_process(duration="PT2S"))
    stack.workers(2)
    schedulers = [stack.scheduler(name="scheduler-a"), stack.scheduler(name="scheduler-b")]
    r = stack.redis.client()
    from worker.dispatch import Scheduler

    holder = H.wait_for(lambda: r.get(Scheduler.LOCK_KEY), 30, what="a scheduler to take the lead").decode()
    leader = next(s for s in schedulers if f":{s.pid}:" in holder)
    standby = next(s for s in schedulers if s is not leader)
    seen = set()
    for _ in range(15):  # the lead does not flap while both run
        seen.add(r.get(Scheduler.LOCK_KEY).decode())
        time.sleep(0.1)
    assert seen == {holder}
    assert "is now the leader" in leader.log() and "is now the leader" not in standby.log()

    first = [_start(stack, "timed")["id"] for _ in range(6)]
    _wait_escalated(stack, first)

    leader.kill9()
    t_kill = time.monotonic()

    def new_holder():
        value = (r.get(Scheduler.LOCK_KEY) or b"").decode()
        return value if value and value != holder else None
    took_over = H.wait_for(new_holder, 15, what="a new leader")
    assert time.monotonic() - t_kill <= Scheduler.LOCK_MS / 1000 + 2  # the lock outlives its holder by at most 5 s
    assert f":{standby.pid}:" in took_over
    H.wait_for(lambda: "is now the leader" in standby.log(), 10, what="the standby to log its new lead")
    second = [_start(stack, "timed")["id"] for _ in range(4)]
    _wait_escalated(stack, second)

    for iid in first + second:
        assert len(stack.events(iid, "timer")) == 1
    with stack.platform.db.session(write=False) as s:
        kinds = s.scalars(select(OutboxEntry.kind).where(OutboxEntry.kind == "timer")).all()
    assert len(kinds) == 10
    assert _pending_outbox(stack) == 0


def _wait_escalated(stack, ids, timeout=60):
    def escalated():
        for iid in ids:
            got = stack.api.get(f"/api/v1/process-instances/{iid}", "safety1").json
            if [t["bpmn_id"] for t in got["active_tasks"]] != ["escalated"]:
                return False
        return True
    try:
        H.wait_for(escalated, timeout, 0.2, what="timers fired")
    except TimeoutError as exc:
        raise AssertionError(f"{exc}\n{stack.logs()}") from None


def test_a_job_still_waiting_in_the_queue_is_not_sent_twice(stack):
    """The lease re-sends lost jobs, not jobs that merely wait behind a backlog."""
    from rq import Queue

    from worker.dispatch import QUEUE_NAME, RqDispatcher

    _deploy(stack, "one_call.bpmn", one_call_process())
    inst = _start(stack, "one_call", n=1, sleep_s=0)  # no worker runs: the job waits in Redis
    q = Queue(QUEUE_NAME, connection=stack.redis.client())
    assert q.count == 1
    quick = RqDispatcher(stack.platform, stack.redis.url, lease_seconds=6)
    time.sleep(6.2)
    assert quick.relay_once() == 0 and q.count == 1
    q.empty()  # the job is lost (as after a Redis restart without persistence)
    time.sleep(6.2)
    assert quick.relay_once() == 1 and q.count == 1
    stack.workers(1)
    stack.wait_status([inst["id"]], "completed", timeout=60)
    assert [c[0] for c in stack.calls()] == ["start", "end"]


def test_only_one_scheduler_object_leads(stack):
    from worker.dispatch import Scheduler

    a = Scheduler(stack.platform, stack.platform.dispatcher, interval=0.1)
    b = Scheduler(stack.platform, stack.platform.dispatcher, interval=0.1)
    assert a.identity != b.identity  # two schedulers in one process are still two candidates
    assert a.is_leader() and not b.is_leader() and a.is_leader()
    stack.redis.client().delete(Scheduler.LOCK_KEY)  # the leader's lock expired (it stopped renewing)
    assert b.is_leader() and not a.is_leader()
    assert not a.leader and b.leader


@pytest.mark.parametrize("lease, timeout", [(60, 55), (10, 5), (3, 1)])
def test_job_timeout_stays_below_the_lease(stack, lease, timeout):
    from worker.dispatch import RqDispatcher

    d = RqDispatcher(stack.platform, stack.redis.url, lease_seconds=lease)
    assert d.job_timeout == timeout


def test_the_non_forking_worker_runs_every_job_in_one_warm_process(stack):
    """worker.rq_worker (what `anjian worker` should run): no fork per job, so no per-job start-up."""
    import subprocess
    import sys

    _deploy(stack, "one_call.bpmn", one_call_process())
    ids = [_start(stack, "one_call", n=i, sleep_s=0)["id"] for i in range(6)]
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "worker.rq_worker", "--burst", "--name", "simple"], env=stack.env(),
                       cwd=str(H.REPO), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert stack.statuses(ids) == {i: "completed" for i in ids}
    pids = {pid for what, _, pid, _ in stack.calls()}
    assert len(pids) == 1  # every job ran in the worker process itself
    assert time.perf_counter() - t0 < 60
