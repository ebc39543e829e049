"""GET /api/v1/me/startable-processes: what the workspace offers a user to start (发起申请)."""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _deploy_library(api):
    files = {p.name: p.read_bytes() for d in ("bpmn", "forms") for p in (ROOT / d).iterdir()
             if p.suffix in (".bpmn", ".dmn", ".json")}
    r = api.deploy(files)
    assert r.status_code in (200, 201), r.json


def test_each_role_is_offered_the_processes_whose_start_lane_it_holds(api):
    _deploy_library(api)
    offered = {u: {p["key"]: p for p in api.get("/api/v1/me/startable-processes", u).json["items"]}
               for u in ("worker1", "prod1", "leader1", "safety1")}
    # The work leader applies for every special-operation permit (more join as their diagrams are added)
    # and reports hazards; nothing else starts in the worker's lane.
    worker = set(offered["worker1"])
    assert worker >= {"hot_work_permit", "confined_space_permit", "hazard_rectification", "temp_power_permit",
                      "excavation_permit", "road_closure_permit"}
    assert {k for k in worker if not k.endswith("_permit")} == {"hazard_rectification"}
    assert "stop_restart" in offered["safety1"] and "hot_work_permit" not in offered["safety1"]
    assert offered["leader1"] == {}
    # Message-started processes are the engine's (an IoT alert starts alert_response).
    assert all("alert_response" not in o for o in offered.values())
    hot = offered["worker1"]["hot_work_permit"]
    assert hot["role"] == "worker" and hot["name"] and hot["start_event"] == "申请动火"
    area = hot["form"]["properties"]["area"]
    assert "warehouse" in [o["const"] for o in area["oneOf"]] and hot["form"]["required"] == ["area"]


def test_starting_what_is_offered_works_and_the_form_validates_the_start(api):
    _deploy_library(api)
    hot = next(p for p in api.get("/api/v1/me/startable-processes", "worker1").json["items"]
               if p["key"] == "hot_work_permit")
    r = api.post("/api/v1/process-instances", "worker1",
                 json={"process_key": hot["key"], "variables": {"area": hot["form"]["properties"]["area"]["oneOf"][0]["const"]}})
    assert r.status_code == 201, r.json
    assert r.json["active_tasks"] and r.json["active_tasks"][0]["candidate_roles"] == ["worker"]
    assert api.get("/api/v1/me/startable-processes").status_code == 401
