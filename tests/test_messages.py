"""Messages: correlation by indexed values, boundary interruption, start events, idempotency."""
from tests.processes import message_started_process, suspendable_process


def _start(api, area, bk):
    r = api.post("/api/v1/process-instances", "prod1",
                 json={"process_key": "suspendable", "business_key": bk, "variables": {"area": area}})
    assert r.status_code == 201, r.json
    return r.json


def test_stop_work_reaches_only_the_area_and_interrupts_the_task(api):
    assert api.deploy({"s.bpmn": suspendable_process()}).status_code == 201
    a = _start(api, "unit-1", "P-1")
    b = _start(api, "tank-farm-3", "P-2")
    r = api.post("/api/v1/messages", "safety1",
                 json={"name": "stop_work", "correlation": {"area": "unit-1"}, "payload": {"reason": "H2S 超标"}})
    assert r.status_code == 200, r.json
    assert [i["id"] for i in r.json["instances"]] == [a["id"]]
    # The work task of A is gone and supervision has a stop task carrying the payload.
    inst_a = api.get(f"/api/v1/process-instances/{a['id']}", "safety1").json
    assert [t["bpmn_id"] for t in inst_a["active_tasks"]] == ["handle_stop"]
    assert inst_a["variables"]["stop_work"] == {"reason": "H2S 超标"}   # in the message's variable only
    assert "reason" not in inst_a["variables"]
    inst_b = api.get(f"/api/v1/process-instances/{b['id']}", "safety1").json
    assert [t["bpmn_id"] for t in inst_b["active_tasks"]] == ["work"]
    # prod1 no longer sees the interrupted work task.
    mine = api.get("/api/v1/tasks?mine=true&process_key=suspendable", "prod1").json
    assert [t["instance_id"] for t in mine["items"]] == [b["id"]]

    # After handling, the instance waits for 'restart' by business key.
    stop_task = inst_a["active_tasks"][0]["id"]
    assert api.post(f"/api/v1/tasks/{stop_task}/complete", "safety1", json={"data": {}}).status_code == 200
    assert api.get(f"/api/v1/process-instances/{a['id']}", "safety1").json["status"] == "waiting"
    r = api.post("/api/v1/messages", "safety1", json={"name": "restart", "business_key": "P-2"})
    assert r.status_code == 404 and "restart" in r.json["detail"]
    r = api.post("/api/v1/messages", "safety1", json={"name": "restart", "business_key": "P-1"})
    assert r.status_code == 200
    assert [t["bpmn_id"] for t in api.get(f"/api/v1/process-instances/{a['id']}", "safety1").json["active_tasks"]] \
        == ["resume"]


def test_nothing_waiting_is_404_and_bad_body_is_422(api):
    r = api.post("/api/v1/messages", "safety1", json={"name": "nobody_listens"})
    assert r.status_code == 404
    assert r.headers["Content-Type"] == "application/problem+json"
    r = api.post("/api/v1/messages", "safety1", json={"correlation": {"area": "x"}})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "name"
    r = api.post("/api/v1/messages", "safety1", json={"name": "x", "correlation": {"area": {"nested": 1}}})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "correlation.area"


def test_message_start_event_and_idempotent_delivery(api):
    assert api.deploy({"a.bpmn": message_started_process()}).status_code == 201
    body = {"name": "alert", "message_id": "ALERT-42", "payload": {"grade": "red", "area": "unit-1"}}
    first = api.post("/api/v1/messages", "safety1", json=body)
    assert first.status_code == 200, first.json
    assert first.json["instances"][0]["started"] is True
    again = api.post("/api/v1/messages", "safety1", json=body)
    assert again.status_code == 200
    assert again.json["instances"] == first.json["instances"]
    assert again.json["duplicate"] is True
    listed = api.get("/api/v1/process-instances?process_key=on_alert", "safety1").json
    assert listed["total"] == 1
    inst = api.get(f"/api/v1/process-instances/{listed['items'][0]['id']}", "safety1").json
    assert inst["variables"]["alert"] == {"grade": "red", "area": "unit-1"}
    assert "grade" not in inst["variables"]
    assert [t["bpmn_id"] for t in inst["active_tasks"]] == ["handle"]
