"""作业计划: DMN risk grading 红橙黄蓝, supervision checks only inside the work window, change re-syncs."""
from tests.test_library_support import plant  # noqa: F401

PLAN = {"plan_period": "daily", "content": "P-101 泵检修动火", "operation_kind": "hot_work",
        "area_class": "pipe_rack", "workers": ["张工", "李工"], "window_start": "2026-03-02T10:00:00+00:00",
        "window_end": "2026-03-02T15:00:00+00:00", "risk_points": ["管线残存物料", "交叉作业"],
        "special_operations": ["hot_work"], "at_night": False, "on_holiday": False}


def submitted(plant, area="pipe-rack-a", **changes):
    iid = plant.start("prod1", "work_plan", {"area": area})
    assert plant.sees("prod1", iid) == ["提交作业计划"]
    plant.complete("prod1", iid, "submit_plan", {**PLAN, **changes})
    return iid


def checks_seen(plant, iid):
    return [t for t in plant.tasks("safety2", iid) if t["bpmn_id"] == "supervision_check"]


def test_risk_grade_comes_from_kind_area_and_time(plant):
    cases = [({"operation_kind": "hot_work", "area_class": "fire_explosion"}, "unit-1", ("major", "red")),
             ({"operation_kind": "hot_work", "area_class": "pipe_rack"}, "pipe-rack-a", ("significant", "orange")),
             ({"operation_kind": "lifting", "area_class": "general"}, "warehouse", ("general", "yellow")),
             ({"operation_kind": "routine", "area_class": "general"}, "warehouse", ("low", "blue")),
             ({"operation_kind": "maintenance", "area_class": "pipe_rack", "at_night": True}, "pipe-rack-a",
              ("general", "yellow")),                           # blue upgraded one grade at night
             ({"operation_kind": "hot_work", "area_class": "major_hazard_tank_farm", "on_holiday": True},
              "tank-farm-3", ("major", "red"))]                  # red stays red
    for changes, area, expected in cases:
        v = plant.variables(submitted(plant, area, **changes))
        assert (v["risk_grade"], v["risk_colour"]) == expected, changes


def test_supervision_checks_are_scheduled_inside_the_work_window_only(plant):
    iid = submitted(plant)                                  # orange: a check every 2 h, 10:00-15:00
    v = plant.variables(iid)
    assert v["supervisor"] == "safety1"                     # from the area responsibility list
    assert v["supervision_checks"] == ["2026-03-02T10:00:00+00:00", "2026-03-02T12:00:00+00:00",
                                       "2026-03-02T14:00:00+00:00"]
    assert plant.sees("prod1", iid) == ["作业计划执行"]
    assert checks_seen(plant, iid) == []                    # 09:00: work has not started, nobody checks
    plant.later(hours=1, minutes=1)
    assert len(checks_seen(plant, iid)) == 1
    plant.complete("safety2", iid, "supervision_check", {"findings": "动火点已隔离", "compliant": True})
    plant.later(hours=2)
    plant.later(hours=2)
    assert len(checks_seen(plant, iid)) == 2                # 12:00 and 14:00
    plant.later(hours=3)                                    # 17:00: the window is over
    assert len(checks_seen(plant, iid)) == 2
    for t in checks_seen(plant, iid):
        assert "2026-03-02T10:00" <= t["created_at"] < "2026-03-02T15:00"
    plant.complete("prod1", iid, "execute", {"action": "complete", "summary": "检修完成"})
    assert checks_seen(plant, iid) == []                    # open checks close with the plan
    assert plant.status(iid) == "completed"


def test_a_plan_change_resynchronises_the_supervision_plan(plant):
    iid = submitted(plant)
    plant.complete("prod1", iid, "execute", {"action": "change", "summary": "推迟并改在装置区"})
    assert plant.sees("prod1", iid) == ["变更作业计划"]
    plant.complete("prod1", iid, "change_plan", {
        **PLAN, "area_class": "fire_explosion", "window_start": "2026-03-02T13:00:00+00:00",
        "window_end": "2026-03-02T16:00:00+00:00"})
    v = plant.variables(iid)
    assert (v["risk_colour"], v["plan_revision"]) == ("red", 2)
    assert v["supervision_checks"] == ["2026-03-02T13:00:00+00:00", "2026-03-02T14:00:00+00:00",
                                       "2026-03-02T15:00:00+00:00"]
    plant.later(hours=3, minutes=1)                         # 12:01: the old 10:00/12:00 checks are gone
    assert checks_seen(plant, iid) == []
    plant.later(hours=1)
    assert len(checks_seen(plant, iid)) == 1
