"""Login, tokens, and the tamper-evident audit chain."""
import time

import jwt
from click.testing import CliRunner
from sqlalchemy import text

from tests.processes import permit_files


def test_login_and_token_rules(api, platform):
    r = api.post("/api/v1/auth/login", json={"username": "prod1", "password": "anjian-demo"})
    assert r.status_code == 200
    assert r.json["token_type"] == "bearer" and r.json["expires_in"] == platform.settings.token_ttl_seconds
    bad = api.post("/api/v1/auth/login", json={"username": "prod1", "password": "wrong-password"})
    assert bad.status_code == 401 and bad.headers["Content-Type"] == "application/problem+json"
    assert api.post("/api/v1/auth/login", json={"username": "ghost", "password": "whatever1"}).status_code == 401
    me = api.get("/api/v1/me", "prod1").json
    assert me == {"username": "prod1", "display_name": "王主任 (生产)", "department": "workshop-1",
                  "roles": ["production"]}
    assert api.get("/api/v1/me").status_code == 401
    assert api.get("/api/v1/me", headers={"Authorization": "Bearer garbage"}).status_code == 401
    expired = jwt.encode({"sub": "prod1", "roles": ["admin"], "exp": int(time.time()) - 10},
                         platform.settings.secret_key, algorithm="HS256")
    r = api.get("/api/v1/me", headers={"Authorization": f"Bearer {expired}"})
    assert r.status_code == 401 and "expired" in r.json["detail"]
    forged = jwt.encode({"sub": "prod1", "roles": ["admin"], "exp": int(time.time()) + 60}, "another-signing-key-of-sufficient-length-123",
                        algorithm="HS256")
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    assert api.client.get("/healthz").status_code == 200 and api.client.get("/readyz").json["status"] == "ready"
    spec = api.client.get("/api/v1/openapi.json").json
    assert "/api/v1/tasks/{task_id}/complete" in spec["paths"]


def test_a_token_used_before_still_expires_on_time(api, platform):
    import time_machine

    with time_machine.travel(time.time(), tick=False) as clock:
        token = jwt.encode({"sub": "prod1", "roles": ["production"], "dept": "workshop-1",
                            "exp": int(time.time()) + 60}, platform.settings.secret_key, algorithm="HS256")
        auth = {"Authorization": f"Bearer {token}"}
        assert api.get("/api/v1/me", headers=auth).status_code == 200
        assert api.get("/api/v1/me", headers=auth).status_code == 200  # answered from the verified tokens
        clock.shift(61)
        r = api.get("/api/v1/me", headers=auth)
        assert r.status_code == 401 and "expired" in r.json["detail"]


def test_audit_chain_detects_a_tampered_row(api, platform, monkeypatch):
    api.deploy(permit_files())
    inst = api.post("/api/v1/process-instances", "prod1", json={"process_key": "permit"}).json
    api.post(f"/api/v1/tasks/{inst['active_tasks'][0]['id']}/complete", "prod1",
             json={"data": {"content": "焊接", "workers": 2}})
    events = api.get(f"/api/v1/audit?instance_id={inst['id']}", "safety1").json
    assert [e["kind"] for e in events["items"]] == ["start", "complete"]
    first, second = events["items"]
    assert second["prev_hash"] == first["hash"]
    assert api.get("/api/v1/audit", "prod1").status_code == 403
    assert api.get("/api/v1/audit/verify", "safety1").json["ok"] is True

    # The CLI reads the same database through the environment.
    monkeypatch.setenv("DATABASE_URL", platform.settings.database_url)
    monkeypatch.setenv("ANJIAN_DATA_DIR", str(platform.settings.data_dir))
    from api.cli import main

    ok = CliRunner().invoke(main, ["audit", "verify"])
    assert ok.exit_code == 0 and "intact" in ok.output

    with platform.db.session() as s:  # someone edits what a user submitted
        s.execute(text("UPDATE audit_events SET actor = 'boss1' WHERE seq = :seq"), {"seq": second["seq"]})
    broken = CliRunner().invoke(main, ["audit", "verify"])
    assert broken.exit_code == 1 and f"seq {second['seq']}" in broken.output
    r = api.get("/api/v1/audit/verify", "safety1").json
    assert r["ok"] is False and r["broken_seq"] == second["seq"]


def test_metrics_expose_latency_incidents_and_outbox(api):
    api.get("/api/v1/me", "prod1")
    text_ = api.client.get("/metrics").data.decode()
    assert 'anjian_http_request_seconds_count{endpoint="/api/v1/me",method="GET",status="200"}' in text_
    for gauge in ("anjian_open_incidents", "anjian_timers_due", "anjian_timers_overdue", "anjian_outbox_pending",
                  "anjian_jobs_failed"):
        assert f"\n{gauge} " in text_


def test_removing_an_event_breaks_the_chain(api, platform):
    api.deploy(permit_files())
    inst = api.post("/api/v1/process-instances", "prod1", json={"process_key": "permit"}).json
    api.post(f"/api/v1/tasks/{inst['active_tasks'][0]['id']}/complete", "prod1",
             json={"data": {"content": "焊接", "workers": 2}})
    events = api.get(f"/api/v1/audit?instance_id={inst['id']}", "safety1").json["items"]
    assert [e["kind"] for e in events] == ["start", "complete"]
    deploy = api.get("/api/v1/audit?kind=deploy", "safety1").json["items"]
    assert len(deploy) == 1 and deploy[0]["instance_id"] is None
    with platform.db.session() as s:  # someone hides the completion
        s.execute(text("DELETE FROM audit_events WHERE seq = :seq"), {"seq": events[-1]["seq"]})
    r = api.get("/api/v1/audit/verify", "safety1").json
    assert r["ok"] is False and f"instance {inst['id']}" in r["reason"]


def test_out_of_range_numbers_are_client_errors(api):
    huge = 2**80
    assert api.get(f"/api/v1/process-instances/{huge}", "safety1").status_code == 404
    assert api.get(f"/api/v1/incidents?page={huge}", "admin").status_code == 422
    r = api.get(f"/api/v1/audit?instance_id={huge}", "safety1")
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "instance_id"
    assert api.get(f"/api/v1/tasks?instance_id={huge}", "safety1").status_code == 422
    assert api.post(f"/api/v1/process-instances/{huge}/cancel", "safety1", json={"reason": "x"}).status_code == 404
