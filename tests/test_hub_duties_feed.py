"""Responsibility lists (me/duties, versions, lanes) and the feed of process data into the hub."""
from tests.hub_support import hub_platform  # noqa: F401
from tests.processes import permit_files
from tests.test_library_hazard import REPORT, classify, reported  # noqa: F401
from tests.test_library_support import plant  # noqa: F401


def test_my_duties_list_my_open_tasks_per_duty_and_lanes_link_duties(api, hub_platform):
    assert api.deploy(permit_files()).status_code == 201
    iid = api.post("/api/v1/process-instances", "prod1", json={"process_key": "permit", "variables": {}}).json["id"]
    mine = api.get("/api/v1/me/duties", "prod1").json
    [lst] = mine["lists"]
    assert (lst["role"], lst["version"]) == ("production", 1)
    duties = {d["code"]: d for d in lst["duties"]}
    assert [t["instance_id"] for t in duties["follow"]["open_tasks"]] == [iid]      # 申请 fulfils 落实安全要求
    assert duties["self_inspect"]["open_count"] == 0
    assert api.get("/api/v1/me/duties", "prod2").json["lists"][0]["duties"][0]["open_tasks"] == []   # other dept
    lanes = {x["role"]: x for x in api.get("/api/v1/duties/lanes?process_key=permit", "prod1").json["processes"][0]["lanes"]}
    assert [d["code"] for d in lanes["production"]["duties"]] == ["follow"]
    assert [d["code"] for d in lanes["supervision"]["duties"]] == ["accept"]
    assert [d["code"] for d in lanes["team_leader"]["duties"]] == ["onsite"]

    new = {"title": "生产单位责任清单（2026 修订）", "duties": [
        {"code": "apply_permits", "title": "办理作业许可", "tasks": [{"process_key": "permit", "bpmn_id": "apply"}]}]}
    r = api.put("/api/v1/duties/production", "safety1", json=new) if hasattr(api, "put") else \
        api._call("put", "/api/v1/duties/production", "safety1", json=new)
    assert r.status_code == 201 and r.json["version"] == 2
    assert api.get("/api/v1/me/duties", "prod1").json["lists"][0]["duties"][0]["code"] == "apply_permits"
    assert [v["version"] for v in api.get("/api/v1/duties/production/versions", "prod1").json["items"]] == [2, 1]
    assert api.get("/api/v1/duties/production?version=1", "prod1").json["duties"][0]["code"] == "follow"
    bad = api._call("put", "/api/v1/duties/production", "safety1", json={"title": "", "duties": [{"code": "x"}]})
    assert bad.status_code == 422 and {e["field"] for e in bad.json["errors"]} == {"title", "duties.0.title"}
    assert api._call("put", "/api/v1/duties/production", "prod1", json=new).status_code == 403


def test_hazard_process_feeds_hazards_and_escalations_into_the_hub(plant, hub_platform):
    on_time = reported(plant)
    plant.complete("safety1", on_time, "classify", classify())
    plant.complete("prod1", on_time, "rectify", {"measures_taken": "更换密封", "completed_at": "2026-03-02T15:00:00+00:00"})
    plant.complete("safety2", on_time, "verify", {"accepted": True, "effect_assessment": "无泄漏"})
    late = reported(plant)
    plant.complete("safety1", late, "classify", classify(deadline="2026-03-03T09:00:00+00:00"))
    plant.later(hours=24, minutes=1)
    plant.later(hours=24, minutes=1)                     # level 1 then level 2 escalation
    r = plant.api.post("/api/v1/hub/sync-processes", "safety1")
    assert r.status_code == 200, r.json
    hz = {x["ref"]: x for x in plant.api.get("/api/v1/hub/hazard", "safety1").json["items"]}
    done = hz[f"process:{on_time}"]
    assert (done["status"], done["department"], done["area"], done["reported_by"], done["rectified_by"]) == \
        ("closed", "workshop-1", "unit-1", "worker1", "prod1")
    assert done["closed_at"] <= done["deadline"]
    assert done["equipment_code"] == "P-101"  # the reporter's equipment code links the hazard to equipment
    assert hz[f"process:{late}"]["status"] == "assigned" and hz[f"process:{late}"]["closed_at"] is None
    esc = plant.api.get("/api/v1/hub/escalation?page_size=50", "safety1").json["items"]
    assert sorted(e["level"] for e in esc) == [1, 2]
    assert {e["department"] for e in esc} == {"workshop-1"}
    again = plant.api.post("/api/v1/hub/sync-processes", "safety1").json
    assert again["hazard"]["inserted"] == 0 and again["escalation"]["inserted"] == 0      # idempotent
