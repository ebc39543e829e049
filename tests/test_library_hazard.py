"""隐患整改: report → classify/assign → (plan, stop, interim) → rectify → verify (send back) → close."""
from tests.test_library_support import plant  # noqa: F401

REPORT = {"location": "合成装置区 P-101 泵", "description": "机械密封泄漏，地面有油迹", "photo_ref": "IMG-0301",
          "equipment_code": "P-101",
          "found_at": "2026-03-02T08:30:00+00:00", "reported_level": "general"}
RECTIFIED = {"measures_taken": "更换机械密封并清理地面", "completed_at": "2026-03-02T15:00:00+00:00"}


def classify(level="general", fixable=True, stop=False, deadline="2026-03-05T09:00:00+00:00"):
    return {"hazard_level": level, "responsible_department": "workshop-1", "rectification_deadline": deadline,
            "fixable_at_once": fixable, "production_stop_required": stop}


def reported(plant):
    iid = plant.start("worker1", "hazard_rectification", {"area": "unit-1"})
    assert plant.sees("worker1", iid) == ["隐患上报"]
    plant.complete("worker1", iid, "report", REPORT)
    assert plant.sees("safety1", iid) == ["隐患分级与指派"]
    assert plant.sees("worker1", iid) == []
    return iid


def test_general_hazard_fixed_at_once_is_verified_and_closed_on_time(plant):
    iid = reported(plant)
    plant.complete("safety1", iid, "classify", classify())
    assert plant.sees("prod1", iid) == ["隐患整改"]
    assert plant.sees("prod2", iid) == []                   # storage's production does not see workshop-1's hazard
    assert plant.task("prod1", iid, "rectify")["due_at"].startswith("2026-03-05T09:00")
    plant.complete("prod1", iid, "rectify", RECTIFIED)
    assert plant.sees("safety2", iid) == ["整改验收"]
    plant.complete("safety2", iid, "verify", {"accepted": True, "effect_assessment": "无泄漏"})
    assert plant.status(iid) == "completed"
    v = plant.variables(iid)
    assert (v["hazard_status"], v["closed_on_time"], v["department"]) == ("closed", True, "workshop-1")


def test_assignment_moves_the_work_to_the_responsible_department(plant):
    iid = reported(plant)
    plant.complete("safety1", iid, "classify", {**classify(), "responsible_department": "storage"})
    assert plant.sees("prod1", iid) == []
    assert plant.sees("prod2", iid) == ["隐患整改"]


def test_not_fixable_at_once_needs_interim_measures_and_verification_can_send_back(plant):
    iid = reported(plant)
    plant.complete("safety1", iid, "classify", classify(fixable=False))
    assert plant.sees("prod1", iid) == ["落实临时管控措施"]
    plant.complete("prod1", iid, "interim", {"measures": "设置警戒区、加密巡检", "responsible_person": "王主任"})
    plant.complete("prod1", iid, "rectify", RECTIFIED)
    plant.complete("safety1", iid, "verify", {"accepted": False, "effect_assessment": "仍有渗漏",
                                              "comment": "密封未更换到位"})
    assert plant.sees("prod1", iid) == ["隐患整改"]          # sent back
    assert plant.sees("safety1", iid) == []
    plant.complete("prod1", iid, "rectify", RECTIFIED)
    plant.complete("safety1", iid, "verify", {"accepted": True, "effect_assessment": "复查无渗漏"})
    assert plant.status(iid) == "completed"


def test_overdue_rectification_escalates_three_levels_and_closes_late(plant):
    iid = reported(plant)
    plant.complete("safety1", iid, "classify", classify(deadline="2026-03-03T09:00:00+00:00"))
    plant.later(hours=24, minutes=1)                        # past the deadline
    assert plant.sees("prod1", iid) == ["落实督办事项"]       # rectification is now under escalation
    plant.later(hours=24, minutes=1)                        # hazard rectification: T1 = 24 h
    assert plant.sees("head1", iid) == ["二级督办（部门负责人）"]
    plant.complete("head1", iid, "level2_task", {"instruction": "明日完成"})
    plant.later(hours=48)                                   # T2 = 72 h
    assert plant.sees("safety1", iid) == ["三级督办（安全监督部门）"]
    plant.complete("prod1", iid, "duty", {"result": "已更换密封", "completed_at": "2026-03-06T10:00:00+00:00"})
    assert plant.sees("safety1", iid) == ["整改验收"]        # level-3 task closed with the duty
    plant.complete("safety1", iid, "verify", {"accepted": True, "effect_assessment": "无泄漏"})
    v = plant.variables(iid)
    assert plant.status(iid) == "completed"
    assert (v["closed_on_time"], v["escalation_level"]) == (False, 3)


def test_major_hazard_plan_is_sent_back_then_approved_without_stopping(plant):
    iid = reported(plant)
    plant.complete("safety1", iid, "classify", classify(level="major", fixable=False))
    plan = {"goal": "消除泄漏", "method": "更换泵体", "funds_materials": "备件库领用", "budget": 3.5,
            "organisation_people": "一车间设备组", "plan_deadline": "2026-03-20T09:00:00+00:00",
            "safety_emergency_measures": "备用泵运行，现场配置灭火器"}
    assert plant.sees("prod1", iid) == ["制定重大隐患治理方案"]
    r = plant.try_complete("prod1", iid, "plan", {"goal": "消除泄漏"})
    assert r.status_code == 422                              # the six parts are required
    assert {e["field"] for e in r.json["errors"]} >= {"method", "safety_emergency_measures"}
    plant.complete("prod1", iid, "plan", plan)
    assert plant.sees("boss1", iid) == ["治理方案审批"]
    plant.complete("boss1", iid, "plan_approval", {"approved": False, "comment": "补充应急预案"})
    assert plant.sees("prod1", iid) == ["制定重大隐患治理方案"]
    plant.complete("prod1", iid, "plan", plan)
    plant.complete("boss1", iid, "plan_approval", {"approved": True})
    assert plant.sees("prod1", iid) == ["落实临时管控措施"]
    plant.complete("prod1", iid, "interim", {"measures": "启用备用泵", "responsible_person": "王主任"})
    assert plant.task("prod1", iid, "rectify")["due_at"].startswith("2026-03-20T09:00")   # the plan's deadline
    plant.complete("prod1", iid, "rectify", RECTIFIED)
    plant.complete("safety1", iid, "verify", {"accepted": True, "effect_assessment": "泵体已更换"})
    assert plant.status(iid) == "completed"


def test_major_hazard_that_needs_a_stop_runs_stop_and_restart(plant):
    iid = reported(plant)
    plant.complete("safety1", iid, "classify", classify(level="major", fixable=False, stop=True))
    plant.complete("prod1", iid, "plan", {
        "goal": "消除泄漏", "method": "停车检修", "funds_materials": "已落实", "organisation_people": "一车间",
        "plan_deadline": "2026-03-10T09:00:00+00:00", "safety_emergency_measures": "停车置换"})
    plant.complete("boss1", iid, "plan_approval", {"approved": True})
    assert plant.sees("prod1", iid) == ["停工整改"]          # the called stop_restart process
    assert plant.variables(iid)["work_status"] == "stopped"
    plant.complete("prod1", iid, "stop_rectify", {"measures_taken": "更换泵", "hazards_eliminated": True,
                                             "completed_at": "2026-03-04T09:00:00+00:00"})
    plant.complete("prod1", iid, "restart_application", {
        "rectification_summary": "泵体已更换并试压", "assessment": "合格", "conditions_restored": True,
        "applicant": "王主任"})
    plant.complete("safety1", iid, "restart_acceptance", {"accepted": True, "on_site": True, "findings": "同意复工"})
    assert plant.sees("safety1", iid) == ["整改验收"]
    plant.complete("safety1", iid, "verify", {"accepted": True, "effect_assessment": "复工正常"})
    assert plant.status(iid) == "completed"
    assert plant.variables(iid)["work_status"] == "restarted"
