"""预警处置: started by an `alert` message; deadline by grade; red → stop work in the area and four
coordinated departments; closed with a disposal record; orange/red reviewed, actions tracked as duties."""
from engine.principal import SYSTEM
from tests.test_library_hot_work import working
from tests.test_library_stop_restart import run_jobs
from tests.test_library_support import plant  # noqa: F401

DISPOSAL = {"measures": "关闭根部阀，检漏", "result": "eliminated", "handled_at": "2026-03-02T09:30:00+00:00",
            "handler": "王主任"}


def alert(plant, grade, n=1, business_key=None, **extra):
    payload = {"alert_grade": grade, "description": "GD-101 可燃气体报警",
               "reading": {"lel_pct": 30, "detector": "GD-101"}, **extra}
    # the scope comes from the correlation values (declared start variables), the rest is payload
    r = plant.api.post("/api/v1/messages", "safety1",
                       json={"name": "alert", "message_id": f"ALERT-{grade}-{n}", "payload": payload,
                             "correlation": {"area": "unit-1", "department": "workshop-1"},
                             "business_key": business_key})
    assert r.status_code == 200, r.json
    started = [i for i in r.json["instances"] if i.get("started")]
    assert len(started) == 1
    return started[0]["id"]


def test_yellow_alert_is_handled_by_the_owner_department_without_review(plant):
    iid = alert(plant, "yellow")
    assert plant.sees("prod1", iid) == ["预警处置"]
    assert plant.sees("prod2", iid) == []                     # owner department only
    assert plant.task("prod1", iid, "al_handle")["due_at"].startswith("2026-03-02T13:00")   # 4 h
    r = plant.try_complete("prod1", iid, "al_handle", {"measures": "已处理"})
    assert r.status_code == 422                               # no closing without a disposal record
    plant.complete("prod1", iid, "al_handle", DISPOSAL)
    assert plant.status(iid) == "completed"
    assert plant.variables(iid)["alert_status"] == "closed"


RED_TASKS = {"prod1": "红色预警：生产处置", "maint1": "红色预警：设备处置",
             "safety1": "红色预警：现场监督", "emerg1": "红色预警：应急响应"}


def assert_red_response(plant, platform, permit, iid):
    """Red stops the work in the area and gives each of the four departments its handling task."""
    run_jobs(platform)
    assert plant.variables(permit)["permit_status"] == "suspended"
    for user, name in RED_TASKS.items():
        assert plant.sees(user, iid) == [name]


def test_blue_alert_has_a_day(plant):
    iid = alert(plant, "blue", description="GD-101 数据中断")
    assert plant.task("prod1", iid, "al_handle")["due_at"].startswith("2026-03-03T09:00")


def test_red_alert_stops_work_coordinates_four_departments_and_tracks_review_actions(plant, platform):
    permit = working(plant, "unit-1")
    iid = alert(plant, "red")
    assert_red_response(plant, platform, permit, iid)
    assert plant.task("emerg1", iid, "al_emergency")["due_at"].startswith("2026-03-02T09:15")   # 15 min
    plant.complete("prod1", iid, "al_production", {"production_measures": ["isolate"], "people_evacuated": True})
    plant.complete("maint1", iid, "al_maintenance", {"leak_point": "法兰", "isolation_done": True,
                                                     "repair_status": "repaired"})
    plant.complete("safety1", iid, "al_supervision", {"work_stopped_confirmed": True, "site_findings": "已停工"})
    assert plant.sees("safety1", iid) == []                    # waits for all four
    plant.complete("emerg1", iid, "al_emergency", {"team_dispatched": True, "cordon_set": True, "casualties": 0})
    plant.complete("safety1", iid, "al_close_red", DISPOSAL)
    review = plant.form("safety2", iid, "al_review")
    assert review["data"]["review_timeline"][0]["reading"] == {"lel_pct": 30, "detector": "GD-101"}
    plant.complete("safety2", iid, "al_review", {
        "causes": ["法兰垫片老化"], "lessons": "加强垫片定期更换",
        "improvement_actions": [{"action": "全装置法兰垫片排查", "owner_department": "workshop-1"},
                                {"action": "补充备件", "owner_department": "maintenance"}]})
    # Each improvement action is now a tracked duty of its department (three-level supervision).
    assert plant.sees("prod1", iid) == ["落实督办事项"]
    assert plant.sees("prod2", iid) == []
    plant.complete("prod1", iid, "duty", {"result": "排查完成", "completed_at": "2026-03-03T09:00:00+00:00"})
    assert plant.status(iid) != "completed"                    # the other department's action is open
    duty = [t for t in plant.instance(iid)["active_tasks"] if t["bpmn_id"] == "duty"]
    assert [t["department"] for t in duty] == ["maintenance"]
    # The maintenance department's duty is for its maintenance post (candidate_role from the department's
    # kind), not for production: maint1 sees and completes it; it cannot be handed to a production user.
    assert [t["candidate_roles"] for t in duty] == [["maintenance"]]
    assert plant.sees("maint1", iid) == ["落实督办事项"]
    r = plant.api.post(f"/api/v1/tasks/{duty[0]['id']}/assign", "safety1", json={"user": "prod1"})
    assert r.status_code == 403 and r.json["reason"] == "role", r.json
    plant.complete("maint1", iid, "duty", {"result": "已补充", "completed_at": "2026-03-03T10:00:00+00:00"})
    assert plant.status(iid) == "completed"


def test_overdue_orange_alert_escalates_and_is_reviewed(plant):
    iid = alert(plant, "orange")
    plant.later(minutes=61)                                    # orange: 1 h to handle
    assert plant.sees("prod1", iid) == ["落实督办事项"]
    plant.later(hours=1, minutes=1)                            # alert disposal: T1 = 1 h
    assert plant.sees("head1", iid) == ["二级督办（部门负责人）"]
    plant.complete("prod1", iid, "duty", {"result": "已处置：更换传感器", "completed_at": "2026-03-02T11:05:00+00:00"})
    assert plant.sees("safety1", iid) == ["预警复盘"]
    plant.complete("safety1", iid, "al_review", {"causes": ["传感器漂移"], "improvement_actions": [],
                                                 "lessons": "按期标定"})
    assert plant.status(iid) == "completed"


def escalate(plant, business_key, grade, previous):
    r = plant.api.post("/api/v1/messages", "safety1", json={
        "name": "alert_escalated", "business_key": business_key,
        "payload": {"escalated_grade": grade, "previous_grade": previous}})
    assert r.status_code == 200, r.json
    return r.json


def test_escalation_reaches_the_running_process_new_owner_deadline_and_red_coordination(plant, platform):
    permit = working(plant, "unit-1")
    iid = alert(plant, "yellow", business_key="alert-77")
    task = plant.task("prod1", iid, "al_handle")
    assert task["due_at"].startswith("2026-03-02T13:00")                 # yellow: 4 h
    assert plant.variables(iid)["owner_department"] == "workshop-1"      # yellow: the area's department
    plant.later(minutes=10)
    escalate(plant, "alert-77", "orange", "yellow")
    again = plant.task("prod1", iid, "al_handle")                         # a new handling task, 1 h from now
    assert again["id"] != task["id"] and again["due_at"].startswith("2026-03-02T10:10")
    v = plant.variables(iid)
    assert v["alert_grade"] == "orange" and v["owner_department"] == "safety" and v["grade_name"] == "橙色"
    assert v["received_at"].startswith("2026-03-02T09:00")              # the first receipt is kept
    assert [(e["from"], e["to"]) for e in v["escalations"]] == [("yellow", "orange")]
    assert plant.variables(permit)["permit_status"] != "suspended"
    plant.later(minutes=5)
    escalate(plant, "alert-77", "red", "orange")
    assert_red_response(plant, platform, permit, iid)
    assert plant.task("emerg1", iid, "al_emergency")["due_at"].startswith("2026-03-02T09:30")   # 15 min from 09:15
    # the overdue timer of the old handling task is gone with it: nothing fires at the old deadlines
    plant.later(hours=5)
    assert sorted(plant.active(iid)) == ["al_emergency", "al_maintenance", "al_production", "al_supervision"]


def test_an_escalation_while_nothing_waits_for_it_is_answered_404(plant):
    iid = alert(plant, "red", business_key="alert-78")
    r = plant.api.post("/api/v1/messages", "safety1", json={"name": "alert_escalated", "business_key": "alert-78",
                                                             "payload": {"escalated_grade": "red"}})
    assert r.status_code == 404 and plant.status(iid) != "completed"


def test_a_gas_alert_escalating_over_rest_regrades_its_running_alert_response(plant, platform):
    """Telemetry → yellow alert → alert_response; a level-2 reading → orange: the process takes the new grade."""
    platform.iot.reset_state()
    platform.iot.devices.create(SYSTEM, {"id": "GD-201", "type": "combustible_lel", "area": "unit-1", "gas": "methane"})
    r = plant.api.post("/api/v1/telemetry", "maint1", json={"device": "GD-201", "value": 30})
    assert r.status_code == 200, r.json
    [opened] = [a for a in r.json["alerts"] if a["rule"] == "gas_threshold"]
    a = plant.api.get(f"/api/v1/alerts/{opened['id']}", "safety1").json
    assert a["grade"] == "yellow" and a["process_status"] == "started"
    # the alert row and the process take deadline and owner from the same alert_policy table
    assert a["deadline_at"].startswith("2026-03-02T13:00") and a["owner_department"] == "workshop-1"
    iid = a["process_instance_id"]
    assert plant.task("prod1", iid, "al_handle")["due_at"].startswith("2026-03-02T13:00")
    plant.later(minutes=10)
    r = plant.api.post("/api/v1/telemetry", "maint1", json={"device": "GD-201", "value": 55})
    assert [x["outcome"] for x in r.json["alerts"] if x["rule"] == "gas_threshold"] == ["escalated"]
    a = plant.api.get(f"/api/v1/alerts/{opened['id']}", "safety1").json
    assert a["grade"] == "orange" and a["owner_department"] == "safety"
    assert a["deadline_at"].startswith("2026-03-02T10:10")
    told = [e for e in a["events"] if e["kind"] == "escalation_message"]
    assert told and told[0]["data"]["status"] == "delivered"
    assert [i["id"] for i in told[0]["data"]["instances"]] == [iid]
    v = plant.variables(iid)
    assert v["alert_grade"] == "orange" and v["owner_department"] == "safety"
    assert plant.task("prod1", iid, "al_handle")["due_at"].startswith("2026-03-02T10:10")
