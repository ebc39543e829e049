"""动土作业票 (GB 30871-2022 ch. 11): buried services confirmed in parallel by the units concerned,
unit approval with SIMOPS and the 11.9 confined-space rule, shoring/ladder by depth and soil, a buried
object that nobody marked stops the work (11.4), stop_work suspension, validity from the issue, acceptance."""
from tests.test_library_support import plant  # noqa: F401

APPLICATION = {
    "work_content": "新建消防水管线沟槽开挖", "location_detail": "P-101 泵区东侧", "method": "mixed", "depth_m": 1.8,
    "area_m2": 12, "soil_type": "clay", "buried_services": ["power_cable"], "sketch_ref": "DT-2026-031",
    "workers": ["张工", "王工"], "monitor": "李监护", "planned_start": "2026-03-02T09:30:00+00:00",
    "hazards": ["塌方", "挖断电缆"], "control_measures": ["放坡", "临近电缆人工挖掘"]}
APPROVE = {"decision": "approve", "on_site": True}
CABLES = {"cables_found": "10 kV 电缆一根，埋深 0.8 m", "cables_marked": True, "cables_clear": True}
FIRE = {"fire_mains_found": "无", "fire_access_kept": True, "fire_clear": True}
SITE = {"services_marked": True, "barriers_signs": True, "drainage": True, "spoil_placement": True,
        "monitor_present": True, "shoring_in_place": True, "ladder_in_place": False}
ACCEPT = {"backfilled": True, "services_intact": True, "signs_removed": True}
WORK = "动土作业"


def applied(plant, area="warehouse", **changes):
    iid = plant.start("worker1", "excavation_permit", {"area": area})
    assert plant.sees("worker1", iid) == ["动土作业申请（含危害分析）"]
    plant.complete("worker1", iid, "ex_apply", {**APPLICATION, **changes})
    return iid


def confirmed(plant, area="warehouse", **changes):
    iid = applied(plant, area, **changes)
    plant.complete("maint1", iid, "ex_cables", CABLES)
    plant.complete("emerg1", iid, "ex_fire", FIRE)
    return iid


def approved(plant, area="warehouse", coordinator=None, **changes):
    iid = confirmed(plant, area, **changes)
    plant.complete("prod1", iid, "ex_unit_review", {**APPROVE, "coordinator": coordinator} if coordinator else APPROVE)
    return iid


def working(plant, area="warehouse", **changes):
    iid = approved(plant, area, **changes)
    plant.complete("leader1", iid, "ex_site_check", SITE)
    assert plant.sees("worker1", iid) == [WORK]
    return iid


def test_units_concerned_confirm_in_parallel_then_the_unit_approves_and_accepts(plant):
    iid = applied(plant)
    v = plant.variables(iid)
    assert (v["shoring_required"], v["ladder_required"], v["needs_confined_space_permit"]) == (True, False, False)
    assert "1.5 m" in v["site_requirements"]                                 # clay: unsupported up to 1.5 m
    # Both units concerned see their confirmation at once; the operating unit waits for both.
    assert plant.sees("maint1", iid) == ["地下电缆确认"]
    assert plant.sees("emerg1", iid) == ["消防管道与通道确认"]
    assert plant.sees("prod1", iid) == []
    plant.complete("emerg1", iid, "ex_fire", FIRE)
    assert plant.sees("prod1", iid) == []
    plant.complete("maint1", iid, "ex_cables", CABLES)
    assert plant.sees("prod1", iid) == ["作业单位审批"]
    assert "department" not in plant.variables(iid)
    plant.complete("prod1", iid, "ex_unit_review", APPROVE)
    v = plant.variables(iid)
    assert v["permit_status"] == "issued" and v["permit_expires_at"].startswith("2026-03-05T09:00")   # 72 h
    assert plant.sees("leader1", iid) == ["动土前现场确认"]
    plant.complete("leader1", iid, "ex_site_check", {**SITE, "shoring_in_place": False})   # 1.8 m in clay
    assert plant.sees("leader1", iid) == ["动土前现场确认"]
    assert "固壁支撑" in plant.form("leader1", iid, "ex_site_check")["data"]["site_check_error"]
    plant.complete("leader1", iid, "ex_site_check", SITE)
    assert plant.sees("worker1", iid) == [WORK] and plant.variables(iid)["permit_status"] == "active"
    r = plant.api.get("/api/v1/permits?type=excavation", "safety1")
    assert [p["status"] for p in r.json["items"] if p["id"] == iid] == ["working"]
    plant.complete("worker1", iid, "ex_work", {"action": "complete"})
    r = plant.try_complete("prod1", iid, "ex_acceptance", {**ACCEPT, "backfilled": False})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "backfilled"
    plant.complete("prod1", iid, "ex_acceptance", ACCEPT)
    assert plant.status(iid) == "completed" and plant.variables(iid)["permit_status"] == "closed"


def test_a_unit_concerned_that_refuses_sends_the_application_back(plant):
    iid = applied(plant)
    plant.complete("maint1", iid, "ex_cables", {**CABLES, "cables_clear": False, "comment": "电缆在开挖范围正下方"})
    plant.complete("emerg1", iid, "ex_fire", FIRE)
    assert plant.sees("worker1", iid) == ["动土作业申请（含危害分析）"]
    assert "设备电气部门" in plant.form("worker1", iid, "ex_apply")["data"]["services_error"]
    plant.complete("worker1", iid, "ex_apply", {**APPLICATION, "location_detail": "P-101 泵区东侧，南移 3 m"})
    assert plant.sees("maint1", iid) == ["地下电缆确认"]                        # confirmed again


def test_depth_soil_and_buried_process_lines_set_the_site_requirements(plant):
    deep = approved(plant, depth_m=2.5, soil_type="hard_clay", buried_services=[])
    v = plant.variables(deep)
    assert (v["shoring_required"], v["ladder_required"]) == (True, True)     # hard clay: 2 m; ladder > 2 m
    plant.complete("leader1", deep, "ex_site_check", SITE)
    assert "梯子" in plant.form("leader1", deep, "ex_site_check")["data"]["site_check_error"]
    plant.complete("leader1", deep, "ex_site_check", {**SITE, "ladder_in_place": True})
    assert plant.sees("worker1", deep) == [WORK]
    shallow = approved(plant, depth_m=0.9, soil_type="sand_gravel", coordinator="赵协调")   # beside `deep`
    plant.complete("leader1", shallow, "ex_site_check", {**SITE, "shoring_in_place": False})
    assert plant.sees("worker1", shallow) == [WORK]                            # 0.9 m in sand: no shoring
    # 11.9: deeper than 1.2 m over flammable/toxic lines in a fire/explosion area needs a confined-space permit.
    iid = confirmed(plant, "unit-1", depth_m=1.5, buried_services=["process_pipe"])
    assert plant.variables(iid)["needs_confined_space_permit"] is True
    plant.complete("prod1", iid, "ex_unit_review", APPROVE)
    assert plant.sees("prod1", iid) == ["作业单位审批"]
    assert "11.9" in plant.form("prod1", iid, "ex_unit_review")["data"]["review_error"]
    plant.complete("prod1", iid, "ex_unit_review", {**APPROVE, "confined_space_permit_ref": "SX-2026-0042"})
    assert plant.sees("leader1", iid) == ["动土前现场确认"]


def test_segregation_send_back_and_reject(plant, platform):
    platform.users.add_user("dual3", "anjian-demo", ["worker", "production"], "workshop-1", "兼岗", replace=True)
    iid = plant.start("dual3", "excavation_permit", {"area": "warehouse"})
    plant.complete("dual3", iid, "ex_apply", APPLICATION)
    plant.complete("maint1", iid, "ex_cables", CABLES)
    plant.complete("emerg1", iid, "ex_fire", FIRE)
    r = plant.try_complete("dual3", iid, "ex_unit_review", APPROVE)
    assert r.status_code == 403 and "segregation" in r.json["detail"]          # the applicant may not approve
    plant.complete("prod1", iid, "ex_unit_review", {"decision": "send_back", "comment": "补充简图"})
    assert plant.sees("dual3", iid) == ["动土作业申请（含危害分析）"]
    plant.complete("dual3", iid, "ex_apply", APPLICATION)
    plant.complete("maint1", iid, "ex_cables", CABLES)
    plant.complete("emerg1", iid, "ex_fire", FIRE)
    plant.complete("prod1", iid, "ex_unit_review", {"decision": "reject"})
    assert plant.status(iid) == "completed" and plant.variables(iid)["permit_status"] == "rejected"


def test_review_lists_live_permits_of_the_area_and_needs_a_coordinator(plant):
    from tests.test_library_temp_power import working as power_working

    power = power_working(plant, "warehouse")
    iid = confirmed(plant)
    listed = plant.form("prod1", iid, "ex_unit_review")["data"]["active_permits_in_area"]
    assert [(p["instance_id"], p["process_key"]) for p in listed] == [(power, "temp_power_permit")]
    plant.complete("prod1", iid, "ex_unit_review", APPROVE)
    assert plant.sees("prod1", iid) == ["作业单位审批"]
    plant.complete("prod1", iid, "ex_unit_review", {**APPROVE, "coordinator": "赵协调"})
    assert plant.sees("leader1", iid) == ["动土前现场确认"]
    # ... and the temporary-power review sees the excavation the other way round.
    from tests.test_library_temp_power import applied as power_applied
    other = power_applied(plant, "warehouse")
    keys = [p["process_key"] for p in plant.form("prod1", other, "tp_unit_review")["data"]["active_permits_in_area"]]
    assert sorted(keys) == ["excavation_permit", "temp_power_permit"]


def test_a_buried_object_stops_the_work_until_the_unit_has_dealt_with_it(plant):
    iid = working(plant)
    plant.complete("worker1", iid, "ex_work", {"action": "buried_object", "note": "挖出不明铸铁管"})
    v = plant.variables(iid)
    assert (v["permit_status"], v["suspended_by"]) == ("suspended", "buried_object")
    assert plant.sees("worker1", iid) == []
    r = plant.api.get("/api/v1/permits?type=excavation", "safety1")
    assert [p["status"] for p in r.json["items"] if p["id"] == iid] == ["suspended"]
    obj = {"identified_as": "废弃铸铁排水管", "protected": True, "measures": "支垫保护，人工清理", "object_decision": "resume"}
    plant.complete("prod1", iid, "ex_object", obj)
    assert plant.sees("leader1", iid) == ["动土前现场确认"]                    # a new site check first
    plant.complete("leader1", iid, "ex_site_check", SITE)
    plant.complete("worker1", iid, "ex_work", {"action": "buried_object"})
    plant.complete("prod1", iid, "ex_object", {**obj, "identified_as": "未登记的光缆", "object_decision": "end"})
    assert plant.sees("prod1", iid) == ["完工验收"]
    plant.complete("prod1", iid, "ex_acceptance", ACCEPT)
    v = plant.variables(iid)
    assert plant.status(iid) == "completed" and v["permit_status"] == "cancelled" and len(v["objects_found"]) == 2


def test_stop_work_suspends_at_the_site_check_and_in_work(plant):
    iid = approved(plant)
    assert plant.message("safety1", "stop_work", {"area": "warehouse"}).status_code == 200
    assert plant.sees("leader1", iid) == [] and plant.variables(iid)["suspended_by"] == "stop_work"
    assert plant.message("safety1", "restart", {"area": "warehouse"}).status_code == 200
    plant.complete("leader1", iid, "ex_site_check", SITE)
    assert plant.message("safety1", "stop_work", {"area": "warehouse"}).status_code == 200
    assert plant.sees("worker1", iid) == [] and plant.variables(iid)["permit_status"] == "suspended"
    assert plant.message("safety1", "restart", {"area": "warehouse"}).status_code == 200
    assert plant.sees("leader1", iid) == ["动土前现场确认"]                    # the site is checked again


def test_validity_counts_from_the_issue(plant):
    iid = approved(plant)
    plant.later(hours=73)
    plant.complete("leader1", iid, "ex_site_check", SITE)
    assert plant.variables(iid)["permit_status"] == "expired"
    assert plant.sees("prod1", iid) == ["完工验收"]
    live = working(plant, coordinator="赵协调")
    plant.later(hours=72, minutes=1)
    assert plant.sees("worker1", live) == [] and plant.sees("prod1", live) == ["完工验收"]
    plant.complete("prod1", live, "ex_acceptance", ACCEPT)
    assert plant.variables(live)["permit_status"] == "expired"


def test_a_permit_naming_the_work_plan_is_linked_and_an_unknown_number_refused(plant):
    from tests.test_library_work_plan import submitted

    plan = submitted(plant, "warehouse", plan_no="JH-0302-08", operation_kind="excavation", area_class="general",
                     special_operations=["excavation"])
    iid = applied(plant, work_plan_ref="JH-NONE")
    assert "JH-NONE" in plant.form("worker1", iid, "ex_apply")["data"]["work_plan_ref_error"]
    plant.complete("worker1", iid, "ex_apply", {**APPLICATION, "work_plan_ref": "JH-0302-08"})
    plant.jobs()
    v = plant.variables(plan)
    assert (v["special_ops_permitted"], v["permits_complete"]) == (["excavation"], True)
    assert plant.sees("maint1", iid) == ["地下电缆确认"]


def test_a_monitor_who_leaves_pauses_the_digging_until_the_site_is_confirmed_again(plant):
    """4.10: the crew pauses the work when the monitor has to leave (a pause names its reason); the permit is
    paused in the register, and the dispatch sends it to the shift leader's site check (the monitor present)
    before the digging goes on."""
    iid = working(plant)
    r = plant.try_complete("worker1", iid, "ex_work", {"action": "pause"})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "pause_reason"
    plant.complete("worker1", iid, "ex_work", {"action": "pause", "pause_reason": "monitor_left"})
    v = plant.variables(iid)
    assert v["permit_status"] == "paused" and [p["reason"] for p in v["pauses"]] == ["monitor_left"]
    assert plant.sees("worker1", iid) == [] and plant.sees("leader1", iid) == ["动土前现场确认"]
    r = plant.api.get("/api/v1/permits?type=excavation", "safety1")
    assert [p["status"] for p in r.json["items"] if p["id"] == iid] == ["paused"]
    r = plant.try_complete("leader1", iid, "ex_site_check", {**SITE, "monitor_present": False})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "monitor_present"
    plant.complete("leader1", iid, "ex_site_check", SITE)
    assert plant.sees("worker1", iid) == [WORK] and plant.variables(iid)["permit_status"] == "active"
    plant.complete("worker1", iid, "ex_work", {"action": "complete"})
    assert plant.sees("prod1", iid) == ["完工验收"]
