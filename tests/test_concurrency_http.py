"""50 concurrent completions of one task over real HTTP: one wins, the rest get 409."""
import threading

import requests
from werkzeug.serving import make_server

from tests.conftest import DEMO_PASSWORD
from tests.processes import permit_files


def test_fifty_concurrent_completes_advance_the_instance_once(app, api, platform):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        api.deploy(permit_files())
        token = requests.post(f"{base}/api/v1/auth/login",
                              json={"username": "prod1", "password": DEMO_PASSWORD}).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        inst = requests.post(f"{base}/api/v1/process-instances", headers=headers,
                             json={"process_key": "permit", "business_key": "RACE"}).json()
        tid = inst["active_tasks"][0]["id"]
        barrier = threading.Barrier(50)
        results = []

        def hit():
            s = requests.Session()
            barrier.wait()
            r = s.post(f"{base}/api/v1/tasks/{tid}/complete", headers=headers,
                       json={"data": {"content": "并发", "workers": 1}}, timeout=60)
            results.append((r.status_code, r.headers.get("Content-Type"), r.json()))

        threads = [threading.Thread(target=hit) for _ in range(50)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        codes = sorted(c for c, _, _ in results)
        assert codes.count(200) == 1, codes
        assert codes.count(409) == 49, codes
        assert all(ct == "application/problem+json" for c, ct, _ in results if c == 409)
        detail = requests.get(f"{base}/api/v1/process-instances/{inst['id']}", headers=headers).json()
        assert [e["kind"] for e in detail["timeline"]].count("complete") == 1
        assert [t["bpmn_id"] for t in detail["active_tasks"]] == ["site_check"]
        assert detail["row_version"] == inst["row_version"] + 1
    finally:
        server.shutdown()
