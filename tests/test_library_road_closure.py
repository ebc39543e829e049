"""断路作业票 (GB 30871-2022 ch. 12): traffic arrangements in the application, unit review with SIMOPS,
safety department approval with segregation of duties, fire/emergency and affected units notified at the
issue and at the reopening, signs and warning lamps checked on site, stop_work suspension, validity from
the issue, acceptance."""
from tests.test_library_support import plant  # noqa: F401

APPLICATION = {
    "work_content": "穿路管线施工", "location_detail": "三号路 B3–B5 段", "closure_type": "full",
    "detour_route": "经四号路绕行", "emergency_access": "消防车经四号路进入装置区东门", "traffic_plan_ref": "JT-2026-07",
    "affected_units": ["storage"], "at_night": False, "bad_weather": False,
    "planned_start": "2026-03-02T09:30:00+00:00", "planned_hours": 6, "traffic_controller": True, "monitor": "李监护",
    "hazards": ["车辆伤害"], "control_measures": ["设路栏和警示标志", "专人指挥交通"]}
APPROVE = {"decision": "approve", "on_site": True}
SITE = {"barriers_cones": True, "emergency_route_open": True, "monitor_present": True, "signboards": True,
        "lamps_installed": False, "lamp_height_m": 0}
ACCEPT = {"site_cleared": True, "signs_removed": True, "road_open": True}
WORK = "断路作业"


def applied(plant, area="pipe-rack-a", **changes):
    iid = plant.start("worker1", "road_closure_permit", {"area": area})
    assert plant.sees("worker1", iid) == ["断路作业申请（含交通组织）"]
    plant.complete("worker1", iid, "rc_apply", {**APPLICATION, **changes})
    return iid


def approved(plant, area="pipe-rack-a", coordinator=None, **changes):
    iid = applied(plant, area, **changes)
    plant.complete("prod1", iid, "rc_unit_review", {**APPROVE, "coordinator": coordinator} if coordinator else APPROVE)
    plant.complete("safety1", iid, "rc_approval", APPROVE)
    plant.jobs()                                                           # the notification
    return iid


def working(plant, area="pipe-rack-a", **changes):
    iid = approved(plant, area, **changes)
    plant.complete("leader1", iid, "rc_site_check", SITE)
    assert plant.sees("worker1", iid) == [WORK]
    return iid


def notifications(plant, iid):
    return [e["data"] for e in plant.instance(iid)["timeline"] if e["kind"] == "service_task"]


def test_chain_notification_site_check_work_reopening_and_acceptance(plant):
    iid = applied(plant)
    assert plant.sees("prod1", iid) == ["作业单位审核"]
    plant.complete("prod1", iid, "rc_unit_review", APPROVE)
    assert plant.sees("safety1", iid) == ["安全管理部门审批"]
    assert plant.sees("prod1", iid) == []                                  # the safety department's, not the unit's
    plant.complete("safety1", iid, "rc_approval", APPROVE)
    v = plant.variables(iid)
    assert v["permit_status"] == "issued" and v["permit_expires_at"].startswith("2026-03-03T09:00")   # 24 h
    plant.jobs()
    assert "notify_closure" not in plant.active(iid)
    [sent] = notifications(plant, iid)
    assert sent["operator"] == "notify/people"
    assert plant.variables(iid)["notify_result"] is not None
    assert plant.sees("leader1", iid) == ["断路前现场确认"]
    plant.complete("leader1", iid, "rc_site_check", SITE)
    assert plant.sees("worker1", iid) == [WORK] and plant.variables(iid)["permit_status"] == "active"
    r = plant.api.get("/api/v1/permits?type=road_closure", "safety1")
    assert [(p["status"], p["location"]) for p in r.json["items"] if p["id"] == iid] == [("working", "三号路 B3–B5 段")]
    plant.complete("worker1", iid, "rc_work", {"action": "complete"})
    r = plant.try_complete("prod1", iid, "rc_acceptance", {**ACCEPT, "road_open": False})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "road_open"
    plant.complete("prod1", iid, "rc_acceptance", ACCEPT)
    plant.jobs()                                                           # the reopening is announced
    assert plant.status(iid) == "completed" and plant.variables(iid)["permit_status"] == "closed"
    assert len(notifications(plant, iid)) == 2


def test_signs_and_warning_lamps_by_time_weather_and_job_length(plant):
    iid = approved(plant, at_night=True)
    assert plant.variables(iid)["lamps_required"] is True
    plant.complete("leader1", iid, "rc_site_check", SITE)                     # no lamps at night
    assert plant.sees("leader1", iid) == ["断路前现场确认"]
    assert "12.4" in plant.form("leader1", iid, "rc_site_check")["data"]["site_check_error"]
    plant.complete("leader1", iid, "rc_site_check", {**SITE, "lamps_installed": True, "lamp_height_m": 0.6})
    assert "0.6 m" in plant.form("leader1", iid, "rc_site_check")["data"]["site_check_error"]   # too low
    plant.complete("leader1", iid, "rc_site_check", {**SITE, "lamps_installed": True, "lamp_height_m": 1.2})
    assert plant.sees("worker1", iid) == [WORK]
    # A short job by day with someone directing the traffic needs no signboards (12.3); a longer one does.
    short = approved(plant, "warehouse", planned_hours=1.5)
    plant.complete("leader1", short, "rc_site_check", {**SITE, "signboards": False})
    assert plant.sees("worker1", short) == [WORK]
    long = approved(plant, "tank-farm-3", planned_hours=3)
    plant.complete("leader1", long, "rc_site_check", {**SITE, "signboards": False})
    assert "标志牌" in plant.form("leader1", long, "rc_site_check")["data"]["site_check_error"]
    fog = approved(plant, "unit-1", bad_weather=True)
    assert plant.variables(fog)["lamps_required"] is True


def test_segregation_send_back_and_reject(plant, platform):
    platform.users.add_user("dual4", "anjian-demo", ["production", "supervision"], "workshop-1", "兼岗", replace=True)
    iid = applied(plant)
    plant.complete("dual4", iid, "rc_unit_review", APPROVE)
    r = plant.try_complete("dual4", iid, "rc_approval", APPROVE)
    assert r.status_code == 403 and "segregation" in r.json["detail"]
    plant.complete("safety1", iid, "rc_approval", {"decision": "send_back", "comment": "补充夜间警示措施"})
    assert plant.sees("worker1", iid) == ["断路作业申请（含交通组织）"]
    plant.complete("worker1", iid, "rc_apply", APPLICATION)
    plant.complete("prod1", iid, "rc_unit_review", {"decision": "send_back"})
    assert plant.sees("worker1", iid) == ["断路作业申请（含交通组织）"]
    plant.complete("worker1", iid, "rc_apply", APPLICATION)
    plant.complete("prod1", iid, "rc_unit_review", APPROVE)
    plant.complete("safety1", iid, "rc_approval", {"decision": "reject"})
    assert plant.status(iid) == "completed" and plant.variables(iid)["permit_status"] == "rejected"
    other = applied(plant)
    plant.complete("prod1", other, "rc_unit_review", {"decision": "reject"})
    assert plant.variables(other)["permit_status"] == "rejected"


def test_review_lists_live_permits_of_the_area_and_needs_a_coordinator(plant):
    from tests.test_library_excavation import working as dig

    excavation = dig(plant, "pipe-rack-a")
    iid = applied(plant)
    listed = plant.form("prod1", iid, "rc_unit_review")["data"]["active_permits_in_area"]
    assert [(p["instance_id"], p["process_key"]) for p in listed] == [(excavation, "excavation_permit")]
    plant.complete("prod1", iid, "rc_unit_review", APPROVE)
    assert plant.sees("prod1", iid) == ["作业单位审核"]
    plant.complete("prod1", iid, "rc_unit_review", {**APPROVE, "coordinator": "赵协调"})
    assert plant.sees("safety1", iid) == ["安全管理部门审批"]


def test_stop_work_suspends_at_the_site_check_and_in_work(plant):
    iid = approved(plant)
    assert plant.message("safety1", "stop_work", {"area": "pipe-rack-a"}).status_code == 200
    assert plant.sees("leader1", iid) == [] and plant.variables(iid)["suspended_by"] == "stop_work"
    assert plant.message("safety1", "restart", {"area": "pipe-rack-a"}).status_code == 200
    plant.complete("leader1", iid, "rc_site_check", SITE)
    assert plant.message("safety1", "stop_work", {"area": "pipe-rack-a"}).status_code == 200
    assert plant.sees("worker1", iid) == [] and plant.variables(iid)["permit_status"] == "suspended"
    r = plant.api.get("/api/v1/permits?type=road_closure", "safety1")
    assert [p["status"] for p in r.json["items"] if p["id"] == iid] == ["suspended"]
    assert plant.message("safety1", "restart", {"area": "pipe-rack-a"}).status_code == 200
    assert plant.sees("leader1", iid) == ["断路前现场确认"]


def test_validity_counts_from_the_issue(plant):
    iid = approved(plant)
    plant.later(hours=25)
    plant.complete("leader1", iid, "rc_site_check", SITE)
    assert plant.variables(iid)["permit_status"] == "expired"
    assert plant.sees("prod1", iid) == ["完工验收、恢复通行"]
    live = working(plant, "warehouse")
    plant.later(hours=24, minutes=1)
    assert plant.sees("worker1", live) == [] and plant.sees("prod1", live) == ["完工验收、恢复通行"]
    plant.complete("prod1", live, "rc_acceptance", ACCEPT)
    plant.jobs()
    assert plant.status(live) == "completed" and plant.variables(live)["permit_status"] == "expired"


def test_a_permit_naming_the_work_plan_is_linked_and_an_unknown_number_refused(plant):
    from tests.test_library_work_plan import submitted

    plan = submitted(plant, plan_no="JH-0302-09", operation_kind="road_closure", special_operations=["road_closure"])
    iid = applied(plant, work_plan_ref="JH-NONE")
    assert "JH-NONE" in plant.form("worker1", iid, "rc_apply")["data"]["work_plan_ref_error"]
    plant.complete("worker1", iid, "rc_apply", {**APPLICATION, "work_plan_ref": "JH-0302-09"})
    plant.jobs()
    v = plant.variables(plan)
    assert (v["special_ops_permitted"], v["permits_complete"]) == (["road_closure"], True)
    assert plant.sees("prod1", iid) == ["作业单位审核"]


def test_a_monitor_who_leaves_pauses_the_closure_work_until_the_site_is_confirmed_again(plant):
    """4.10: the crew pauses the work when the monitor has to leave; the shift leader confirms the site again
    (barriers, emergency route, the monitor present) before the work goes on."""
    iid = working(plant)
    plant.complete("worker1", iid, "rc_work", {"action": "pause", "pause_reason": "monitor_left"})
    assert plant.variables(iid)["permit_status"] == "paused"
    assert plant.sees("worker1", iid) == [] and plant.sees("leader1", iid) == ["断路前现场确认"]
    plant.complete("leader1", iid, "rc_site_check", SITE)
    assert plant.sees("worker1", iid) == [WORK]
    plant.complete("worker1", iid, "rc_work", {"action": "pause", "pause_reason": "weather"})
    assert [p["reason"] for p in plant.variables(iid)["pauses"]] == ["monitor_left", "weather"]
