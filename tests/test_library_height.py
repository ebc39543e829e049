"""高处作业票 (height_permit): grade Ⅰ–Ⅳ by height with the objective-hazard upgrade, the approver chain
per grade with segregation of duties, the SIMOPS review, the site check of fall protection and wind,
validity of 7 days from the issue, suspension by wind_alarm and stop_work, expiry, acceptance."""
import pytest

from tests.test_library_support import plant  # noqa: F401

APPLICATION = {
    "work_content": "T-301 罐顶呼吸阀检修", "location_detail": "T-301 罐顶", "work_height_m": 4.0,
    "objective_hazard": False, "access_means": "scaffold", "outdoors": True,
    "planned_start": "2026-03-02T09:30:00+00:00", "workers": ["张工"], "monitor": "李监护",
    "hazards": ["高处坠落", "物体打击"], "control_measures": ["全身式安全带", "下方警戒"], "briefing_done": True}
APPROVE = {"decision": "approve", "on_site": True}
SITE_OK = {"permit_checked": True, "harness_anchored": True, "platform_accepted": True, "edge_protection": True,
           "area_below_cordoned": True, "tools_secured": True, "live_parts_clear": True, "monitor_present": True,
           "wind_force_now": 3}
DONE = {"materials_removed": True, "facilities_restored": True}


def applied(plant, area="warehouse", **changes):
    iid = plant.start("worker1", "height_permit", {"area": area})
    assert plant.sees("worker1", iid) == ["高处作业申请"]
    plant.complete("worker1", iid, "ht_apply", {**APPLICATION, **changes})
    return iid


def approved(plant, area="warehouse", coordinator=None, **changes):
    iid = applied(plant, area, **changes)
    review = {**APPROVE, "coordinator": coordinator} if coordinator else APPROVE
    plant.complete("prod1", iid, "ht_unit_review", review)
    final = plant.variables(iid)["final_approver"]
    if final != "production":
        plant.complete("safety1", iid, "ht_dept_approval", APPROVE)
    if final == "plant_leader":
        plant.complete("boss1", iid, "ht_leader_approval", APPROVE)
    assert plant.variables(iid)["permit_status"] == "issued"
    return iid


def working(plant, area="warehouse", **changes):
    iid = approved(plant, area, **changes)
    plant.complete("leader1", iid, "ht_site_check", SITE_OK)
    assert plant.sees("worker1", iid) == ["高处作业"]
    return iid


@pytest.mark.parametrize("height, hazard, grade, final", [
    (2, False, "I", "production"), (5, False, "I", "production"), (5, True, "II", "supervision"),
    (5.5, False, "II", "supervision"), (15, False, "II", "supervision"), (15, True, "III", "supervision"),
    (16, False, "III", "supervision"), (30, False, "III", "supervision"), (30, True, "IV", "plant_leader"),
    (31, False, "IV", "plant_leader"), (31, True, "IV", "plant_leader"),
])
def test_grade_by_height_with_the_objective_hazard_upgrade(plant, height, hazard, grade, final):
    v = plant.variables(applied(plant, work_height_m=height, objective_hazard=hazard))
    assert (v["grade"], v["final_approver"], v["validity_hours"]) == (grade, final, 168)


def test_grade_one_is_issued_by_the_unit_and_closed_after_acceptance(plant):
    iid = applied(plant)
    assert plant.sees("prod1", iid) == ["作业单位审批"]
    plant.complete("prod1", iid, "ht_unit_review", APPROVE)
    assert plant.sees("safety1", iid) == []
    assert plant.sees("leader1", iid) == ["作业现场确认（防护措施、风力）"]
    r = plant.try_complete("leader1", iid, "ht_site_check", {**SITE_OK, "harness_anchored": False})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "harness_anchored"
    plant.complete("leader1", iid, "ht_site_check", {**SITE_OK, "wind_force_now": 5})   # at the limit: no start
    assert plant.sees("worker1", iid) == []
    assert "5 级" in plant.variables(iid)["start_blocked_reason"]
    plant.complete("leader1", iid, "ht_site_check", SITE_OK)
    assert plant.variables(iid)["permit_status"] == "active"
    assert plant.variables(iid)["permit_expires_at"].startswith("2026-03-09T09:00")    # 7 days from the issue
    plant.complete("worker1", iid, "ht_work", {"action": "complete"})
    plant.complete("prod1", iid, "ht_acceptance", DONE)
    assert (plant.status(iid), plant.variables(iid)["permit_status"]) == ("completed", "closed")


def test_grade_two_goes_to_the_specialist_department_only(plant):
    iid = applied(plant, work_height_m=10)
    plant.complete("prod1", iid, "ht_unit_review", APPROVE)
    assert plant.sees("safety1", iid) == ["专业管理部门审批"]
    plant.complete("safety1", iid, "ht_dept_approval", APPROVE)
    assert plant.sees("boss1", iid) == []
    assert plant.variables(iid)["permit_status"] == "issued"


def test_grade_four_chain_needs_three_different_people(plant, platform):
    platform.users.add_user("dual1", "anjian-demo", ["production", "supervision"], "workshop-1", "兼岗",
                            replace=True)
    iid = applied(plant, work_height_m=35)
    plant.complete("dual1", iid, "ht_unit_review", APPROVE)
    r = plant.try_complete("dual1", iid, "ht_dept_approval", APPROVE)
    assert r.status_code == 403 and "segregation" in r.json["detail"]    # the unit's reviewer may not also approve
    plant.complete("safety1", iid, "ht_dept_approval", APPROVE)
    assert plant.sees("leader1", iid) == []
    assert plant.sees("boss1", iid) == ["主管领导审批"]
    r = plant.try_complete("boss1", iid, "ht_leader_approval", {"decision": "approve", "on_site": False})
    assert r.status_code == 422                                          # 4.11
    plant.complete("boss1", iid, "ht_leader_approval", APPROVE)
    assert plant.variables(iid)["permit_status"] == "issued"


def test_send_back_at_the_department_and_reject_at_the_leader(plant):
    iid = applied(plant, work_height_m=35)
    plant.complete("prod1", iid, "ht_unit_review", APPROVE)
    plant.complete("safety1", iid, "ht_dept_approval", {"decision": "send_back", "comment": "补充生命线"})
    assert plant.sees("worker1", iid) == ["高处作业申请"]
    plant.complete("worker1", iid, "ht_apply", {**APPLICATION, "work_height_m": 35})
    plant.complete("prod1", iid, "ht_unit_review", APPROVE)
    plant.complete("safety1", iid, "ht_dept_approval", {"decision": "reject"})
    assert (plant.status(iid), plant.variables(iid)["permit_status"]) == ("completed", "rejected")
    iid = applied(plant, work_height_m=35)
    plant.complete("prod1", iid, "ht_unit_review", APPROVE)
    plant.complete("safety1", iid, "ht_dept_approval", APPROVE)
    plant.complete("boss1", iid, "ht_leader_approval", {"decision": "send_back"})
    assert plant.sees("worker1", iid) == ["高处作业申请"]
    plant.complete("worker1", iid, "ht_apply", {**APPLICATION, "work_height_m": 35})
    plant.complete("prod1", iid, "ht_unit_review", APPROVE)
    plant.complete("safety1", iid, "ht_dept_approval", APPROVE)
    plant.complete("boss1", iid, "ht_leader_approval", {"decision": "reject"})
    assert plant.variables(iid)["permit_status"] == "rejected"
    iid = applied(plant)
    plant.complete("prod1", iid, "ht_unit_review", {"decision": "send_back", "comment": "补充作业方式"})
    assert plant.sees("worker1", iid) == ["高处作业申请"]
    plant.complete("worker1", iid, "ht_apply", APPLICATION)
    plant.complete("prod1", iid, "ht_unit_review", {"decision": "reject"})
    assert plant.variables(iid)["permit_status"] == "rejected"


def test_a_wind_alarm_suspends_it_until_the_site_check_passes_again(plant):
    iid = working(plant)
    other = working(plant, "unit-1")
    assert plant.message("emerg1", "wind_alarm", {"area": "warehouse"}, {"wind_force": 6}).status_code == 200
    v = plant.variables(iid)
    assert (v["permit_status"], v["suspended_by"]) == ("suspended", "wind_alarm")
    assert plant.variables(other)["permit_status"] == "active"          # another area
    assert plant.sees("worker1", iid) == []
    # Another alarm while waiting for the site check: still suspended, still waiting for it.
    assert plant.message("emerg1", "wind_alarm", {"area": "warehouse"}).status_code == 200
    plant.complete("leader1", iid, "ht_site_check", {**SITE_OK, "wind_force_now": 6})
    assert plant.sees("worker1", iid) == []
    plant.complete("leader1", iid, "ht_site_check", SITE_OK)
    assert plant.variables(iid)["permit_status"] == "active"
    assert plant.sees("worker1", iid) == ["高处作业"]


def test_stop_work_suspends_it_until_the_restart(plant):
    iid = approved(plant)
    assert plant.message("safety1", "stop_work", {"area": "warehouse"}).status_code == 200   # before the start
    assert plant.variables(iid)["permit_status"] == "suspended"
    assert plant.sees("leader1", iid) == []
    assert plant.message("safety1", "restart", {"area": "warehouse"}).status_code == 200
    plant.complete("leader1", iid, "ht_site_check", SITE_OK)
    assert plant.message("safety1", "stop_work", {"area": "warehouse"}).status_code == 200   # during the work
    v = plant.variables(iid)
    assert (v["permit_status"], v["suspended_by"]) == ("suspended", "stop_work")
    assert plant.status(iid) == "waiting"
    assert plant.message("safety1", "restart", {"area": "warehouse"}).status_code == 200
    plant.complete("leader1", iid, "ht_site_check", SITE_OK)
    assert plant.sees("worker1", iid) == ["高处作业"]


def test_it_expires_seven_days_after_the_issue_whenever_the_work_started(plant):
    iid = approved(plant)
    plant.later(days=6)
    plant.complete("leader1", iid, "ht_site_check", SITE_OK)
    assert plant.variables(iid)["permit_expires_at"].startswith("2026-03-09T09:00")
    plant.later(days=1, minutes=1)
    assert plant.sees("worker1", iid) == []
    assert plant.sees("leader1", iid) == ["收回作业票"]
    plant.complete("leader1", iid, "ht_withdraw", {"site_safe": True})
    assert (plant.status(iid), plant.variables(iid)["permit_status"]) == ("completed", "expired")


def test_a_permit_that_ran_out_before_its_site_check_cannot_start(plant):
    iid = approved(plant)
    plant.later(days=7, minutes=1)
    plant.complete("leader1", iid, "ht_site_check", SITE_OK)
    assert plant.sees("leader1", iid) == ["收回作业票"]
    assert plant.variables(iid)["permit_status"] == "expired"


def test_other_live_work_at_height_in_the_area_needs_a_coordinator(plant):
    first = working(plant)
    iid = applied(plant)
    plant.complete("prod1", iid, "ht_unit_review", APPROVE)
    assert plant.sees("prod1", iid) == ["作业单位审批"]
    assert [c["instance_id"] for c in plant.variables(iid)["simops_conflicts"]] == [first]
    plant.complete("prod1", iid, "ht_unit_review", {**APPROVE, "coordinator": "赵协调"})
    assert plant.variables(iid)["permit_status"] == "issued"


def test_the_register_lists_it_with_its_grade(plant):
    iid = working(plant, work_height_m=20)
    r = plant.api.get("/api/v1/permits?page_size=500", "safety1")
    row = [p for p in r.json["items"] if p["id"] == iid][0]
    assert (row["type"], row["grade"], row["grade_name"], row["status"], row["location"]) == (
        "height", "III", "Ⅲ级", "working", "T-301 罐顶")
    assert row["validity_seconds_left"] == 7 * 24 * 3600


def test_a_job_at_height_and_lifting_of_one_work_plan_links_both_permits(plant):
    from tests.test_library_lifting import APPLICATION as LF_APPLICATION
    from tests.test_library_work_plan import submitted

    plan = submitted(plant, "warehouse", plan_no="JH-0302-07", area_class="general",
                     special_operations=["height", "lifting"])
    assert plant.variables(plan)["special_ops_missing"] == ["height", "lifting"]
    iid = applied(plant, work_plan_ref="JH-0302-07")
    plant.jobs()
    assert plant.variables(iid)["work_plan_linked"] is True
    assert plant.variables(plan)["special_ops_missing"] == ["lifting"]
    # Sent back and applied for again: the plan number is kept and the plan still has one link.
    plant.complete("prod1", iid, "ht_unit_review", {"decision": "send_back"})
    assert plant.form("worker1", iid, "ht_apply")["data"]["work_plan_ref"] == "JH-0302-07"
    plant.complete("worker1", iid, "ht_apply", {**APPLICATION, "work_plan_ref": "JH-0302-07"})
    plant.jobs()
    lift = plant.start("worker1", "lifting_permit", {"area": "warehouse"})
    plant.complete("worker1", lift, "lf_apply", {**LF_APPLICATION, "work_plan_ref": "JH-0302-07"})
    plant.jobs()
    v = plant.variables(plan)
    assert (v["special_ops_missing"], v["permits_complete"]) == ([], True)
    assert [(l["operation_kind"], l["instance_id"]) for l in v["permit_links"]] == [("height", iid), ("lifting", lift)]
    # A number no running plan has goes back to the applicant.
    other = plant.start("worker1", "blinding_permit", {"area": "warehouse"})
    from tests.test_library_blinding import APPLICATION as BL_APPLICATION
    plant.complete("worker1", other, "bl_apply", {**BL_APPLICATION, "work_plan_ref": "JH-NONE"})
    assert plant.sees("worker1", other) == ["盲板抽堵作业申请"]
    assert "JH-NONE" in plant.form("worker1", other, "bl_apply")["data"]["work_plan_ref_error"]


def test_a_monitor_who_leaves_pauses_the_work_until_the_site_is_confirmed_again(plant):
    """4.10: the crew pauses the work when the monitor has to leave; the permit is paused, nobody works under
    it, and the shift leader's site check (the monitor present, the wind below the stop force) comes first."""
    iid = working(plant)
    plant.complete("worker1", iid, "ht_work", {"action": "pause", "pause_reason": "monitor_left"})
    assert plant.variables(iid)["permit_status"] == "paused"
    assert plant.sees("worker1", iid) == [] and plant.sees("leader1", iid) == ["作业现场确认（防护措施、风力）"]
    plant.complete("leader1", iid, "ht_site_check", {**SITE_OK, "wind_force_now": 5})   # wind at the stop force
    assert plant.sees("leader1", iid) == ["作业现场确认（防护措施、风力）"]
    plant.complete("leader1", iid, "ht_site_check", SITE_OK)
    plant.complete("worker1", iid, "ht_work", {"action": "complete"})
    assert plant.active(iid) == ["ht_acceptance"]
    assert [p["reason"] for p in plant.variables(iid)["pauses"]] == ["monitor_left"]
