"""停工复工: one-click stop with scope, stop_work to every active permit in scope, notification,
rectification, written restart application, on-site acceptance, restart releases the permits."""
from tests.test_library_confined_space import inside
from tests.test_library_hot_work import gas, working
from tests.test_library_support import plant  # noqa: F401

STOP = {"area": "unit-1", "department": "workshop-1", "stop_scope": "area", "equipment_id": None,
        "stop_reason": "合成装置区可燃气体泄漏"}
RECTIFIED = {"measures_taken": "更换泄漏法兰垫片", "completed_at": "2026-03-02T12:00:00+00:00",
             "hazards_eliminated": True, "jha_redone": True}
APPLICATION = {"rectification_summary": "泄漏点已处理并试压合格", "assessment": "具备复工条件",
               "conditions_restored": True, "applicant": "王主任"}


def run_jobs(platform):
    """What the worker does after a commit: thrown messages and service tasks (notify/people)."""
    while platform.dispatcher.run_once():
        pass


def test_stop_reaches_permits_in_scope_and_restart_releases_them(plant, platform):
    hot = working(plant, "unit-1")
    confined = inside(plant, coordinator="赵协调")             # also in unit-1, beside the hot work (4.7)
    elsewhere = working(plant, "warehouse")
    iid = plant.start("safety1", "stop_restart", STOP)
    run_jobs(platform)
    # Every permit of the area is suspended at once; the other area keeps working.
    assert plant.variables(hot)["permit_status"] == "suspended"
    assert plant.variables(hot)["stop_work"]["stop_reason"] == "合成装置区可燃气体泄漏"
    assert plant.sees("worker1", hot) == []
    assert plant.sees("leader1", confined) == ["撤离人员并处置"]
    assert plant.sees("worker1", elsewhere) == ["动火作业"]
    assert "notify" not in plant.active(iid)                  # the departments were notified
    timeline = [e for e in plant.instance(iid)["timeline"] if e["kind"] == "service_task"]
    assert timeline and timeline[0]["data"]["operator"] == "notify/people"

    assert plant.sees("prod1", iid) == ["停工整改"]
    plant.complete("prod1", iid, "stop_rectify", RECTIFIED)
    plant.complete("prod1", iid, "restart_application", APPLICATION)
    assert plant.sees("prod1", iid) == []                     # acceptance is supervision's, on site
    assert plant.sees("safety2", iid) == ["复工现场验收"]
    plant.complete("safety2", iid, "restart_acceptance", {"accepted": False, "on_site": True,
                                                          "findings": "法兰未紧固到位"})
    assert plant.sees("prod1", iid) == ["停工整改"]            # back to rectification
    assert plant.variables(hot)["permit_status"] == "suspended"
    plant.complete("prod1", iid, "stop_rectify", RECTIFIED)
    plant.complete("prod1", iid, "restart_application", APPLICATION)
    plant.complete("safety2", iid, "restart_acceptance", {"accepted": True, "on_site": True, "findings": "同意复工"})
    run_jobs(platform)
    assert plant.status(iid) == "completed"
    assert plant.variables(iid)["work_status"] == "restarted"
    # Restart releases the suspended permit, which still needs re-analysis and supervision approval.
    assert plant.sees("leader1", hot) == ["动火分析"]
    plant.complete("leader1", hot, "hw_gas_analysis", gas(plant))
    plant.complete("safety1", hot, "hw_resume_approval", {"decision": "approve", "on_site": True})
    assert plant.sees("worker1", hot) == ["动火作业"]


def test_equipment_scope_stops_only_permits_on_that_equipment(plant, platform):
    on_pump = working(plant, "unit-1", equipment_id="P-101")
    other = working(plant, "unit-1", coordinator="赵协调", equipment_id="P-102")   # cross-work in unit-1
    plant.start("prod1", "stop_restart", {**STOP, "stop_scope": "equipment", "equipment_id": "P-101",
                                          "stop_reason": "P-101 振动超标"})
    run_jobs(platform)
    assert plant.variables(on_pump)["permit_status"] == "suspended"
    assert plant.variables(other)["permit_status"] == "active"


def test_a_stop_needs_a_valid_scope(plant):
    r = plant.api.post("/api/v1/process-instances", "safety1",
                       json={"process_key": "stop_restart", "variables": {**STOP, "stop_scope": "plant"}})
    assert r.status_code == 201
    assert r.json["status"] == "error"                       # an incident, visible to the operator
    assert "stop_scope" in plant.instance(r.json["id"])["incidents"][0]["message"]
