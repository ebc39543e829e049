"""盲板抽堵作业票 (blinding_permit): one gateway after another through the REST API — approval with
segregation of duties and the SIMOPS check, gas analysis in fire/explosion areas (fail, stale sample,
future sample), the site check, validity from the issue, suspension by stop_work (also while waiting
for the analysis or the site check) and by the area's gas alarm, expiry, acceptance, the register."""
from datetime import timedelta

from tests.test_library_hot_work import working as hot_working
from tests.test_library_support import plant  # noqa: F401

APPLICATION = {
    "work_content": "E-201 入口管线加盲板", "operation": "insert", "pipeline": "P-2001-150-A1",
    "medium": "石脑油", "gas_lel_pct": 1.2, "pressure_mpa": 0.0, "temperature_c": 25,
    "blind_plate_no": "MB-017", "blind_location": "E-201 入口法兰", "blind_spec": "20# DN150 PN16",
    "isolation_list": ["关闭 XV-2001", "排净管内介质"], "planned_start": "2026-03-02T09:30:00+00:00",
    "workers": ["张工"], "monitor": "李监护", "hazards": ["残液喷溅"], "control_measures": ["泄压排净"],
    "briefing_done": True}
APPROVE = {"decision": "approve", "on_site": True}
SITE_OK = {"permit_checked": True, "plate_matches_map": True, "depressurised": True, "isolation_done": True,
           "monitor_present": True, "explosion_proof": True}


def applied(plant, area="warehouse", **changes):
    iid = plant.start("worker1", "blinding_permit", {"area": area})
    assert plant.sees("worker1", iid) == ["盲板抽堵作业申请"]
    plant.complete("worker1", iid, "bl_apply", {**APPLICATION, **changes})
    return iid


def gas(plant, pct=0.1, minutes_ago=5):
    return {"sampled_at": (plant.now() - timedelta(minutes=minutes_ago)).isoformat(), "combustible_pct": pct,
            "toxic_within_limits": True, "analyst": "化验员甲"}


def working(plant, area="warehouse", **changes):
    iid = applied(plant, area, **changes)
    plant.complete("prod1", iid, "bl_unit_review", APPROVE)
    if plant.variables(iid)["gas_analysis_required"]:
        plant.complete("leader1", iid, "bl_gas_analysis", gas(plant))
    plant.complete("leader1", iid, "bl_site_check", SITE_OK)
    assert plant.sees("worker1", iid) == ["盲板抽堵作业"]
    return iid


def test_outside_fire_areas_no_gas_analysis_and_joint_acceptance_closes_it(plant):
    iid = applied(plant)
    v = plant.variables(iid)
    assert (v["area_class"], v["gas_analysis_required"], v["validity_hours"], v["pipeline"]) == (
        "general", False, 24, "P-2001-150-A1")
    assert plant.sees("prod1", iid) == ["作业单位审批"]
    plant.complete("prod1", iid, "bl_unit_review", APPROVE)
    assert plant.variables(iid)["permit_status"] == "issued"
    assert plant.sees("leader1", iid) == ["作业现场确认"]                # no analysis outside fire areas
    plant.complete("leader1", iid, "bl_site_check", {**SITE_OK, "explosion_proof": False})
    assert plant.sees("worker1", iid) == ["盲板抽堵作业"]
    assert plant.variables(iid)["permit_status"] == "active"
    plant.complete("worker1", iid, "bl_work", {"action": "complete"})
    assert plant.sees("worker1", iid) == []
    r = plant.try_complete("prod1", iid, "bl_acceptance", {"plate_state_confirmed": False, "no_leak": True,
                                                            "site_cleared": True})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "plate_state_confirmed"
    plant.complete("prod1", iid, "bl_acceptance", {"plate_state_confirmed": True, "no_leak": True,
                                                   "site_cleared": True})
    assert (plant.status(iid), plant.variables(iid)["permit_status"]) == ("completed", "closed")


def test_the_applicant_cannot_approve_and_the_approver_approves_on_site(plant, platform):
    platform.users.add_user("dual1", "anjian-demo", ["worker", "production"], "workshop-1", "兼岗", replace=True)
    iid = plant.start("dual1", "blinding_permit", {"area": "warehouse"})
    plant.complete("dual1", iid, "bl_apply", APPLICATION)
    r = plant.try_complete("dual1", iid, "bl_unit_review", APPROVE)
    assert r.status_code == 403 and "segregation" in r.json["detail"]
    r = plant.try_complete("prod1", iid, "bl_unit_review", {"decision": "approve", "on_site": False})
    assert r.status_code == 422                                        # 4.11: approve at the site
    plant.complete("prod1", iid, "bl_unit_review", APPROVE)
    # Nor may the applicant accept their own work.
    plant.complete("leader1", iid, "bl_site_check", SITE_OK)
    plant.complete("dual1", iid, "bl_work", {"action": "complete"})
    r = plant.try_complete("dual1", iid, "bl_acceptance", {"plate_state_confirmed": True, "no_leak": True,
                                                            "site_cleared": True})
    assert r.status_code == 403 and "segregation" in r.json["detail"]


def test_send_back_and_reject(plant):
    iid = applied(plant)
    plant.complete("prod1", iid, "bl_unit_review", {"decision": "send_back", "comment": "补隔离清单"})
    assert plant.sees("worker1", iid) == ["盲板抽堵作业申请"]
    plant.complete("worker1", iid, "bl_apply", {**APPLICATION, "isolation_list": ["关闭 XV-2001", "加锁"]})
    # the SIMOPS matrix's rows for a blinding, once each after the send-back (not merged into the old lists)
    assert plant.variables(iid)["simops_permit_processes"] == [
        f"{k}_permit" for k in ("hot_work", "confined_space", "blinding", "height", "lifting", "temp_power",
                                "excavation", "road_closure")]
    plant.complete("prod1", iid, "bl_unit_review", {"decision": "reject"})
    assert (plant.status(iid), plant.variables(iid)["permit_status"]) == ("completed", "rejected")


def test_in_a_fire_area_a_passing_fresh_analysis_and_explosion_proof_gear_come_first(plant):
    iid = applied(plant, "unit-1")
    v = plant.variables(iid)
    assert (v["area_class"], v["gas_analysis_required"], v["max_combustible_pct"]) == ("fire_explosion", True, 0.2)
    plant.complete("prod1", iid, "bl_unit_review", APPROVE)
    assert plant.sees("leader1", iid) == ["气体分析"]
    plant.complete("leader1", iid, "bl_gas_analysis", gas(plant, pct=0.3))        # LEL 1.2 %: pass at ≤ 0.2 %
    assert plant.sees("leader1", iid) == ["气体分析"]
    future = {**gas(plant), "sampled_at": (plant.now() + timedelta(minutes=90)).isoformat()}
    plant.complete("leader1", iid, "bl_gas_analysis", future)                    # a sample from the future
    assert plant.sees("leader1", iid) == ["气体分析"]
    assert "晚于当前时间" in plant.variables(iid)["gas_analysis_error"]
    plant.complete("leader1", iid, "bl_gas_analysis", gas(plant))
    assert plant.sees("leader1", iid) == ["作业现场确认"]
    plant.complete("leader1", iid, "bl_site_check", {**SITE_OK, "explosion_proof": False})   # 7.5
    assert plant.sees("leader1", iid) == ["作业现场确认"]
    assert "7.5" in plant.variables(iid)["start_blocked_reason"]
    plant.later(minutes=40)                                                      # the sample is now 45 min old
    plant.complete("leader1", iid, "bl_site_check", SITE_OK)
    assert plant.sees("leader1", iid) == ["气体分析"]
    plant.complete("leader1", iid, "bl_gas_analysis", gas(plant, minutes_ago=1))
    plant.complete("leader1", iid, "bl_site_check", SITE_OK)
    assert plant.sees("worker1", iid) == ["盲板抽堵作业"]
    assert [r["pass"] for r in plant.variables(iid)["gas_results"]] == [False, True, True]


def test_validity_counts_from_the_issue_and_an_expired_permit_is_withdrawn(plant):
    iid = applied(plant)
    plant.complete("prod1", iid, "bl_unit_review", APPROVE)                      # issued 09:00
    plant.later(hours=20)
    plant.complete("leader1", iid, "bl_site_check", SITE_OK)                     # work starts 05:00 next day
    v = plant.variables(iid)
    assert v["permit_expires_at"].startswith("2026-03-03T09:00")                 # 24 h from the issue
    plant.later(hours=4, minutes=1)
    assert plant.sees("worker1", iid) == []
    assert plant.variables(iid)["permit_status"] == "expired"
    plant.complete("leader1", iid, "bl_withdraw", {"site_safe": True})
    assert (plant.status(iid), plant.variables(iid)["permit_status"]) == ("completed", "expired")


def test_a_permit_that_ran_out_before_the_site_check_cannot_start(plant):
    iid = applied(plant)
    plant.complete("prod1", iid, "bl_unit_review", APPROVE)
    plant.later(hours=25)
    plant.complete("leader1", iid, "bl_site_check", SITE_OK)
    assert plant.sees("worker1", iid) == []
    assert plant.sees("leader1", iid) == ["收回作业票"]


def test_the_area_gas_alarm_suspends_it_until_a_new_analysis_passes(plant):
    iid = working(plant, "unit-1")
    assert plant.message("emerg1", "gas_alarm", {"area": "unit-1"}, {"reason": "可燃气体二级报警"}).status_code == 200
    v = plant.variables(iid)
    assert (v["permit_status"], v["suspended_by"]) == ("suspended", "gas_alarm")
    assert plant.sees("worker1", iid) == []
    assert plant.sees("leader1", iid) == ["气体分析"]
    # A second alarm while it waits for the analysis keeps it suspended, waiting for the analysis.
    assert plant.message("emerg1", "gas_alarm", {"area": "unit-1"}).status_code == 200
    assert plant.sees("leader1", iid) == ["气体分析"]
    plant.complete("leader1", iid, "bl_gas_analysis", gas(plant, minutes_ago=1))
    assert plant.variables(iid)["permit_status"] == "suspended"
    plant.complete("leader1", iid, "bl_site_check", SITE_OK)
    assert plant.sees("worker1", iid) == ["盲板抽堵作业"]
    assert plant.variables(iid)["permit_status"] == "active"


def test_stop_work_suspends_it_in_every_live_state_until_the_restart(plant):
    iid = applied(plant, "unit-1", equipment_id="E-201")
    plant.complete("prod1", iid, "bl_unit_review", APPROVE)
    assert plant.sees("leader1", iid) == ["气体分析"]
    # A stop for other equipment of the area does not reach it; one for the area does.
    assert plant.message("safety1", "stop_work", {"area": "unit-1", "equipment_id": "P-102"}).status_code == 404
    assert plant.message("safety1", "stop_work", {"area": "unit-1"}, {"stop_reason": "装置停车"}).status_code == 200
    assert plant.variables(iid)["suspended_by"] == "stop_work"
    assert plant.sees("leader1", iid) == []
    assert plant.status(iid) == "waiting"
    assert plant.message("safety1", "restart", {"area": "unit-1"}).status_code == 200
    plant.complete("leader1", iid, "bl_gas_analysis", gas(plant, minutes_ago=1))
    # Stopped again at the site check, then during the work (by its equipment).
    assert plant.message("safety1", "stop_work", {"area": "unit-1"}).status_code == 200
    assert plant.sees("leader1", iid) == []
    assert plant.message("safety1", "restart", {"area": "unit-1"}).status_code == 200
    plant.complete("leader1", iid, "bl_gas_analysis", gas(plant, minutes_ago=1))
    plant.complete("leader1", iid, "bl_site_check", SITE_OK)
    assert plant.message("safety1", "stop_work", {"area": "unit-1", "equipment_id": "E-201"}).status_code == 200
    v = plant.variables(iid)
    assert (v["permit_status"], v["suspended_by"]) == ("suspended", "stop_work")
    assert plant.sees("worker1", iid) == []
    assert plant.message("safety1", "restart", {"area": "unit-1", "equipment_id": "E-201"}).status_code == 200
    plant.complete("leader1", iid, "bl_gas_analysis", gas(plant, minutes_ago=1))
    plant.complete("leader1", iid, "bl_site_check", SITE_OK)
    assert plant.variables(iid)["permit_status"] == "active"


def test_live_hot_work_in_a_fire_explosion_area_forbids_the_blinding_whatever_the_coordinator(plant):
    hot = hot_working(plant, "unit-1", equipment_state="running")
    iid = applied(plant, "unit-1")
    plant.complete("prod1", iid, "bl_unit_review", APPROVE)
    assert plant.sees("prod1", iid) == ["作业单位审批"]                          # blocked: no coordinator
    conflicts = plant.variables(iid)["simops_conflicts"]
    assert [(c["process_key"], c["instance_id"]) for c in conflicts] == [("hot_work_permit", hot)]
    assert "7.6" in conflicts[0]["reason"]
    plant.complete("prod1", iid, "bl_unit_review", {**APPROVE, "coordinator": "赵协调"})
    # 7.6: no hot work within 30 m of a blinding in a fire/explosion area; a coordinator cannot clear it
    assert plant.sees("prod1", iid) == ["作业单位审批"] and plant.sees("leader1", iid) == []
    assert "7.6" in plant.variables(iid)["simops_refusal"]


def test_a_second_blinding_in_the_area_is_listed_in_the_review(plant):
    first = working(plant)
    iid = applied(plant, pipeline="P-2001-150-A1")
    plant.complete("prod1", iid, "bl_unit_review", APPROVE)
    conflicts = plant.variables(iid)["simops_conflicts"]
    assert [(c["process_key"], c["instance_id"]) for c in conflicts] == [("blinding_permit", first)]
    assert "7.10" in conflicts[0]["reason"]


def test_the_register_lists_the_blinding_permit(plant):
    iid = applied(plant, "unit-1")
    r = plant.api.get("/api/v1/permits?page_size=500", "safety1")
    assert r.status_code == 200, r.json
    row = [p for p in r.json["items"] if p["id"] == iid][0]
    assert (row["type"], row["status"], row["location"], row["area"]) == ("blinding", "in_review", "E-201 入口法兰",
                                                                          "unit-1")
    plant.complete("prod1", iid, "bl_unit_review", APPROVE)
    plant.complete("leader1", iid, "bl_gas_analysis", gas(plant))
    plant.complete("leader1", iid, "bl_site_check", SITE_OK)
    row = [p for p in plant.api.get("/api/v1/permits?page_size=500", "safety1").json["items"] if p["id"] == iid][0]
    assert row["status"] == "working" and row["validity_end"].startswith("2026-03-03T09:00")
    assert row["gas_sample_age_seconds"] == 300


def test_outside_fire_areas_a_gas_alarm_sends_it_back_to_the_site_check(plant):
    iid = applied(plant)
    plant.complete("prod1", iid, "bl_unit_review", APPROVE)
    assert plant.sees("leader1", iid) == ["作业现场确认"]
    assert plant.message("emerg1", "gas_alarm", {"area": "warehouse"}).status_code == 200   # waiting at the site check
    v = plant.variables(iid)
    assert (v["permit_status"], v["suspended_by"]) == ("suspended", "gas_alarm")
    assert plant.sees("leader1", iid) == ["作业现场确认"]                 # no analysis outside fire areas
    plant.complete("leader1", iid, "bl_site_check", SITE_OK)
    assert plant.variables(iid)["permit_status"] == "active"


def test_a_blinding_named_in_a_work_plan_is_linked_to_it(plant):
    from tests.test_library_work_plan import submitted

    plan = submitted(plant, "unit-1", plan_no="JH-0302-11", area_class="fire_explosion",
                     special_operations=["blinding", "hot_work"])
    iid = applied(plant, "unit-1", work_plan_ref="JH-0302-11")
    plant.jobs()
    assert plant.variables(iid)["work_plan_linked"] is True
    v = plant.variables(plan)
    assert (v["special_ops_permitted"], v["special_ops_missing"]) == (["blinding"], ["hot_work"])


def test_a_monitor_who_leaves_pauses_the_work_until_the_site_is_confirmed_again(plant):
    """4.10: when the monitor has to leave, the permit is taken back and the work stops. The crew pauses the
    work naming why (a pause without a reason is refused, naming the field); the permit is paused in the
    register, the work task is gone, and the shift leader confirms the site again, the monitor present
    among it. In a fire/explosion area the gas analysis comes first again, as after a suspension."""
    iid = working(plant)
    r = plant.try_complete("worker1", iid, "bl_work", {"action": "pause"})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "pause_reason"
    assert plant.sees("worker1", iid) == ["盲板抽堵作业"]                        # nothing moved
    plant.complete("worker1", iid, "bl_work", {"action": "pause", "pause_reason": "monitor_left",
                                               "note": "李监护去中控室"})
    v = plant.variables(iid)
    assert v["permit_status"] == "paused" and [p["reason"] for p in v["pauses"]] == ["monitor_left"]
    assert plant.sees("worker1", iid) == [] and plant.sees("leader1", iid) == ["作业现场确认"]
    row = [p for p in plant.api.get("/api/v1/permits?page_size=500", "safety1").json["items"] if p["id"] == iid][0]
    assert row["status"] == "paused"
    r = plant.try_complete("leader1", iid, "bl_site_check", {**SITE_OK, "monitor_present": False})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "monitor_present"
    plant.complete("leader1", iid, "bl_site_check", SITE_OK)
    assert plant.sees("worker1", iid) == ["盲板抽堵作业"] and plant.variables(iid)["permit_status"] == "active"
    # a second pause names its own reason, not the first one's
    plant.complete("worker1", iid, "bl_work", {"action": "pause", "pause_reason": "shift_change"})
    assert [p["reason"] for p in plant.variables(iid)["pauses"]] == ["monitor_left", "shift_change"]
    plant.complete("leader1", iid, "bl_site_check", SITE_OK)
    plant.complete("worker1", iid, "bl_work", {"action": "complete"})
    assert plant.active(iid) == ["bl_acceptance"]


def test_in_a_fire_area_a_paused_blinding_is_analysed_again_before_the_site_check(plant):
    iid = working(plant, area="unit-1")
    plant.complete("worker1", iid, "bl_work", {"action": "pause", "pause_reason": "monitor_left"})
    assert plant.sees("leader1", iid) == ["气体分析"]
    plant.complete("leader1", iid, "bl_gas_analysis", gas(plant, minutes_ago=1))
    plant.complete("leader1", iid, "bl_site_check", SITE_OK)
    assert plant.sees("worker1", iid) == ["盲板抽堵作业"]
    assert len(plant.variables(iid)["gas_results"]) == 2
