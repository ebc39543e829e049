"""三级督办: level 1 to the responsible post, T1 → department head, T2 → supervision; closes with the duty."""
from tests.test_library_support import plant  # noqa: F401

DUTY = {"duty_type": "inspection", "duty_title": "合成装置区每日巡检未完成", "department": "workshop-1",
        "area": "unit-1"}
DONE = {"result": "已补做巡检并录入记录", "completed_at": "2026-03-02T10:00:00+00:00"}


def test_duty_done_before_t1_closes_at_level_one(plant):
    iid = plant.start("safety1", "three_level_supervision", DUTY)
    assert plant.sees("prod1", iid) == ["落实督办事项"]
    assert plant.sees("prod2", iid) == []          # another department's production does not see it
    assert plant.sees("head1", iid) == []
    plant.later(hours=3)                            # inspection: T1 = 4 h (DMN escalation_intervals)
    assert plant.sees("head1", iid) == []
    plant.complete("prod1", iid, "duty", DONE)
    assert plant.status(iid) == "completed"
    v = plant.variables(iid)
    assert (v["escalation_level"], v["escalated"]) == (1, False)


def test_escalates_through_all_three_levels_and_closes_with_the_duty(plant):
    iid = plant.start("safety1", "three_level_supervision", DUTY)
    duty = plant.task("prod1", iid, "duty")
    assert duty["due_at"].startswith("2026-03-02T13:00")        # due at T1
    plant.later(hours=4, minutes=1)
    assert plant.sees("head1", iid) == ["二级督办（部门负责人）"]
    assert plant.sees("prod1", iid) == ["落实督办事项"]           # the duty stays with the responsible post
    assert plant.sees("safety1", iid) == []
    plant.complete("head1", iid, "level2_task", {"instruction": "今日下班前完成补检"})
    plant.later(hours=20)                                         # T2 = 24 h
    assert plant.sees("safety1", iid) == ["三级督办（安全监督部门）"]
    plant.complete("prod1", iid, "duty", DONE)
    # The duty is done: the open level-3 task disappears and the escalation is closed at level 3.
    assert plant.sees("safety1", iid) == []
    assert plant.status(iid) == "completed"
    assert plant.variables(iid)["escalation_level"] == 3


def test_t1_t2_come_from_the_duty_type(plant):
    iid = plant.start("safety1", "three_level_supervision", {**DUTY, "duty_type": "alert_disposal"})
    plant.later(hours=1, minutes=1)                               # alert disposal: T1 = 1 h
    assert plant.sees("head1", iid) == ["二级督办（部门负责人）"]
    plant.later(hours=3)                                          # T2 = 4 h
    assert plant.sees("safety1", iid) == ["三级督办（安全监督部门）"]
    other = plant.start("safety1", "three_level_supervision", {**DUTY, "duty_type": "something_else"})
    plant.later(hours=23)                                         # default: T1 = 24 h
    assert plant.sees("head1", other) == []
    plant.later(hours=1, minutes=1)
    assert plant.sees("head1", other) == ["二级督办（部门负责人）"]


def test_the_duty_is_for_the_owning_departments_own_post(plant):
    # A maintenance department's duty is for its maintenance staff (the department's kind picks the
    # role when the task is created); production people of other departments neither see nor get it.
    iid = plant.start("safety1", "three_level_supervision", {**DUTY, "department": "maintenance",
                                                             "area": "warehouse"})
    assert plant.sees("maint1", iid) == ["落实督办事项"]
    assert plant.sees("prod1", iid) == []
    duty = plant.task("maint1", iid, "duty")
    assert duty["candidate_roles"] == ["maintenance"] and duty["department"] == "maintenance"
    plant.complete("maint1", iid, "duty", DONE)
    assert plant.status(iid) == "completed"


def test_a_candidate_role_expression_is_checked_at_deployment(plant):
    from engine.bpmn_builder import ProcessBuilder

    b = ProcessBuilder("cr_bad", "岗位表达式")
    b.lane("production")
    b.start().user("t", "任务", lane="production", props={"candidate_role": "__import__('os')"}).end()
    b.chain("start", "t", "end")
    r = plant.api.deploy({"cr_bad.bpmn": b.to_xml()})
    assert r.status_code == 422
    assert [(e["element_id"], e["message"].startswith("candidate_role:")) for e in r.json["errors"]] == [("t", True)]
