"""动火作业票: DMN grade with upgrades, approval chain per grade with SoD, gas analysis, validity,
interruption, suspension by gas_alarm/stop_work messages and completion acceptance."""
from datetime import timedelta

import pytest

from tests.test_library_support import plant  # noqa: F401

APPLICATION = {
    "work_content": "P-101 出口管线焊接", "location_detail": "泵出口法兰", "hot_work_method": "welding",
    "equipment_state": "shutdown_purged", "inside_dike": False, "planned_start": "2026-03-02T09:30:00+00:00",
    "workers": ["张工"], "monitor": "李监护", "monitor_badge": "JH-007", "at_night": False, "on_holiday": False,
    "outdoors": False, "wind_force": 2, "gas_name": "氢气", "gas_lel_pct": 4.0,
    "hazards": ["残存可燃物", "火花飞溅"], "control_measures": ["加盲板隔离", "清理周边可燃物"],
    "isolation_done": True, "briefing_done": True}
APPROVE = {"decision": "approve", "on_site": True}
SITE_OK = {"permit_checked": True, "monitor_present": True, "measures_in_place": True,
           "gas_monitor_online": False, "fire_equipment": "灭火器 2 具"}


def applied(plant, area="warehouse", **changes):
    iid = plant.start("worker1", "hot_work_permit", {"area": area})
    assert plant.sees("worker1", iid) == ["动火作业申请（含危害分析）"]
    plant.complete("worker1", iid, "hw_apply", {**APPLICATION, **changes})
    return iid


def gas(plant, pct=0.1, minutes_ago=5):
    return {"sampled_at": (plant.now() - timedelta(minutes=minutes_ago)).isoformat(),
            "sample_points": ["hot_point"], "combustible_pct": pct, "analyst": "化验员甲"}


def working(plant, area="warehouse", coordinator=None, **changes):
    """A permit approved along its chain, analysed, checked on site and in work.

    ``coordinator``: the SIMOPS coordinator the unit names when other permits are active in the area.
    """
    iid = applied(plant, area, **changes)
    plant.complete("prod1", iid, "hw_unit_review", {**APPROVE, "coordinator": coordinator} if coordinator else APPROVE)
    grade = plant.variables(iid)["grade"]
    if grade != "second":
        plant.complete("safety1", iid, "hw_safety_review", APPROVE)
        if grade == "first":
            plant.complete("safety2", iid, "hw_safety_approval", APPROVE)
        else:
            plant.complete("boss1", iid, "hw_leader_approval", APPROVE)
    plant.complete("leader1", iid, "hw_gas_analysis", gas(plant))
    plant.complete("leader1", iid, "hw_site_check", {**SITE_OK, "gas_monitor_online": grade == "special"})
    assert plant.sees("worker1", iid) == ["动火作业"]
    return iid


@pytest.mark.parametrize("area, changes, grade", [
    ("unit-1", {"equipment_state": "running"}, "special"),                 # running equipment, fire/explosion area
    ("tank-farm-3", {"inside_dike": True}, "special"),                     # inside the dike of a major tank farm
    ("tank-farm-3", {}, "first"),
    ("pipe-rack-a", {}, "first"),
    ("pipe-rack-a", {"at_night": True}, "special"),                        # first upgraded at night
    ("warehouse", {}, "second"),
    ("warehouse", {"on_holiday": True}, "first"),                          # second upgraded on a holiday
    ("warehouse", {"outdoors": True, "wind_force": 5}, "first"),           # wind force 5 outdoors
    ("warehouse", {"outdoors": True, "wind_force": 4}, "second"),
    ("unknown-yard", {}, "first"),                     # an area the classification table lacks: treated strictly
])
def test_grade_is_decided_by_dmn_with_upgrades(plant, platform, area, changes, grade):
    if area == "unknown-yard":  # a start names a known area (engine/start_contract.py); the DMN lacks this one
        platform.users.ensure_area("unknown-yard", "新堆场", "workshop-1", "general")
    v = plant.variables(applied(plant, area, **changes))
    assert v["grade"] == grade
    assert v["validity_hours"] == {"special": 8, "first": 8, "second": 72}[grade]


def test_second_grade_is_approved_by_the_unit_and_closed_after_acceptance(plant):
    iid = applied(plant)
    assert plant.sees("prod1", iid) == ["作业单位审核"]
    assert plant.sees("safety1", iid) == []
    plant.complete("prod1", iid, "hw_unit_review", APPROVE)
    # Second grade: no safety department step; the permit is issued and goes to gas analysis.
    assert plant.sees("leader1", iid) == ["动火分析"]
    assert plant.variables(iid)["permit_status"] == "issued"
    plant.complete("leader1", iid, "hw_gas_analysis", gas(plant, pct=0.4))   # LEL 4 %: pass at ≤ 0.5 %
    plant.complete("leader1", iid, "hw_site_check", SITE_OK)
    v = plant.variables(iid)
    assert v["permit_status"] == "active"
    assert v["permit_expires_at"].startswith("2026-03-05T09:00")          # 72 h
    plant.complete("worker1", iid, "hw_work", {"action": "complete"})
    assert plant.sees("prod1", iid) == ["完工验收"]
    r = plant.try_complete("prod1", iid, "hw_acceptance", {"no_embers": False, "site_cleared": True,
                                                            "facilities_restored": True})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "no_embers"
    plant.complete("prod1", iid, "hw_acceptance", {"no_embers": True, "site_cleared": True,
                                                   "facilities_restored": True})
    assert plant.status(iid) == "completed"
    assert plant.variables(iid)["permit_status"] == "closed"


def test_first_grade_chain_segregates_duties_and_checks_simops(plant):
    iid = applied(plant, "pipe-rack-a")
    # Painting 5 m away conflicts (≥ 10 m required): approval is blocked until a coordinator is named.
    plant.complete("prod1", iid, "hw_unit_review", {**APPROVE, "nearby_operations": [
        {"kind": "painting", "distance_m": 5, "permit_ref": "PT-9"}, {"kind": "gas_venting", "distance_m": 40}]})
    assert plant.sees("prod1", iid) == ["作业单位审核"]
    assert [c["kind"] for c in plant.variables(iid)["simops_conflicts"]] == ["painting"]
    r = plant.try_complete("prod1", iid, "hw_unit_review", {"decision": "approve", "on_site": False})
    assert r.status_code == 422                                        # approvers approve at the site
    # Painting within 10 m is forbidden (5.2.9): a coordinator does not clear it.
    plant.complete("prod1", iid, "hw_unit_review", {**APPROVE, "coordinator": "赵协调",
                                                    "nearby_operations": [{"kind": "painting", "distance_m": 5}]})
    assert plant.sees("prod1", iid) == ["作业单位审核"]
    assert "5.2.9" in plant.form("prod1", iid, "hw_unit_review")["data"]["simops_refusal"]
    # The painting moved 12 m away: no conflict left.
    plant.complete("prod1", iid, "hw_unit_review", {**APPROVE, "nearby_operations": [
        {"kind": "painting", "distance_m": 12}]})
    assert plant.sees("safety1", iid) == ["安全管理部门审核"]
    plant.complete("safety1", iid, "hw_safety_review", APPROVE)
    r = plant.try_complete("safety1", iid, "hw_safety_approval", APPROVE)
    assert r.status_code == 403 and "segregation" in r.json["detail"]  # reviewer may not also approve
    plant.complete("safety2", iid, "hw_safety_approval", APPROVE)
    assert plant.sees("leader1", iid) == ["动火分析"]


def test_the_applicant_cannot_review_their_own_permit(plant, platform):
    platform.users.add_user("dual1", "anjian-demo", ["worker", "production"], "workshop-1", "兼岗", replace=True)
    iid = plant.start("dual1", "hot_work_permit", {"area": "warehouse"})
    plant.complete("dual1", iid, "hw_apply", APPLICATION)
    r = plant.try_complete("dual1", iid, "hw_unit_review", APPROVE)
    assert r.status_code == 403 and "segregation" in r.json["detail"]
    plant.complete("prod1", iid, "hw_unit_review", APPROVE)


def test_special_grade_needs_the_leader_in_charge_and_continuous_monitoring(plant):
    iid = applied(plant, "unit-1", equipment_state="running")
    plant.complete("prod1", iid, "hw_unit_review", APPROVE)
    plant.complete("safety1", iid, "hw_safety_review", APPROVE)
    assert plant.sees("safety2", iid) == []
    assert plant.sees("boss1", iid) == ["特级动火审批（主管领导）"]
    plant.complete("boss1", iid, "hw_leader_approval", APPROVE)
    plant.complete("leader1", iid, "hw_gas_analysis", gas(plant))
    plant.complete("leader1", iid, "hw_site_check", SITE_OK)          # no continuous monitor: not allowed
    assert plant.sees("leader1", iid) == ["作业现场确认"]
    plant.complete("leader1", iid, "hw_site_check", {**SITE_OK, "gas_monitor_online": True})
    assert plant.sees("worker1", iid) == ["动火作业"]
    assert plant.variables(iid)["permit_expires_at"].startswith("2026-03-02T17:00")   # 8 h


def test_send_back_and_reject(plant):
    iid = applied(plant, "pipe-rack-a")
    plant.complete("prod1", iid, "hw_unit_review", {"decision": "send_back", "comment": "补充隔离措施"})
    assert plant.sees("worker1", iid) == ["动火作业申请（含危害分析）"]
    plant.complete("worker1", iid, "hw_apply", APPLICATION)
    plant.complete("prod1", iid, "hw_unit_review", APPROVE)
    plant.complete("safety1", iid, "hw_safety_review", {"decision": "send_back"})
    assert plant.sees("worker1", iid) == ["动火作业申请（含危害分析）"]
    plant.complete("worker1", iid, "hw_apply", APPLICATION)
    plant.complete("prod1", iid, "hw_unit_review", APPROVE)
    plant.complete("safety1", iid, "hw_safety_review", APPROVE)
    plant.complete("safety2", iid, "hw_safety_approval", {"decision": "send_back"})
    plant.complete("worker1", iid, "hw_apply", APPLICATION)
    plant.complete("prod1", iid, "hw_unit_review", APPROVE)
    plant.complete("safety1", iid, "hw_safety_review", APPROVE)
    plant.complete("safety2", iid, "hw_safety_approval", {"decision": "reject", "comment": "改期"})
    assert plant.status(iid) == "completed"
    assert plant.variables(iid)["permit_status"] == "rejected"
    for rejecting in ("hw_unit_review", "hw_safety_review"):
        other = applied(plant, "pipe-rack-a")
        if rejecting == "hw_safety_review":
            plant.complete("prod1", other, "hw_unit_review", APPROVE)
        user = "prod1" if rejecting == "hw_unit_review" else "safety1"
        plant.complete(user, other, rejecting, {"decision": "reject"})
        assert plant.variables(other)["permit_status"] == "rejected"


def test_failed_or_stale_gas_analysis_blocks_the_start(plant):
    iid = applied(plant, gas_name="汽油", gas_lel_pct=1.4)             # LEL < 4 %: pass at ≤ 0.2 %
    plant.complete("prod1", iid, "hw_unit_review", APPROVE)
    plant.complete("leader1", iid, "hw_gas_analysis", gas(plant, pct=0.3))
    assert plant.sees("leader1", iid) == ["动火分析"]                  # failed: analyse again
    plant.complete("leader1", iid, "hw_gas_analysis", gas(plant, pct=0.2, minutes_ago=25))
    assert plant.sees("leader1", iid) == ["作业现场确认"]
    plant.later(minutes=10)                                            # the sample is now 35 min old
    plant.complete("leader1", iid, "hw_site_check", SITE_OK)
    assert plant.sees("leader1", iid) == ["动火分析"]
    assert plant.sees("worker1", iid) == []
    plant.complete("leader1", iid, "hw_gas_analysis", gas(plant, pct=0.1))
    plant.complete("leader1", iid, "hw_site_check", SITE_OK)
    assert plant.sees("worker1", iid) == ["动火作业"]
    assert [r["pass"] for r in plant.variables(iid)["gas_results"]] == [False, True, True]


def test_permit_expires_at_the_end_of_its_validity(plant):
    iid = working(plant, "pipe-rack-a")                                # first grade: 8 h, 17:00-01:00 plant time
    plant.later(hours=7)                                               # 00:00 (UTC+8): a new day, a new analysis
    plant.complete("leader1", iid, "hw_gas_analysis", gas(plant, minutes_ago=0))
    plant.later(minutes=50)
    assert plant.sees("worker1", iid) == ["动火作业"]
    plant.later(minutes=11)
    assert plant.sees("worker1", iid) == []
    assert plant.sees("leader1", iid) == ["收回作业票"]
    plant.complete("leader1", iid, "hw_withdraw", {"site_safe": True, "note": "未完工，重新办票"})
    assert plant.status(iid) == "completed"
    assert plant.variables(iid)["permit_status"] == "expired"


def test_interruption_longer_than_the_grade_limit_needs_reanalysis(plant):
    iid = working(plant)                                               # second grade: 60 min
    plant.complete("worker1", iid, "hw_work", {"action": "pause", "note": "午休"})
    plant.later(minutes=45)
    plant.complete("worker1", iid, "hw_resume_request", {"note": "继续焊接", "monitor_present": True})
    assert plant.sees("worker1", iid) == ["动火作业"]                  # 45 min: no re-test needed
    plant.complete("worker1", iid, "hw_work", {"action": "pause"})
    plant.later(minutes=61)
    plant.complete("worker1", iid, "hw_resume_request", {"note": "继续焊接", "monitor_present": True})
    assert plant.sees("worker1", iid) == []
    assert plant.sees("leader1", iid) == ["动火分析"]
    plant.complete("leader1", iid, "hw_gas_analysis", gas(plant))
    assert plant.sees("worker1", iid) == ["动火作业"]


def test_gas_alarm_suspends_until_reanalysis_and_supervision_approval(plant):
    iid = working(plant, "unit-1")
    other = working(plant, "warehouse")
    r = plant.message("emerg1", "gas_alarm", {"area": "unit-1"}, {"reason": "可燃气体二级报警"})
    assert r.status_code == 200, r.json
    assert plant.sees("worker1", iid) == []                            # work stopped at once
    assert plant.sees("worker1", other) == ["动火作业"]                 # another area keeps working
    v = plant.variables(iid)
    assert (v["permit_status"], v["suspended_by"]) == ("suspended", "gas_alarm")
    assert plant.sees("leader1", iid) == ["动火分析"]
    plant.complete("leader1", iid, "hw_gas_analysis", gas(plant, pct=0.1))
    assert plant.sees("safety1", iid) == ["恢复作业审批（安全监督）"]
    plant.complete("safety1", iid, "hw_resume_approval", APPROVE)
    assert plant.sees("worker1", iid) == ["动火作业"]
    assert plant.variables(iid)["permit_status"] == "active"


def test_stop_work_waits_for_restart_and_supervision_may_end_the_permit(plant):
    iid = working(plant, "unit-1")
    plant.complete("worker1", iid, "hw_work", {"action": "pause"})     # stop also reaches a paused permit
    assert plant.message("safety1", "stop_work", {"area": "unit-1"}, {"reason": "装置停工"}).status_code == 200
    assert plant.sees("worker1", iid) == []
    assert plant.sees("leader1", iid) == []                            # nothing to do before the restart
    assert plant.status(iid) == "waiting"
    assert plant.message("safety1", "restart", {"area": "unit-1"}).status_code == 200
    plant.complete("leader1", iid, "hw_gas_analysis", gas(plant))
    plant.complete("safety1", iid, "hw_resume_approval", {"decision": "reject", "comment": "条件变化，重新办票"})
    assert plant.sees("leader1", iid) == ["收回作业票"]
    plant.complete("leader1", iid, "hw_withdraw", {"site_safe": True})
    assert plant.variables(iid)["permit_status"] == "cancelled"
    assert plant.status(iid) == "completed"


def test_review_lists_active_permits_of_the_area_and_needs_a_coordinator(plant):
    active_hot = working(plant, "pipe-rack-a")                         # already working in the area
    elsewhere = working(plant, "warehouse")
    iid = applied(plant, "pipe-rack-a")
    review = plant.form("prod1", iid, "hw_unit_review")
    listed = review["data"]["active_permits_in_area"]
    assert [(p["instance_id"], p["process_key"], p["permit_status"]) for p in listed] == [
        (active_hot, "hot_work_permit", "active")]                     # not the other area, not itself
    assert elsewhere not in [p["instance_id"] for p in listed]
    plant.complete("prod1", iid, "hw_unit_review", APPROVE)            # approve without a coordinator
    assert plant.sees("prod1", iid) == ["作业单位审核"]                 # blocked: back to the review
    assert plant.sees("safety1", iid) == []
    assert [c["kind"] for c in plant.variables(iid)["simops_conflicts"]] == ["active_permit"]
    plant.complete("prod1", iid, "hw_unit_review", {**APPROVE, "coordinator": "赵协调"})
    assert plant.sees("safety1", iid) == ["安全管理部门审核"]
    # Once the other permit is closed the area is free again: no coordinator needed.
    plant.complete("worker1", active_hot, "hw_work", {"action": "complete"})
    plant.complete("prod1", active_hot, "hw_acceptance", {"no_embers": True, "site_cleared": True,
                                                          "facilities_restored": True})
    free = applied(plant, "pipe-rack-a")
    assert plant.form("prod1", free, "hw_unit_review")["data"]["active_permits_in_area"] == []
    plant.complete("prod1", free, "hw_unit_review", APPROVE)
    assert plant.sees("safety1", free) == ["安全管理部门审核"]


def test_a_confined_space_entry_in_the_area_is_a_simops_conflict(plant):
    from tests.test_library_confined_space import inside

    entry = inside(plant)                                              # unit-1, people inside
    iid = applied(plant, "unit-1")
    plant.complete("prod1", iid, "hw_unit_review", APPROVE)
    assert plant.sees("prod1", iid) == ["作业单位审核"]
    [conflict] = plant.variables(iid)["simops_conflicts"]
    assert (conflict["instance_id"], conflict["process_key"]) == (entry, "confined_space_permit")
    assert "6.7" in conflict["reason"]


def test_second_grade_needs_a_new_analysis_every_work_day(plant):
    iid = working(plant)                                               # 二级, 72 h; 09:00 UTC = 17:00 plant time
    v = plant.variables(iid)
    assert v["analysis_valid_until"].startswith("2026-03-02T16:00")    # end of the plant day (UTC+8)
    assert v["daily_retest_at"] == v["analysis_valid_until"]
    plant.later(hours=7)                                               # exactly 00:00 plant time
    assert plant.sees("worker1", iid) == []                            # today's work waits for an analysis
    assert plant.sees("leader1", iid) == ["动火分析"]
    assert (plant.variables(iid)["permit_status"], plant.variables(iid)["analysis_purpose"]) == ("paused", "daily")
    # Not done: the work cannot resume, however long it waits (the permit itself is still valid).
    plant.later(hours=8)
    assert plant.sees("worker1", iid) == []
    assert plant.variables(iid)["permit_expires_at"].startswith("2026-03-05T09:00")
    # An analysis sampled before the day boundary does not count for today.
    plant.complete("leader1", iid, "hw_gas_analysis",
                   {**gas(plant), "sampled_at": "2026-03-02T15:55:00+00:00"})
    assert plant.sees("worker1", iid) == []
    assert plant.sees("leader1", iid) == ["动火分析"]
    # Done: today's passing analysis lets the work continue until the next plant day.
    plant.complete("leader1", iid, "hw_gas_analysis", gas(plant))
    assert plant.sees("worker1", iid) == ["动火作业"]
    v = plant.variables(iid)
    assert (v["permit_status"], v["daily_retest_at"][:16]) == ("active", "2026-03-03T16:00")
    plant.later(hours=16)                                              # 00:00 the next plant day
    assert plant.sees("leader1", iid) == ["动火分析"]
    plant.complete("leader1", iid, "hw_gas_analysis", gas(plant, minutes_ago=0))
    assert plant.sees("worker1", iid) == ["动火作业"]
    assert [r["pass"] for r in plant.variables(iid)["gas_results"]] == [True, True, True, True]


def test_a_short_break_across_the_day_boundary_still_needs_the_daily_analysis(plant):
    iid = working(plant)
    plant.later(hours=6, minutes=40)                                   # 23:40 plant time
    plant.complete("worker1", iid, "hw_work", {"action": "pause", "note": "休息"})
    plant.later(minutes=30)                                            # 00:10: 30 min < 60 min, but a new day
    plant.complete("worker1", iid, "hw_resume_request", {"note": "继续焊接", "monitor_present": True})
    assert plant.sees("worker1", iid) == []
    assert plant.sees("leader1", iid) == ["动火分析"]
    plant.complete("leader1", iid, "hw_gas_analysis", gas(plant, minutes_ago=0))
    assert plant.sees("worker1", iid) == ["动火作业"]


def test_a_permit_that_ran_out_while_waiting_for_its_analysis_cannot_resume(plant):
    iid = working(plant)                                               # 二级: valid until 2026-03-05 09:00 UTC
    plant.later(hours=7)                                               # new plant day: analysis needed
    plant.later(days=2, hours=17, minutes=1)                           # nobody analysed; 09:01 on the 5th
    assert plant.sees("worker1", iid) == []
    plant.complete("leader1", iid, "hw_gas_analysis", gas(plant, minutes_ago=0))
    assert plant.sees("worker1", iid) == []                            # a passing analysis does not revive it
    assert plant.sees("leader1", iid) == ["收回作业票"]
    plant.complete("leader1", iid, "hw_withdraw", {"site_safe": True, "note": "过期，重新办票"})
    assert (plant.status(iid), plant.variables(iid)["permit_status"]) == ("completed", "expired")


def test_gas_alarm_while_waiting_for_the_daily_analysis_suspends_the_permit(plant):
    iid = working(plant)                                               # 二级, 72 h
    other = working(plant, "unit-1")
    plant.later(hours=7)                                               # 00:00 plant time: waiting for today's analysis
    assert plant.variables(iid)["analysis_purpose"] == "daily"
    assert plant.message("emerg1", "gas_alarm", {"area": "warehouse"}, {"reason": "可燃气体一级报警"}).status_code == 200
    v = plant.variables(iid)
    assert (v["permit_status"], v["suspended_by"], v["analysis_purpose"]) == ("suspended", "gas_alarm",
                                                                          "resume_suspended")
    assert plant.variables(other)["permit_status"] == "paused"         # another area: only its own daily wait
    assert plant.sees("leader1", iid) == ["动火分析"]                  # re-analysis after the alarm
    plant.complete("leader1", iid, "hw_gas_analysis", gas(plant, minutes_ago=0))
    assert plant.sees("worker1", iid) == []                            # a passing analysis alone does not resume
    assert plant.sees("safety1", iid) == ["恢复作业审批（安全监督）"]
    plant.complete("safety1", iid, "hw_resume_approval", APPROVE)
    assert plant.sees("worker1", iid) == ["动火作业"]
    v = plant.variables(iid)
    assert (v["permit_status"], v["daily_retest_at"][:16]) == ("active", "2026-03-03T16:00")


def test_stop_work_while_waiting_for_the_reanalysis_after_a_long_break(plant):
    iid = working(plant, "unit-1", equipment_id="P-101")               # 特级: 30 min
    plant.complete("worker1", iid, "hw_work", {"action": "pause"})
    plant.later(minutes=31)
    plant.complete("worker1", iid, "hw_resume_request", {"note": "继续焊接", "monitor_present": True})
    assert plant.sees("leader1", iid) == ["动火分析"]
    assert plant.variables(iid)["analysis_purpose"] == "resume_interrupted"
    # A stop for other equipment of the area does not reach it; one for its equipment does.
    assert plant.message("safety1", "stop_work", {"area": "unit-1", "equipment_id": "P-102"}).status_code == 404
    assert plant.sees("leader1", iid) == ["动火分析"]
    assert plant.message("safety1", "stop_work", {"area": "unit-1", "equipment_id": "P-101"},
                         {"stop_reason": "装置停车"}).status_code == 200
    v = plant.variables(iid)
    assert (v["permit_status"], v["suspended_by"]) == ("suspended", "stop_work")
    assert plant.sees("leader1", iid) == []                            # nothing to analyse before the restart
    assert plant.sees("worker1", iid) == []
    assert plant.status(iid) == "waiting"
    assert plant.message("safety1", "restart", {"area": "unit-1", "equipment_id": "P-101"}).status_code == 200
    plant.complete("leader1", iid, "hw_gas_analysis", gas(plant, minutes_ago=0))
    assert plant.sees("worker1", iid) == []
    plant.complete("safety1", iid, "hw_resume_approval", APPROVE)
    assert plant.sees("worker1", iid) == ["动火作业"]
    assert plant.variables(iid)["permit_status"] == "active"


def test_a_permit_stopped_while_waiting_for_its_analysis_that_expires_meanwhile_is_withdrawn(plant):
    iid = working(plant, "pipe-rack-a")                                # 一级: 8 h, until 17:00 UTC
    plant.later(hours=7)                                               # 16:00 UTC = 00:00 plant: daily analysis
    assert plant.message("safety1", "stop_work", {"area": "pipe-rack-a"}).status_code == 200
    assert plant.variables(iid)["permit_status"] == "suspended"
    plant.later(hours=2)                                               # 18:00 UTC: the permit has run out
    assert plant.message("safety1", "restart", {"area": "pipe-rack-a"}).status_code == 200
    plant.complete("leader1", iid, "hw_gas_analysis", gas(plant, minutes_ago=0))
    plant.complete("safety1", iid, "hw_resume_approval", APPROVE)
    assert plant.sees("worker1", iid) == []                            # not resumed: the permit is over
    assert plant.sees("leader1", iid) == ["收回作业票"]
    plant.complete("leader1", iid, "hw_withdraw", {"site_safe": True, "note": "过期，重新办票"})
    assert (plant.status(iid), plant.variables(iid)["permit_status"]) == ("completed", "expired")


def test_a_new_alarm_while_the_resume_waits_for_approval_needs_a_new_analysis(plant):
    iid = working(plant)
    plant.later(hours=7)                                               # daily analysis due
    plant.message("emerg1", "gas_alarm", {"area": "warehouse"})
    plant.complete("leader1", iid, "hw_gas_analysis", gas(plant, minutes_ago=0))
    assert plant.sees("safety1", iid) == ["恢复作业审批（安全监督）"]
    plant.message("emerg1", "gas_alarm", {"area": "warehouse"}, {"reason": "再次报警"})
    assert plant.sees("safety1", iid) == []                            # the analysis before it no longer counts
    assert plant.sees("leader1", iid) == ["动火分析"]
    plant.complete("leader1", iid, "hw_gas_analysis", gas(plant, minutes_ago=0))
    plant.complete("safety1", iid, "hw_resume_approval", APPROVE)
    assert plant.sees("worker1", iid) == ["动火作业"]
    assert [r["pass"] for r in plant.variables(iid)["gas_results"]] == [True, True, True]


def test_a_stop_before_the_first_start_still_needs_the_site_check(plant):
    iid = applied(plant)
    plant.complete("prod1", iid, "hw_unit_review", APPROVE)
    assert plant.sees("leader1", iid) == ["动火分析"]                  # issued, first analysis pending
    assert plant.message("safety1", "stop_work", {"area": "warehouse"}).status_code == 200
    assert plant.sees("leader1", iid) == []
    assert plant.variables(iid)["permit_status"] == "suspended"
    assert plant.message("safety1", "restart", {"area": "warehouse"}).status_code == 200
    plant.complete("leader1", iid, "hw_gas_analysis", gas(plant))
    plant.complete("safety1", iid, "hw_resume_approval", APPROVE)
    assert plant.sees("worker1", iid) == []
    assert plant.sees("leader1", iid) == ["作业现场确认"]              # never started: the site check comes first
    plant.message("emerg1", "gas_alarm", {"area": "warehouse"})        # and an alarm reaches it there too
    assert plant.sees("leader1", iid) == ["动火分析"]
    plant.complete("leader1", iid, "hw_gas_analysis", gas(plant))
    plant.complete("safety1", iid, "hw_resume_approval", APPROVE)
    plant.complete("leader1", iid, "hw_site_check", SITE_OK)
    assert plant.sees("worker1", iid) == ["动火作业"]
    v = plant.variables(iid)
    assert v["permit_status"] == "active" and v["permit_expires_at"].startswith("2026-03-05T09:00")


def test_an_unknown_work_plan_number_is_refused_at_application(plant):
    iid = plant.start("worker1", "hot_work_permit", {"area": "warehouse"})
    plant.complete("worker1", iid, "hw_apply", {**APPLICATION, "work_plan_ref": "JH-9999"})
    assert plant.sees("worker1", iid) == ["动火作业申请（含危害分析）"]  # back to the applicant
    assert plant.sees("prod1", iid) == []                              # nothing to review
    data = plant.form("worker1", iid, "hw_apply")["data"]
    assert "JH-9999" in data["work_plan_ref_error"] and "不存在" in data["work_plan_ref_error"]
    v = plant.variables(iid)
    assert (v["work_plan_linked"], v["work_plan_ref"], v["work_plan_ref_rejected"]) == (False, "", "JH-9999")
    # Without a plan the application is accepted (unplanned work still gets its permit).
    plant.complete("worker1", iid, "hw_apply", APPLICATION)
    assert plant.sees("prod1", iid) == ["作业单位审核"]
    v = plant.variables(iid)
    assert (v["work_plan_linked"], v["work_plan_ref"], v["work_plan_ref_error"]) == (False, "", "")


# --------------------------------------------------------------------------- issue 14 §3: rules at their edges

def test_a_gas_sample_dated_in_the_future_is_refused(plant):
    iid = applied(plant)
    plant.complete("prod1", iid, "hw_unit_review", APPROVE)
    # 90 minutes ahead: it would count as fresh until 11:00 and let work start long after the window.
    plant.complete("leader1", iid, "hw_gas_analysis", gas(plant, minutes_ago=-90))
    assert plant.sees("leader1", iid) == ["动火分析"]                  # back to the analyst, no site check
    data = plant.form("leader1", iid, "hw_gas_analysis")["data"]
    assert "晚于当前时间" in data["gas_analysis_error"] and "2 分钟" in data["gas_analysis_error"]
    v = plant.variables(iid)
    assert (v["gas_results"], v["analysis_valid_until"]) == ([], "")    # not recorded, counts for nothing
    # The reason is the process's: the analyst cannot clear it in the form.
    r = plant.try_complete("leader1", iid, "hw_gas_analysis", {**gas(plant), "gas_analysis_error": ""})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "gas_analysis_error"
    # Within the clock tolerance (gas_pass_threshold.dmn: 2 min) a sample is accepted.
    plant.complete("leader1", iid, "hw_gas_analysis", gas(plant, minutes_ago=-1.5))
    assert plant.sees("leader1", iid) == ["作业现场确认"]
    assert plant.form("leader1", iid, "hw_site_check")["data"]["gas_analysis_error"] == ""
    plant.complete("leader1", iid, "hw_site_check", SITE_OK)
    assert plant.sees("worker1", iid) == ["动火作业"]
    assert [r["pass"] for r in plant.variables(iid)["gas_results"]] == [True]


def test_a_future_sample_is_refused_also_at_the_reanalysis_after_an_alarm(plant):
    iid = working(plant)
    plant.message("emerg1", "gas_alarm", {"area": "warehouse"}, {"reason": "报警"})
    plant.complete("leader1", iid, "hw_gas_analysis", gas(plant, minutes_ago=-3))
    assert plant.sees("safety1", iid) == []                            # nothing to approve on a future sample
    assert plant.sees("leader1", iid) == ["动火分析"]
    plant.complete("leader1", iid, "hw_gas_analysis", gas(plant, minutes_ago=0))
    assert plant.sees("safety1", iid) == ["恢复作业审批（安全监督）"]


def test_validity_counts_from_the_issue_not_from_the_start_of_work(plant):
    iid = applied(plant)                                               # 二级: 72 h
    plant.complete("prod1", iid, "hw_unit_review", APPROVE)            # issued Monday 09:00 UTC
    v = plant.variables(iid)
    assert (v["permit_status"], v["issued_at"][:16], v["permit_expires_at"][:16]) == (
        "issued", "2026-03-02T09:00", "2026-03-05T09:00")
    plant.later(days=4)                                                # Friday: nobody has started yet
    plant.complete("leader1", iid, "hw_gas_analysis", gas(plant))
    plant.complete("leader1", iid, "hw_site_check", SITE_OK)
    assert plant.sees("worker1", iid) == []                            # not usable: it ran out on Thursday
    assert plant.sees("leader1", iid) == ["收回作业票"]
    plant.complete("leader1", iid, "hw_withdraw", {"site_safe": True, "note": "过期未用，重新办票"})
    assert (plant.status(iid), plant.variables(iid)["permit_status"]) == ("completed", "expired")


def test_work_started_late_still_ends_at_the_validity_counted_from_the_issue(plant):
    iid = applied(plant, "pipe-rack-a")                                # 一级: 8 h from the issue
    plant.complete("prod1", iid, "hw_unit_review", APPROVE)
    plant.complete("safety1", iid, "hw_safety_review", APPROVE)
    plant.complete("safety2", iid, "hw_safety_approval", APPROVE)      # issued 09:00, valid until 17:00 UTC
    plant.later(hours=5)                                               # work starts at 14:00
    plant.complete("leader1", iid, "hw_gas_analysis", gas(plant))
    plant.complete("leader1", iid, "hw_site_check", SITE_OK)
    v = plant.variables(iid)
    assert (v["work_started_at"][:16], v["permit_expires_at"][:16]) == ("2026-03-02T14:00", "2026-03-02T17:00")
    plant.later(hours=2, minutes=1)                                    # 16:01 UTC = 00:01 plant time: daily analysis
    plant.complete("leader1", iid, "hw_gas_analysis", gas(plant, minutes_ago=0))
    assert plant.sees("worker1", iid) == ["动火作业"]
    plant.later(hours=1)                                               # 17:01: 8 h after the issue, 3 h of work
    assert plant.sees("worker1", iid) == []
    assert plant.sees("leader1", iid) == ["收回作业票"]
    assert plant.variables(iid)["permit_status"] == "expired"



# --------------------------------------------------------------------------- issue 14 §2: SIMOPS forbidden, both ways

@pytest.mark.parametrize("kind, distance, clause", [
    ("gas_venting", 20, "5.2.9"), ("flammable_draining", 14, "5.2.9"), ("blinding", 25, "7.6")])
def test_what_the_standard_forbids_is_blocked_whatever_the_coordinator(plant, kind, distance, clause):
    iid = applied(plant, "unit-1")
    plant.complete("prod1", iid, "hw_unit_review", {**APPROVE, "coordinator": "赵协调", "nearby_operations": [
        {"kind": kind, "distance_m": distance, "permit_ref": "X-1"}]})
    assert plant.sees("prod1", iid) == ["作业单位审核"]                 # still with the unit
    assert plant.sees("safety1", iid) == []
    data = plant.form("prod1", iid, "hw_unit_review")["data"]
    assert clause in data["simops_refusal"] and "禁止" in data["simops_refusal"]
    r = plant.try_complete("prod1", iid, "hw_unit_review", {**APPROVE, "simops_refusal": ""})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "simops_refusal"   # the process's, not the form's
    # Outside the distance it is ordinary cross-work: listed, cleared by a coordinator.
    plant.complete("prod1", iid, "hw_unit_review", {**APPROVE, "coordinator": "赵协调", "nearby_operations": [
        {"kind": kind, "distance_m": 31}]})
    assert plant.sees("safety1", iid) == ["安全管理部门审核"]
    assert plant.variables(iid)["simops_refusal"] == ""


def test_hot_work_on_a_vessel_being_painted_inside_is_blocked(plant):
    from tests.test_library_confined_space import approved

    painting = approved(plant, equipment_id="V-101", painting_inside=True, coordinator=None)
    assert plant.variables(painting)["permit_status"] == "issued"
    iid = applied(plant, "unit-1", equipment_id="V-101")
    plant.complete("prod1", iid, "hw_unit_review", {**APPROVE, "coordinator": "赵协调"})
    assert plant.sees("prod1", iid) == ["作业单位审核"]
    assert "6.7" in plant.form("prod1", iid, "hw_unit_review")["data"]["simops_refusal"]
    # Hot work on other equipment of the area: cross-work, cleared by the coordinator.
    other = applied(plant, "unit-1", equipment_id="P-101")
    plant.complete("prod1", other, "hw_unit_review", {**APPROVE, "coordinator": "赵协调"})
    assert plant.sees("safety1", other) == ["安全管理部门审核"]


def test_a_stop_while_the_resume_waits_for_approval_waits_for_restart_and_a_new_analysis(plant):
    # The resume approval is a sub-process (恢复作业审批) whose stop-work sits on the sub-process: it must
    # still suspend the permit with the data of the wait, wait for the restart and need a new analysis.
    iid = working(plant)
    plant.later(hours=7)
    plant.message("emerg1", "gas_alarm", {"area": "warehouse"})
    plant.complete("leader1", iid, "hw_gas_analysis", gas(plant, minutes_ago=0))
    assert plant.sees("safety1", iid) == ["恢复作业审批（安全监督）"]
    assert plant.message("safety1", "stop_work", {"area": "warehouse"}, {"reason": "装置停工"}).status_code == 200
    assert plant.sees("safety1", iid) == [] and plant.sees("leader1", iid) == []
    assert plant.status(iid) == "waiting"
    assert plant.variables(iid)["suspended_by"] == "stop_work"
    assert plant.message("safety1", "restart", {"area": "warehouse"}).status_code == 200
    plant.complete("leader1", iid, "hw_gas_analysis", gas(plant, minutes_ago=0))
    plant.complete("safety1", iid, "hw_resume_approval", APPROVE)
    assert plant.sees("worker1", iid) == ["动火作业"]
