"""作业计划: DMN risk grading 红橙黄蓝, supervision checks only inside the work window, change re-syncs."""
from tests.test_library_support import plant  # noqa: F401

PLAN = {"plan_period": "daily", "content": "P-101 泵检修动火", "operation_kind": "hot_work",
        "area_class": "pipe_rack", "workers": ["张工", "李工"], "window_start": "2026-03-02T10:00:00+00:00",
        "window_end": "2026-03-02T15:00:00+00:00", "risk_points": ["管线残存物料", "交叉作业"],
        "special_operations": ["hot_work"], "at_night": False, "on_holiday": False}


def submitted(plant, area="pipe-rack-a", business_key=None, **changes):
    iid = plant.start("prod1", "work_plan", {"area": area}, business_key=business_key)
    assert plant.sees("prod1", iid) == ["提交作业计划"]
    plant.complete("prod1", iid, "submit_plan", {**PLAN, **changes})
    plant.jobs()                                            # the worker reads the hub's focus items
    return iid


def checks_seen(plant, iid, user="safety1"):
    """Supervision checks ``user`` sees: the area supervisor (pipe-rack-a: safety1) is the assignee."""
    return [t for t in plant.tasks(user, iid) if t["bpmn_id"] == "supervision_check"]


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
    assert checks_seen(plant, iid, "safety2") == []         # assigned to the area supervisor
    plant.complete("safety1", iid, "supervision_check", {"findings": "动火点已隔离", "compliant": True})
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
    plant.jobs()                                            # focus items are read again for the new plan
    v = plant.variables(iid)
    assert (v["risk_colour"], v["plan_revision"]) == ("red", 2)
    assert v["supervision_checks"] == ["2026-03-02T13:00:00+00:00", "2026-03-02T14:00:00+00:00",
                                       "2026-03-02T15:00:00+00:00"]
    plant.later(hours=3, minutes=1)                         # 12:01: the old 10:00/12:00 checks are gone
    assert checks_seen(plant, iid) == []
    plant.later(hours=1)
    assert len(checks_seen(plant, iid)) == 1


def test_special_operations_are_linked_to_their_permits(plant):
    from tests.test_library_confined_space import APPLICATION as CS_APPLICATION, ISOLATED
    from tests.test_library_hot_work import APPLICATION as HW_APPLICATION

    iid = submitted(plant, "unit-1", plan_no="JH-0302-01", area_class="fire_explosion",
                    special_operations=["hot_work", "confined_space"])           # red: a check every hour
    v = plant.variables(iid)
    assert (v["special_ops_missing"], v["permits_complete"], v["permit_links"]) == (
        ["hot_work", "confined_space"], False, [])
    # The work leader applies for the hot-work permit naming the plan: the plan records the link.
    hot = plant.start("worker1", "hot_work_permit", {"area": "unit-1"})
    plant.complete("worker1", hot, "hw_apply", {**HW_APPLICATION, "work_plan_ref": "JH-0302-01"})
    plant.jobs()                                                                 # the worker delivers the message
    v = plant.variables(iid)
    assert [(l["operation_kind"], l["content"]) for l in v["permit_links"]] == [("hot_work", "P-101 出口管线焊接")]
    assert (v["special_ops_permitted"], v["special_ops_missing"]) == (["hot_work"], ["confined_space"])
    assert plant.variables(hot)["work_plan_linked"] is True
    assert plant.sees("prod1", iid) == ["作业计划执行"]                            # production keeps working
    # Sent back and applied for again: still one link.
    plant.complete("prod1", hot, "hw_unit_review", {"decision": "send_back", "comment": "补充"})
    plant.complete("worker1", hot, "hw_apply", {**HW_APPLICATION, "work_plan_ref": "JH-0302-01"})
    plant.jobs()
    assert len(plant.variables(iid)["permit_links"]) == 1
    # When the window opens, the supervisor's first check shows what still has no permit.
    plant.later(hours=1)                                                         # 10:00
    [check] = checks_seen(plant, iid)
    assert plant.form("safety1", iid, "supervision_check")["data"]["check_permits_missing"] == ["confined_space"]
    # The confined-space permit follows during the window; checks that already fired are not replayed.
    plant.later(minutes=30)
    entry = plant.start("worker1", "confined_space_permit", {"area": "unit-1"})
    plant.complete("worker1", entry, "cs_apply", {**CS_APPLICATION, "work_plan_ref": "JH-0302-01"})
    plant.jobs()
    v = plant.variables(iid)
    assert (v["special_ops_missing"], v["permits_complete"]) == ([], True)
    assert [l["instance_id"] for l in v["permit_links"]] == [hot, entry]
    assert len(checks_seen(plant, iid)) == 1                                     # still only the 10:00 check
    plant.later(minutes=30)                                                      # 11:00
    assert len(checks_seen(plant, iid)) == 2
    # A permit naming a plan that does not exist is refused at application and links nowhere.
    other = plant.start("worker1", "confined_space_permit", {"area": "unit-1"})
    plant.complete("worker1", other, "cs_apply", {**CS_APPLICATION, "work_plan_ref": "JH-OTHER"})
    plant.jobs()
    assert plant.sees("worker1", other) == ["受限空间作业申请"]
    assert "JH-OTHER" in plant.form("worker1", other, "cs_apply")["data"]["work_plan_ref_error"]
    plant.complete("leader1", entry, "cs_isolation", ISOLATED)
    assert len(plant.variables(iid)["permit_links"]) == 2


def test_the_supervision_plan_takes_the_hubs_focus_items_for_the_area(plant, platform):
    from engine.hub.models import AnalysisRun, FocusItem
    from tests.hub_support import truncate_hub

    truncate_hub(platform.db)
    with platform.db.session() as s:
        run = AnalysisRun(analysis="equipment_risk", period="2026-02", params={}, input_digest="0" * 64, result={},
                          result_digest="0" * 64)
        s.add(run)
        s.flush()
        s.add_all([
            FocusItem(analysis="equipment_risk", period="2026-02", run_id=run.id, target_kind="equipment",
                      target="P-101", area="pipe-rack-a", reason="P-101 振动超限 3 次，检修后首周重点监督"),
            FocusItem(analysis="violations", period="2026-02", run_id=run.id, target_kind="team", target="班组 2",
                      area="pipe-rack-a", reason="已处理", status="closed"),
            FocusItem(analysis="violations", period="2026-02", run_id=run.id, target_kind="area",
                      target="unit-1", area="unit-1", reason="合成装置区违章率上升")])
    try:
        iid = submitted(plant)
        v = plant.variables(iid)
        assert [(f["target_kind"], f["target"]) for f in v["hub_focus_items"]] == [("equipment", "P-101")]
        assert v["supervision_focus"][0] == v["focus_items"]                      # from the risk grade (DMN)
        assert v["supervision_focus"][1:] == ["P-101 振动超限 3 次，检修后首周重点监督"]
        plant.later(hours=1)
        assert "P-101 振动超限" in str(plant.form("safety1", iid, "supervision_check")["data"]["supervision_focus"])
        # No focus items for the area: the plan still has the risk grade's focus.
        assert plant.variables(submitted(plant, "warehouse", area_class="general"))["hub_focus_items"] == []
    finally:
        truncate_hub(platform.db)


def test_a_permit_naming_no_running_plan_is_refused_and_nothing_is_linked(plant):
    from tests.test_library_hot_work import APPLICATION as HW_APPLICATION

    plan = submitted(plant, "unit-1", plan_no="JH-0302-02", area_class="fire_explosion")
    hot = plant.start("worker1", "hot_work_permit", {"area": "unit-1"})
    # A typing error in the plan number: refused with the reason, the plan records nothing.
    plant.complete("worker1", hot, "hw_apply", {**HW_APPLICATION, "work_plan_ref": "JH-0302-2"})
    plant.jobs()
    assert plant.sees("worker1", hot) == ["动火作业申请（含危害分析）"]
    assert plant.sees("prod1", hot) == []
    error = plant.form("worker1", hot, "hw_apply")["data"]["work_plan_ref_error"]
    assert "JH-0302-2" in error and "不存在" in error
    assert plant.variables(hot)["work_plan_linked"] is False
    assert plant.variables(plan)["permit_links"] == []
    # A plan that was carried out and closed is no longer running: its number is refused too.
    plant.complete("prod1", plan, "execute", {"action": "complete", "summary": "检修完成"})
    assert plant.status(plan) == "completed"
    plant.complete("worker1", hot, "hw_apply", {**HW_APPLICATION, "work_plan_ref": "JH-0302-02"})
    assert plant.sees("worker1", hot) == ["动火作业申请（含危害分析）"]
    # The right number of a running plan (surrounding blanks ignored) is accepted and linked.
    running = submitted(plant, "unit-1", plan_no="JH-0302-03", area_class="fire_explosion")
    plant.complete("worker1", hot, "hw_apply", {**HW_APPLICATION, "work_plan_ref": " JH-0302-03 "})
    plant.jobs()
    assert plant.sees("prod1", hot) == ["作业单位审核"]
    v = plant.variables(hot)
    assert (v["work_plan_linked"], v["work_plan_ref"], v["work_plan_ref_error"]) == (True, "JH-0302-03", "")
    assert [l["instance_id"] for l in plant.variables(running)["permit_links"]] == [hot]


def _running(platform, key: str, count: int, variables) -> None:
    """``count`` bare waiting instances of ``key`` in unit-1, as rows only (nothing runs them): what
    ``active_instances`` reads of a busy plant, without driving 200 processes through the API."""
    from sqlalchemy import select

    from engine.models import ProcessDefinition, ProcessInstance

    with platform.db.session() as s:
        definition = s.execute(select(ProcessDefinition).where(ProcessDefinition.key == key)
                               .order_by(ProcessDefinition.version.desc())).scalars().first()
        s.add_all([ProcessInstance(definition_id=definition.id, process_key=key, definition_version=definition.version,
                                   status="waiting", department=None, area="unit-1", state="{}",
                                   variables={"area": "unit-1", **variables(n)}, started_by="prod1")
                   for n in range(count)])


def test_the_plan_and_its_permits_are_found_among_more_than_200_running(plant, platform):
    from engine.script_queries import MAX_ROWS, active_instances_helper
    from tests.test_library_hot_work import APPLICATION as HW_APPLICATION

    _running(platform, "work_plan", 204, lambda n: {"plan_no": f"JH-0301-{n:03d}"})
    _running(platform, "hot_work_permit", 204, lambda n: {"work_plan_ref": f"JH-0301-{n:03d}",
                                                          "permit_status": "applied"})
    plan = submitted(plant, "unit-1", plan_no="JH-0302-99", area_class="fire_explosion")   # the 205th, newest
    listed = active_instances_helper(platform.db)("work_plan", "unit-1", ("plan_no",))
    assert len(listed) == MAX_ROWS and plan not in [p["id"] for p in listed]             # beyond the cap
    hot = plant.start("worker1", "hot_work_permit", {"area": "unit-1"})                  # the 205th permit
    plant.complete("worker1", hot, "hw_apply", {**HW_APPLICATION, "work_plan_ref": "JH-0302-99"})
    plant.jobs()
    assert plant.sees("prod1", hot) == ["作业单位审核"]                                   # accepted, not sent back
    v = plant.variables(hot)
    assert (v["work_plan_linked"], v["work_plan_ref"], v["work_plan_ref_error"]) == (True, "JH-0302-99", "")
    v = plant.variables(plan)
    assert [(l["instance_id"], l["operation_kind"]) for l in v["permit_links"]] == [(hot, "hot_work")]
    assert (v["special_ops_permitted"], v["special_ops_missing"]) == (["hot_work"], [])


def test_a_plan_lists_one_permit_per_special_operation_and_links_each_kind(plant, monkeypatch):
    """GB 30871-2022 4.6: a job combining kinds needs a permit of each. The plan lists per planned kind
    the permit process it needs and the permits linked for it; a permit of another kind than planned
    is linked (it names the plan) but covers nothing planned. Lifting runs as a stand-in until its
    diagram is in bpmn/ (tests/mini_permits.py)."""
    from tests.mini_permits import deploy_mini
    from tests.test_library_confined_space import APPLICATION as CS_APPLICATION
    from tests.test_library_hot_work import APPLICATION as HW_APPLICATION

    deploy_mini(plant, monkeypatch, "lifting", "height")
    iid = submitted(plant, "unit-1", plan_no="JH-0302-09", area_class="fire_explosion",
                    special_operations=["hot_work", "confined_space", "lifting"])
    v = plant.variables(iid)
    assert v["permits_needed"] == [
        {"operation_kind": "hot_work", "process_key": "hot_work_permit", "linked": []},
        {"operation_kind": "confined_space", "process_key": "confined_space_permit", "linked": []},
        {"operation_kind": "lifting", "process_key": "lifting_permit", "linked": []}]
    hot = plant.start("worker1", "hot_work_permit", {"area": "unit-1"})
    plant.complete("worker1", hot, "hw_apply", {**HW_APPLICATION, "work_plan_ref": "JH-0302-09"})
    lift = plant.start("worker1", "lifting_permit", {"area": "unit-1", "work_plan_ref": "JH-0302-09",
                                                     "work_content": "换热器吊装"})
    plant.jobs()
    v = plant.variables(iid)
    assert [(n["operation_kind"], n["linked"]) for n in v["permits_needed"]] == [
        ("hot_work", [hot]), ("confined_space", []), ("lifting", [lift])]
    assert (v["special_ops_missing"], v["permits_complete"]) == (["confined_space"], False)
    # Work at height was not planned: its permit is linked, but covers nothing planned.
    high = plant.start("worker1", "height_permit", {"area": "unit-1", "work_plan_ref": "JH-0302-09"})
    plant.jobs()
    v = plant.variables(iid)
    assert ("height", high) in [(l["operation_kind"], l["instance_id"]) for l in v["permit_links"]]
    assert v["special_ops_missing"] == ["confined_space"]
    entry = plant.start("worker1", "confined_space_permit", {"area": "unit-1"})
    plant.complete("worker1", entry, "cs_apply", {**CS_APPLICATION, "work_plan_ref": "JH-0302-09"})
    plant.jobs()
    v = plant.variables(iid)
    assert [(n["operation_kind"], n["linked"]) for n in v["permits_needed"]] == [
        ("hot_work", [hot]), ("confined_space", [entry]), ("lifting", [lift])]
    assert (v["special_ops_missing"], v["permits_complete"]) == ([], True)
    assert [l["content"] for l in v["permit_links"] if l["instance_id"] == lift] == ["换热器吊装"]
