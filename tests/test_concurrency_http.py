"""Concurrent completions of one task over real HTTP: one wins, the rest get 409."""
import threading

import requests
from sqlalchemy import select
from werkzeug.serving import make_server

from engine.bpmn_builder import ProcessBuilder
from engine.models import OutboxEntry
from tests.conftest import DEMO_PASSWORD
from tests.processes import permit_files


def _race(app, process_key: str, business_key: str, data: dict, n: int):
    """Start an instance over HTTP, then complete its first task from ``n`` threads at once."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        token = requests.post(f"{base}/api/v1/auth/login",
                              json={"username": "prod1", "password": DEMO_PASSWORD}).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        inst = requests.post(f"{base}/api/v1/process-instances", headers=headers,
                             json={"process_key": process_key, "business_key": business_key}).json()
        tid = inst["active_tasks"][0]["id"]
        barrier = threading.Barrier(n)
        results = []

        def hit():
            s = requests.Session()
            barrier.wait()
            r = s.post(f"{base}/api/v1/tasks/{tid}/complete", headers=headers, json={"data": data}, timeout=60)
            results.append((r.status_code, r.headers.get("Content-Type"), r.json()))

        threads = [threading.Thread(target=hit) for _ in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        detail = requests.get(f"{base}/api/v1/process-instances/{inst['id']}", headers=headers).json()
        return inst, results, detail
    finally:
        server.shutdown()


def _assert_one_winner(results, n):
    codes = sorted(c for c, _, _ in results)
    assert codes.count(200) == 1, codes
    assert codes.count(409) == n - 1, codes
    assert all(ct == "application/problem+json" for c, ct, _ in results if c == 409)


def test_fifty_concurrent_completes_advance_the_instance_once(app, api, platform):
    api.deploy(permit_files())
    inst, results, detail = _race(app, "permit", "RACE", {"content": "并发", "workers": 1}, 50)
    _assert_one_winner(results, 50)
    assert [e["kind"] for e in detail["timeline"]].count("complete") == 1
    assert [t["bpmn_id"] for t in detail["active_tasks"]] == ["site_check"]
    assert detail["row_version"] == inst["row_version"] + 1


def test_concurrent_completes_that_queue_a_service_job_queue_it_once(app, api, platform):
    # A step that also writes an outbox entry is written in a transaction with the
    # instance's versioned update: the losers' entries must not survive their 409.
    b = ProcessBuilder("notify_race", "通知 (并发测试)")
    b.lane("production")
    b.start().user("ask", "申请", lane="production")
    b.service("call", "通知", "notify/people", {"recipients": "['prod1']", "message": "'并发'"})
    b.user("read", "查看", lane="production").end()
    b.chain("start", "ask", "call", "read", "end")
    assert api.deploy({"notify_race.bpmn": b.to_xml()}).status_code == 201
    inst, results, detail = _race(app, "notify_race", "RACE-SVC", {}, 30)
    _assert_one_winner(results, 30)
    assert [e["kind"] for e in detail["timeline"]].count("complete") == 1
    assert detail["row_version"] == inst["row_version"] + 1
    with platform.db.session(write=False) as s:
        entries = [(e.payload["instance_id"], e.payload["bpmn_id"])
                   for e in s.scalars(select(OutboxEntry).where(OutboxEntry.kind == "service_task"))]
    assert entries == [(inst["id"], "call")]
