"""Instances: idempotent start, filters and paging, cancel, and the depth guard."""
from engine.bpmn_builder import ProcessBuilder
from tests.processes import loop_process, permit_files


def _start(api, bk=None, user="prod1", variables=None, key="permit"):
    return api.post("/api/v1/process-instances", user,
                    json={"process_key": key, "business_key": bk, "variables": variables or {}})


def test_business_key_is_unique_among_running_instances(api):
    api.deploy(permit_files())
    first = _start(api, "HW-2026-001")
    assert first.status_code == 201
    dup = _start(api, "HW-2026-001")
    assert dup.status_code == 409 and dup.json["retryable"] is False
    assert "HW-2026-001" in dup.json["detail"]
    # Once the first is cancelled, the key may be used again.
    r = api.post(f"/api/v1/process-instances/{first.json['id']}/cancel", "safety1", json={"reason": "申请有误"})
    assert r.status_code == 200 and r.json["status"] == "cancelled"
    assert _start(api, "HW-2026-001").status_code == 201


def test_unknown_process_and_bad_bodies(api):
    api.deploy(permit_files())
    r = _start(api, key="no_such_process")
    assert r.status_code == 404 and r.headers["Content-Type"] == "application/problem+json"
    r = api.post("/api/v1/process-instances", "prod1", json={"business_key": "x"})
    assert r.status_code == 422 and r.json["errors"] == [{"field": "process_key",
                                                          "message": "Missing data for required field."}]
    r = api.post("/api/v1/process-instances", "prod1", json={"process_key": "permit", "variables": [1]})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "variables"
    r = api.get("/api/v1/process-instances?status=sleeping", "safety1")
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "status"
    assert api.get("/api/v1/process-instances/999999", "safety1").status_code == 404


def test_list_filters_paging_and_department_scope(api):
    api.deploy(permit_files())
    ids = [_start(api, f"BK-{i}").json["id"] for i in range(5)]
    other = _start(api, "STORAGE-1", user="prod2").json["id"]  # storage department
    api.post(f"/api/v1/process-instances/{ids[0]}/cancel", "safety1", json={"reason": "重复"})
    page = api.get("/api/v1/process-instances?process_key=permit&page=1&page_size=2", "safety1").json
    assert page["total"] == 6 and len(page["items"]) == 2 and page["items"][0]["id"] == other
    assert api.get("/api/v1/process-instances?status=cancelled", "safety1").json["total"] == 1
    assert api.get("/api/v1/process-instances?business_key=BK-3", "safety1").json["items"][0]["id"] == ids[3]
    started = api.get(f"/api/v1/process-instances/{ids[1]}", "safety1").json["started_at"]
    after = api.get(f"/api/v1/process-instances?started_after={started.replace('+', '%2B')}", "safety1").json
    assert ids[0] not in [i["id"] for i in after["items"]] and ids[1] in [i["id"] for i in after["items"]]
    # prod1 (workshop-1) does not see the storage department's instance.
    mine = api.get("/api/v1/process-instances?process_key=permit", "prod1").json
    assert other not in [i["id"] for i in mine["items"]] and mine["total"] == 5
    assert api.get(f"/api/v1/process-instances/{other}", "prod1").status_code == 404


def test_cancel_needs_role_and_reason(api):
    api.deploy(permit_files())
    iid = _start(api, "C-1").json["id"]
    r = api.post(f"/api/v1/process-instances/{iid}/cancel", "prod1", json={"reason": "x"})
    assert r.status_code == 403
    r = api.post(f"/api/v1/process-instances/{iid}/cancel", "safety1", json={"reason": ""})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "reason"
    r = api.post(f"/api/v1/process-instances/{iid}/cancel", "safety1", json={"reason": "作业取消"})
    assert r.status_code == 200
    assert api.get("/api/v1/tasks?mine=true", "prod1").json["total"] == 0
    inst = api.get(f"/api/v1/process-instances/{iid}", "safety1").json
    assert inst["timeline"][-1]["kind"] == "cancel" and inst["timeline"][-1]["data"]["reason"] == "作业取消"
    again = api.post(f"/api/v1/process-instances/{iid}/cancel", "safety1", json={"reason": "again"})
    assert again.status_code == 409


def test_a_loop_of_400_passes_fails_loudly_instead_of_completing(api, platform, monkeypatch):
    assert api.deploy({"loop.bpmn": loop_process()}).status_code == 201
    # The depth limit is under test, not the step's time budget: 400 passes take ~2 s on a quiet
    # machine and more than the default 5 s on a loaded one, where the budget would end the step first.
    monkeypatch.setattr(platform.runner, "step_budget_seconds", 120.0)
    r = _start(api, key="looper", variables={"limit": 400})
    assert r.status_code == 201
    inst = api.get(f"/api/v1/process-instances/{r.json['id']}", "safety1").json
    assert inst["status"] == "error", inst["status"]
    assert "depth" in inst["error"] and "1000" in inst["error"]
    assert inst["incidents"][0]["kind"] == "depth_limit"
    assert inst["variables"]["n"] < 400  # it never silently claimed to finish
    # A short loop of the same diagram completes normally.
    ok = _start(api, key="looper", variables={"limit": 20}).json
    assert ok["status"] == "completed"


def test_script_error_becomes_an_incident_and_keeps_the_submission(api, form_file):
    b = ProcessBuilder("calc", "计算")
    b.lane("production")
    b.start().user("enter", "录入", lane="production", form="calc.json").script(
        "div", "除法", "ratio = total / count").user("see", "查看", lane="production").end()
    b.chain("start", "enter", "div", "see", "end")
    # A completion writes only what its form declares (tests/test_submission_integrity.py).
    api.deploy({"calc.bpmn": b.to_xml(),
                "calc.json": form_file({"total": {"type": "number"}, "count": {"type": "number"}})})
    inst = _start(api, key="calc").json
    task = inst["active_tasks"][0]["id"]
    r = api.post(f"/api/v1/tasks/{task}/complete", "prod1", json={"data": {"total": 10, "count": 0}})
    assert r.status_code == 200 and r.json["instance"]["status"] == "error"
    got = api.get(f"/api/v1/process-instances/{inst['id']}", "safety1").json
    assert got["variables"]["total"] == 10  # the submission is kept
    inc = api.get(f"/api/v1/incidents?instance_id={inst['id']}", "admin").json["items"][0]
    assert inc["kind"] == "script_error" and "division" in inc["message"]
    # Correcting variables overrules process data: a designer may not, nor may anyone touch the scope.
    r = api.post(f"/api/v1/incidents/{inc['id']}/retry", "designer1", json={"variables": {"count": 4}})
    assert r.status_code == 403 and r.json["reason"] == "override_not_entitled"
    r = api.post(f"/api/v1/incidents/{inc['id']}/retry", "admin", json={"variables": {"count": 4,
                                                                                    "department": "storage"}})
    assert r.status_code == 422 and [e["field"] for e in r.json["errors"]] == ["variables.department"]
    assert api.get(f"/api/v1/process-instances/{inst['id']}", "safety1").json["status"] == "error"
    r = api.post(f"/api/v1/incidents/{inc['id']}/retry", "admin", json={"variables": {"count": 4}})
    assert r.status_code == 200 and r.json["instance"]["status"] == "running"
    got = api.get(f"/api/v1/process-instances/{inst['id']}", "safety1").json
    assert got["variables"]["ratio"] == 2.5 and [t["bpmn_id"] for t in got["active_tasks"]] == ["see"]
    retry = [e for e in got["timeline"] if e["kind"] == "incident_retry"][0]
    assert retry["data"]["overrides"] == [{"field": "count", "old": 0, "new": 4}]
