"""What the workspace's instance view reads: diagram marks, failed elements, and the instance's audit chain.

A client colours the deployed BPMN (GET /process-definitions/{key}/{version}/xml) from the instance answer:
``element_states`` by element id, ``taken_flows`` (sequence flow ids), each incident's ``element_id``.
Whoever may see an instance may read its audit events and verify its chain; nobody else learns it exists.
"""
from sqlalchemy import text

from engine.bpmn_builder import ProcessBuilder
from tests.processes import permit_files


def _complete(api, user, task_id, data=None):
    r = api.post(f"/api/v1/tasks/{task_id}/complete", user, json={"data": data or {}})
    assert r.status_code == 200, r.json
    return r.json


def test_marks_show_the_path_taken_and_the_current_task(api):
    api.deploy(permit_files())
    inst = api.post("/api/v1/process-instances", "prod1", json={"process_key": "permit"}).json
    got = api.get(f"/api/v1/process-instances/{inst['id']}", "prod1").json
    assert got["element_states"] == {"start": "completed", "apply": "active"}
    assert got["taken_flows"] == ["Flow_start_apply"]

    nxt = _complete(api, "prod1", inst["active_tasks"][0]["id"], {"content": "焊接", "workers": 2})
    _complete(api, "leader1", nxt["next_tasks"][0]["id"])
    got = api.get(f"/api/v1/process-instances/{inst['id']}", "prod1").json
    assert got["element_states"] == {"start": "completed", "apply": "completed", "site_check": "completed",
                                     "review": "active"}
    assert got["taken_flows"] == ["Flow_apply_site_check", "Flow_site_check_review", "Flow_start_apply"]
    # the current task is clickable: its element id and task id are both in the answer
    assert [(t["bpmn_id"], bool(t["id"])) for t in got["active_tasks"]] == [("review", True)]

    review = got["active_tasks"][0]["id"]
    _complete(api, "safety1", review, {"approved": False})
    done = api.get(f"/api/v1/process-instances/{inst['id']}", "prod1").json
    assert done["status"] == "completed"
    # the rejection branch, not the approval one
    assert "Flow_rejected" in done["taken_flows"] and "Flow_approved" not in done["taken_flows"]
    assert done["element_states"]["rejected"] == "completed" and "approve" not in done["element_states"]


def test_parallel_branches_and_a_waiting_join(api):
    b = ProcessBuilder("par", "并行")
    b.lane("production")
    b.start().parallel("fork").user("a", "甲", lane="production").user("b", "乙", lane="production")
    b.parallel("join").user("c", "丙", lane="production").end()
    b.chain("start", "fork")
    b.flow("fork", "a").flow("fork", "b").flow("a", "join").flow("b", "join").chain("join", "c", "end")
    assert api.deploy({"par.bpmn": b.to_xml()}).status_code == 201
    inst = api.post("/api/v1/process-instances", "prod1", json={"process_key": "par"}).json
    first = [t for t in inst["active_tasks"] if t["bpmn_id"] == "a"][0]
    _complete(api, "prod1", first["id"])
    got = api.get(f"/api/v1/process-instances/{inst['id']}", "prod1").json
    # a is done and its token waits at the join; b is still open
    assert got["element_states"] == {"start": "completed", "fork": "completed", "a": "completed", "b": "active"}
    assert set(got["taken_flows"]) == {"Flow_start_fork", "Flow_fork_a", "Flow_fork_b", "Flow_a_join"}
    _complete(api, "prod1", got["active_tasks"][0]["id"])
    got = api.get(f"/api/v1/process-instances/{inst['id']}", "prod1").json
    # both branches arrived (SpiffWorkflow cancels the join task of the branch that did not go on)
    assert {"Flow_a_join", "Flow_b_join", "Flow_join_c"} <= set(got["taken_flows"])
    assert got["element_states"]["join"] == "completed" and got["element_states"]["c"] == "active"


def test_a_failed_script_is_marked_with_its_incident(api, form_file):
    b = ProcessBuilder("calc", "计算")
    b.lane("production")
    b.start().user("enter", "录入", lane="production", form="calc.json").script(
        "div", "除法", "ratio = total / count").user("see", "查看", lane="production").end()
    b.chain("start", "enter", "div", "see", "end")
    api.deploy({"calc.bpmn": b.to_xml(),
                "calc.json": form_file({"total": {"type": "number"}, "count": {"type": "number"}})})
    inst = api.post("/api/v1/process-instances", "prod1", json={"process_key": "calc"}).json
    _complete(api, "prod1", inst["active_tasks"][0]["id"], {"total": 1, "count": 0})
    got = api.get(f"/api/v1/process-instances/{inst['id']}", "prod1").json
    assert got["status"] == "error"
    assert got["element_states"]["div"] == "error" and got["element_states"]["enter"] == "completed"
    [incident] = got["incidents"]
    assert incident["element_id"] == "div" and incident["status"] == "open" and "division" in incident["message"]


def test_a_message_wait_is_suspended(api):
    b = ProcessBuilder("waiter", "等待恢复")
    b.lane("production")
    b.start().message_catch("resume", "等待复工", "resume_work").user("go", "复工", lane="production").end()
    b.chain("start", "resume", "go", "end")
    assert api.deploy({"waiter.bpmn": b.to_xml()}).status_code == 201
    inst = api.post("/api/v1/process-instances", "prod1", json={"process_key": "waiter"}).json
    got = api.get(f"/api/v1/process-instances/{inst['id']}", "prod1").json
    assert got["element_states"] == {"start": "completed", "resume": "suspended"}
    assert got["taken_flows"] == ["Flow_start_resume"]


def test_anyone_who_sees_an_instance_may_verify_its_chain(api, platform):
    api.deploy(permit_files())
    inst = api.post("/api/v1/process-instances", "prod1", json={"process_key": "permit"}).json
    _complete(api, "prod1", inst["active_tasks"][0]["id"], {"content": "焊接", "workers": 2})
    other = api.post("/api/v1/process-instances", "prod2", json={"process_key": "permit"}).json  # storage dept

    # prod1 (workshop-1) sees its instance's events and may verify its chain
    events = api.get(f"/api/v1/audit?instance_id={inst['id']}", "prod1").json["items"]
    assert [e["kind"] for e in events] == ["start", "complete"]
    ok = api.get(f"/api/v1/audit/verify?instance_id={inst['id']}", "prod1").json
    assert ok == {"ok": True, "checked": 2, "broken_seq": None, "reason": None, "instance_id": inst["id"]}
    # another department's instance is not found, for its events as for its chain
    assert api.get(f"/api/v1/audit?instance_id={other['id']}", "prod1").status_code == 404
    r = api.get(f"/api/v1/audit/verify?instance_id={other['id']}", "prod1")
    assert r.status_code == 404 and r.headers["Content-Type"] == "application/problem+json"
    assert api.get("/api/v1/audit/verify?instance_id=999999", "safety1").status_code == 404
    # the whole chain stays with plant-wide roles
    assert api.get("/api/v1/audit/verify", "prod1").status_code == 403
    assert api.get("/api/v1/audit/verify", "safety1").json["ok"] is True
    r = api.get("/api/v1/audit/verify?instance_id=abc", "prod1")
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "instance_id"

    with platform.db.session() as s:  # someone edits what prod1 submitted
        s.execute(text("UPDATE audit_events SET actor = 'boss1' WHERE seq = :seq"), {"seq": events[1]["seq"]})
    broken = api.get(f"/api/v1/audit/verify?instance_id={inst['id']}", "prod1").json
    assert broken["ok"] is False and broken["broken_seq"] == events[1]["seq"] and broken["checked"] == 1
    # the other instance's chain is intact and says so
    assert api.get(f"/api/v1/audit/verify?instance_id={other['id']}", "prod2").json["ok"] is True


def test_removing_an_instance_s_last_event_breaks_its_chain(api, platform):
    api.deploy(permit_files())
    inst = api.post("/api/v1/process-instances", "prod1", json={"process_key": "permit"}).json
    _complete(api, "prod1", inst["active_tasks"][0]["id"], {"content": "焊接", "workers": 2})
    events = api.get(f"/api/v1/audit?instance_id={inst['id']}", "prod1").json["items"]
    with platform.db.session() as s:  # someone hides the completion
        s.execute(text("DELETE FROM audit_events WHERE seq = :seq"), {"seq": events[-1]["seq"]})
    r = api.get(f"/api/v1/audit/verify?instance_id={inst['id']}", "prod1").json
    assert r["ok"] is False and "events removed" in r["reason"] and r["checked"] == 1
