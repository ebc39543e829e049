"""吊装作业票 (lifting_permit): grade by load (一级/二级/三级, no permit below 10 t but a confirmed risk
analysis), the lifting plan from 40 t or for complex loads, the crane's rated capacity, the approver
chain per grade with segregation of duties, the SIMOPS review, the site check (plan measures, wind),
validity from the issue, suspension by wind_alarm and stop_work, expiry, acceptance, the register."""
import pytest

from tests.test_library_height import working as height_working
from tests.test_library_support import plant  # noqa: F401

APPLICATION = {
    "work_content": "E-105 换热器管束吊出", "location_detail": "E-105 北侧检修场地", "load_name": "E-105 管束",
    "load_t": 25.0, "complex_load": False, "crane": "QY50 汽车吊 #3", "crane_capacity_t": 32.0,
    "commander": "王指挥", "operator": "刘司机", "riggers": ["赵司索"], "monitor": "李监护", "outdoors": True,
    "planned_start": "2026-03-02T09:30:00+00:00", "hazards": ["起重伤害", "物体打击"],
    "control_measures": ["设警戒区", "专人指挥"], "briefing_done": True}
APPROVE = {"decision": "approve", "on_site": True}
SITE_OK = {"permit_checked": True, "crane_inspected": True, "rigging_checked": True, "crew_certified": True,
           "area_cordoned": True, "ground_checked": True, "plan_measures": False, "monitor_present": True,
           "wind_force_now": 3}
DONE = {"load_secured": True, "site_cleared": True}


def applied(plant, area="warehouse", **changes):
    iid = plant.start("worker1", "lifting_permit", {"area": area})
    assert plant.sees("worker1", iid) == ["吊装作业申请"]
    plant.complete("worker1", iid, "lf_apply", {**APPLICATION, **changes})
    return iid


def approved(plant, area="warehouse", **changes):
    iid = applied(plant, area, **changes)
    plant.complete("prod1", iid, "lf_unit_review", APPROVE)
    plant.complete("safety1", iid, "lf_dept_approval", APPROVE)
    if plant.variables(iid)["final_approver"] == "plant_leader":
        plant.complete("boss1", iid, "lf_leader_approval", APPROVE)
    assert plant.variables(iid)["permit_status"] == "issued"
    return iid


def working(plant, area="warehouse", **changes):
    iid = approved(plant, area, **changes)
    plant.complete("leader1", iid, "lf_site_check", {**SITE_OK, "plan_measures": True})
    assert plant.sees("worker1", iid) == ["吊装作业"]
    return iid


@pytest.mark.parametrize("load, complex_load, grade, plan, final", [
    (9.9, True, "none", False, "production"), (10, False, "third", False, "supervision"),
    (10, True, "third", True, "supervision"), (39.9, False, "third", False, "supervision"),
    (40, False, "second", True, "supervision"), (100, False, "second", True, "supervision"),
    (100.5, False, "first", True, "plant_leader"),
])
def test_grade_and_plan_by_load(plant, load, complex_load, grade, plan, final):
    v = plant.variables(applied(plant, load_t=load, complex_load=complex_load, crane_capacity_t=500,
                                lifting_plan_ref="DZFA-2026-01"))
    assert (v["grade"], v["plan_required"], v["final_approver"]) == (grade, plan, final)
    assert v["permit_required"] == (grade != "none")


def test_below_ten_tonnes_no_permit_but_production_confirms_the_risk_analysis(plant, platform):
    platform.users.add_user("dual1", "anjian-demo", ["worker", "production"], "workshop-1", "兼岗", replace=True)
    iid = plant.start("dual1", "lifting_permit", {"area": "warehouse"})
    plant.complete("dual1", iid, "lf_apply", {**APPLICATION, "load_t": 3})
    r = plant.try_complete("dual1", iid, "lf_risk_review", {"risk_analysis_confirmed": True})
    assert r.status_code == 403 and "segregation" in r.json["detail"]
    assert plant.sees("prod1", iid) == ["作业危害分析确认（免办作业票）"]
    plant.complete("prod1", iid, "lf_risk_review", {"risk_analysis_confirmed": True, "on_site": True})
    v = plant.variables(iid)
    assert (plant.status(iid), v["permit_required"], v["permit_status"]) == ("completed", False, "closed")
    assert v["permit_expires_at"] == ""                                  # never issued


def test_a_plan_is_needed_from_forty_tonnes_and_no_load_above_the_crane_capacity(plant):
    iid = applied(plant, load_t=45, crane_capacity_t=80)
    assert plant.sees("worker1", iid) == ["吊装作业申请"]                  # back: no plan number
    assert "吊装方案" in plant.form("worker1", iid, "lf_apply")["data"]["lifting_plan_error"]
    plant.complete("worker1", iid, "lf_apply", {**APPLICATION, "load_t": 45, "crane_capacity_t": 40,
                                                "lifting_plan_ref": "DZFA-2026-07"})
    assert plant.sees("worker1", iid) == ["吊装作业申请"]                  # back: above the rated capacity
    assert "超过起重机械额定起重量" in plant.variables(iid)["lifting_plan_error"]
    plant.complete("worker1", iid, "lf_apply", {**APPLICATION, "load_t": 45, "crane_capacity_t": 80,
                                                "lifting_plan_ref": "DZFA-2026-07"})
    assert plant.variables(iid)["lifting_plan_error"] == ""
    assert plant.sees("prod1", iid) == ["作业单位审批"]


def test_grade_three_chain_unit_then_department_with_segregation_and_acceptance(plant, platform):
    platform.users.add_user("dual1", "anjian-demo", ["production", "supervision"], "workshop-1", "兼岗",
                            replace=True)
    iid = applied(plant)
    plant.complete("dual1", iid, "lf_unit_review", APPROVE)
    r = plant.try_complete("dual1", iid, "lf_dept_approval", APPROVE)
    assert r.status_code == 403 and "segregation" in r.json["detail"]
    plant.complete("safety1", iid, "lf_dept_approval", APPROVE)
    assert plant.sees("boss1", iid) == []
    v = plant.variables(iid)
    assert (v["permit_status"], v["permit_expires_at"][:16]) == ("issued", "2026-03-03T09:00")   # 24 h from the issue
    plant.complete("leader1", iid, "lf_site_check", {**SITE_OK, "wind_force_now": 6})      # at the limit
    assert plant.sees("worker1", iid) == []
    assert "6 级" in plant.variables(iid)["start_blocked_reason"]
    plant.complete("leader1", iid, "lf_site_check", SITE_OK)               # no plan needed under 40 t
    assert plant.sees("worker1", iid) == ["吊装作业"]
    plant.complete("worker1", iid, "lf_work", {"action": "complete"})
    plant.complete("prod1", iid, "lf_acceptance", DONE)
    assert (plant.status(iid), plant.variables(iid)["permit_status"]) == ("completed", "closed")


def test_grade_one_needs_the_plant_leader_and_the_plan_measures_on_site(plant):
    iid = applied(plant, load_t=120, crane_capacity_t=150, lifting_plan_ref="DZFA-2026-09")
    plant.complete("prod1", iid, "lf_unit_review", APPROVE)
    plant.complete("safety1", iid, "lf_dept_approval", APPROVE)
    assert plant.sees("boss1", iid) == ["主管领导审批"]
    plant.complete("boss1", iid, "lf_leader_approval", {"decision": "send_back", "comment": "补充试吊"})
    assert plant.sees("worker1", iid) == ["吊装作业申请"]
    plant.complete("worker1", iid, "lf_apply", {**APPLICATION, "load_t": 120, "crane_capacity_t": 150,
                                                "lifting_plan_ref": "DZFA-2026-09"})
    plant.complete("prod1", iid, "lf_unit_review", APPROVE)
    plant.complete("safety1", iid, "lf_dept_approval", APPROVE)
    plant.complete("boss1", iid, "lf_leader_approval", APPROVE)
    plant.complete("leader1", iid, "lf_site_check", SITE_OK)              # plan measures not confirmed
    assert plant.sees("worker1", iid) == []
    assert plant.variables(iid)["start_blocked_reason"] == "吊装方案措施未落实"
    plant.complete("leader1", iid, "lf_site_check", {**SITE_OK, "plan_measures": True})
    assert plant.sees("worker1", iid) == ["吊装作业"]


def test_rejected_by_the_department_or_the_leader(plant):
    iid = applied(plant)
    plant.complete("prod1", iid, "lf_unit_review", {"decision": "send_back", "comment": "补充司索人员"})
    assert plant.sees("worker1", iid) == ["吊装作业申请"]
    plant.complete("worker1", iid, "lf_apply", APPLICATION)
    plant.complete("prod1", iid, "lf_unit_review", APPROVE)
    plant.complete("safety1", iid, "lf_dept_approval", {"decision": "send_back"})
    assert plant.sees("worker1", iid) == ["吊装作业申请"]
    plant.complete("worker1", iid, "lf_apply", APPLICATION)
    plant.complete("prod1", iid, "lf_unit_review", APPROVE)
    plant.complete("safety1", iid, "lf_dept_approval", {"decision": "reject"})
    assert plant.variables(iid)["permit_status"] == "rejected"
    iid = applied(plant, load_t=120, crane_capacity_t=150, lifting_plan_ref="DZFA-2026-09")
    plant.complete("prod1", iid, "lf_unit_review", APPROVE)
    plant.complete("safety1", iid, "lf_dept_approval", APPROVE)
    plant.complete("boss1", iid, "lf_leader_approval", {"decision": "reject"})
    assert (plant.status(iid), plant.variables(iid)["permit_status"]) == ("completed", "rejected")


def test_a_wind_alarm_suspends_the_lift_until_the_site_check_passes_again(plant):
    iid = working(plant)
    assert plant.message("emerg1", "wind_alarm", {"area": "warehouse"}, {"wind_force": 7}).status_code == 200
    v = plant.variables(iid)
    assert (v["permit_status"], v["suspended_by"]) == ("suspended", "wind_alarm")
    assert plant.sees("worker1", iid) == []
    plant.complete("leader1", iid, "lf_site_check", SITE_OK)
    assert plant.variables(iid)["permit_status"] == "active"


def test_stop_work_while_waiting_for_the_site_check_holds_it_until_the_restart(plant):
    iid = approved(plant, equipment_id="E-105")
    assert plant.message("safety1", "stop_work", {"area": "warehouse", "equipment_id": "E-105"}).status_code == 200
    v = plant.variables(iid)
    assert (v["permit_status"], v["suspended_by"]) == ("suspended", "stop_work")
    assert plant.sees("leader1", iid) == []
    assert plant.message("safety1", "restart", {"area": "warehouse", "equipment_id": "E-105"}).status_code == 200
    plant.complete("leader1", iid, "lf_site_check", SITE_OK)
    assert plant.sees("worker1", iid) == ["吊装作业"]


def test_it_expires_a_day_after_the_issue(plant):
    iid = approved(plant)
    plant.later(hours=23)
    plant.complete("leader1", iid, "lf_site_check", SITE_OK)
    plant.later(hours=1, minutes=1)
    assert plant.sees("leader1", iid) == ["收回作业票"]
    plant.complete("leader1", iid, "lf_withdraw", {"site_safe": True})
    assert (plant.status(iid), plant.variables(iid)["permit_status"]) == ("completed", "expired")
    iid = approved(plant)
    plant.later(hours=25)
    plant.complete("leader1", iid, "lf_site_check", SITE_OK)
    assert plant.sees("leader1", iid) == ["收回作业票"]


def test_work_at_height_in_the_area_needs_a_coordinator(plant):
    height = height_working(plant)
    iid = applied(plant)
    plant.complete("prod1", iid, "lf_unit_review", APPROVE)
    assert plant.sees("prod1", iid) == ["作业单位审批"]
    conflicts = plant.variables(iid)["simops_conflicts"]
    assert [(c["process_key"], c["instance_id"]) for c in conflicts] == [("height_permit", height)]
    plant.complete("prod1", iid, "lf_unit_review", {**APPROVE, "coordinator": "赵协调"})
    assert plant.sees("safety1", iid) == ["专业管理部门审批"]


def test_the_register_lists_it(plant):
    iid = working(plant, load_t=50, crane_capacity_t=80, lifting_plan_ref="DZFA-2026-02")
    row = [p for p in plant.api.get("/api/v1/permits?page_size=500", "safety1").json["items"] if p["id"] == iid][0]
    assert (row["type"], row["grade"], row["status"], row["location"]) == (
        "lifting", "second", "working", "E-105 北侧检修场地")


def test_a_monitor_who_leaves_pauses_the_lift_until_the_site_is_confirmed_again(plant):
    """4.10: the crew pauses the lift when the monitor has to leave; the permit is paused and the shift leader
    confirms the site again (the monitor present among it) before the lift goes on."""
    iid = working(plant)
    r = plant.try_complete("worker1", iid, "lf_work", {"action": "pause", "pause_reason": "lunch"})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "pause_reason"      # not a reason of the list
    plant.complete("worker1", iid, "lf_work", {"action": "pause", "pause_reason": "monitor_left"})
    assert plant.variables(iid)["permit_status"] == "paused"
    assert plant.sees("worker1", iid) == [] and plant.sees("leader1", iid) == ["作业现场确认（机具、警戒、风力）"]
    plant.complete("leader1", iid, "lf_site_check", {**SITE_OK, "plan_measures": True})
    plant.complete("worker1", iid, "lf_work", {"action": "complete"})
    assert plant.active(iid) == ["lf_acceptance"]
