"""临时用电作业票 (GB 30871-2022 ch. 10): user unit review with SIMOPS, power supply unit approval with
segregation of duties, gas analysis in fire/explosion areas (30-min sample), electrician and leakage-protection
site check, validity ≤ 15 days from the issue, stop_work/gas_alarm suspension, disconnection and acceptance."""
from datetime import timedelta

from tests.test_library_support import plant  # noqa: F401

APPLICATION = {
    "work_content": "检修照明及电焊机临时接电", "location_detail": "P-101 泵区", "power_source": "2# 配电室 QF12",
    "voltage_v": 380, "load_kw": 22, "equipment_list": ["电焊机 20 kW", "行灯 2 盏"], "electrician": "赵电工",
    "electrician_cert": "T-2023-0157", "monitor": "李监护", "damp_location": False, "days_requested": 5,
    "planned_start": "2026-03-02T09:30:00+00:00", "gas_name": "氢气", "gas_lel_pct": 4.0,
    "hazards": ["触电", "电火花引燃可燃气体"], "control_measures": ["一机一闸一保护", "防爆配电箱"]}
APPROVE = {"decision": "approve", "on_site": True}
SITE = {"electrician_certified": True, "upstream_locked": True, "grounded": True, "rcd_per_tool": True,
        "rcd_trip_ma": 25, "rcd_trip_s": 0.08, "explosion_proof": True}
WORK = "临时用电作业"


def gas(plant, pct=0.1, minutes_ago=5):
    return {"sampled_at": (plant.now() - timedelta(minutes=minutes_ago)).isoformat(),
            "sample_point": "接电点 5 m 内", "combustible_pct": pct, "analyst": "化验员甲"}


def applied(plant, area="unit-1", **changes):
    iid = plant.start("worker1", "temp_power_permit", {"area": area})
    assert plant.sees("worker1", iid) == ["临时用电申请（含危害分析）"]
    plant.complete("worker1", iid, "tp_apply", {**APPLICATION, **changes})
    return iid


def approved(plant, area="unit-1", coordinator=None, **changes):
    iid = applied(plant, area, **changes)
    plant.complete("prod1", iid, "tp_unit_review", {**APPROVE, "coordinator": coordinator} if coordinator else APPROVE)
    plant.complete("maint1", iid, "tp_supply_approval", APPROVE)
    return iid


def working(plant, area="unit-1", **changes):
    iid = approved(plant, area, **changes)
    if plant.variables(iid)["gas_required"]:
        plant.complete("leader1", iid, "tp_gas_analysis", gas(plant))
    plant.complete("leader1", iid, "tp_site_check", SITE)
    assert plant.sees("worker1", iid) == [WORK]
    return iid


def test_chain_in_a_fire_area_gas_analysis_site_check_work_and_disconnection(plant):
    iid = applied(plant)
    v = plant.variables(iid)
    assert (v["gas_required"], v["explosion_proof_required"], v["validity_days"]) == (True, True, 5)
    assert plant.sees("prod1", iid) == ["用电单位审核"]
    assert plant.sees("maint1", iid) == []
    plant.complete("prod1", iid, "tp_unit_review", APPROVE)
    # The power supply unit (another department) approves: the task is theirs, the unit's staff do not see it.
    assert plant.sees("maint1", iid) == ["供电单位审批"]
    assert plant.sees("prod1", iid) == []
    plant.complete("maint1", iid, "tp_supply_approval", APPROVE)
    v = plant.variables(iid)
    assert v["permit_status"] == "issued" and "department" not in v
    assert v["permit_expires_at"].startswith("2026-03-07T09:00")            # 5 days from the issue
    assert plant.sees("leader1", iid) == ["接电前气体分析"]
    plant.complete("leader1", iid, "tp_gas_analysis", gas(plant, pct=0.6))    # LEL 4 %: > 0.5 % fails
    assert plant.sees("leader1", iid) == ["接电前气体分析"]
    plant.complete("leader1", iid, "tp_gas_analysis", gas(plant, pct=0.4))
    assert plant.sees("leader1", iid) == ["送电前现场确认"]
    plant.complete("leader1", iid, "tp_site_check", SITE)
    assert plant.sees("worker1", iid) == [WORK]
    assert plant.variables(iid)["permit_status"] == "active"
    r = plant.api.get("/api/v1/permits?type=temp_power", "safety1")
    assert r.status_code == 200, r.json
    [row] = [p for p in r.json["items"] if p["id"] == iid]
    assert (row["type"], row["status"], row["location"]) == ("temp_power", "working", "P-101 泵区")
    plant.complete("worker1", iid, "tp_work", {"action": "complete"})
    assert plant.sees("maint1", iid) == ["拆除线路并验收"]
    r = plant.try_complete("maint1", iid, "tp_disconnect", {"line_removed": False, "site_restored": True})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "line_removed"
    plant.complete("maint1", iid, "tp_disconnect", {"line_removed": True, "site_restored": True})
    assert plant.status(iid) == "completed"
    assert plant.variables(iid)["permit_status"] == "closed"


def test_general_area_needs_no_gas_analysis_and_validity_is_capped_at_15_days(plant):
    iid = approved(plant, "warehouse", days_requested=20)
    v = plant.variables(iid)
    assert (v["gas_required"], v["validity_days"]) == (False, 15)
    assert v["permit_expires_at"].startswith("2026-03-17T09:00")
    assert plant.sees("leader1", iid) == ["送电前现场确认"]


def test_a_stale_sample_is_analysed_again_before_the_power_is_connected(plant):
    iid = approved(plant)
    plant.complete("leader1", iid, "tp_gas_analysis", gas(plant))
    plant.later(minutes=31)
    plant.complete("leader1", iid, "tp_site_check", SITE)
    assert plant.sees("leader1", iid) == ["接电前气体分析"]                   # the sample is 36 min old
    plant.complete("leader1", iid, "tp_gas_analysis", gas(plant, minutes_ago=0))
    assert plant.sees("worker1", iid) == [WORK]                            # the site check is still valid


def test_a_sample_dated_in_the_future_is_refused(plant):
    iid = approved(plant)
    plant.complete("leader1", iid, "tp_gas_analysis", gas(plant, minutes_ago=-90))
    assert plant.sees("leader1", iid) == ["接电前气体分析"]
    assert "晚于当前时间" in plant.form("leader1", iid, "tp_gas_analysis")["data"]["gas_analysis_error"]


def test_leakage_protection_and_explosion_proofing_gate_the_connection(plant):
    iid = approved(plant, "warehouse", damp_location=True)                 # damp: ≤ 15 mA
    plant.complete("leader1", iid, "tp_site_check", SITE)                     # 25 mA
    assert plant.sees("leader1", iid) == ["送电前现场确认"]
    assert "15 mA" in plant.form("leader1", iid, "tp_site_check")["data"]["site_check_error"]
    plant.complete("leader1", iid, "tp_site_check", {**SITE, "rcd_trip_ma": 12, "explosion_proof": False})
    assert plant.sees("worker1", iid) == [WORK]                            # no explosion-proofing needed here
    fire = approved(plant)
    plant.complete("leader1", fire, "tp_gas_analysis", gas(plant))
    plant.complete("leader1", fire, "tp_site_check", {**SITE, "explosion_proof": False})
    assert plant.sees("leader1", fire) == ["送电前现场确认"]
    assert "防爆" in plant.form("leader1", fire, "tp_site_check")["data"]["site_check_error"]


def test_segregation_of_duties_send_back_and_reject(plant, platform):
    # Workers of the maintenance department apply; one person is both its production reviewer and a
    # power supply approver: having reviewed the permit, they may not also approve it.
    platform.users.add_user("mworker", "anjian-demo", ["worker"], "maintenance", "维修作业", replace=True)
    platform.users.add_user("dual2", "anjian-demo", ["production", "maintenance"], "maintenance", "兼岗", replace=True)
    iid = plant.start("mworker", "temp_power_permit", {"area": "warehouse"})
    plant.complete("mworker", iid, "tp_apply", APPLICATION)
    plant.complete("dual2", iid, "tp_unit_review", APPROVE)
    r = plant.try_complete("dual2", iid, "tp_supply_approval", APPROVE)
    assert r.status_code == 403 and "segregation" in r.json["detail"]
    plant.complete("maint1", iid, "tp_supply_approval", APPROVE)
    # The applicant may not review their own permit either.
    platform.users.add_user("dual1", "anjian-demo", ["worker", "production"], "workshop-1", "兼岗", replace=True)
    own = plant.start("dual1", "temp_power_permit", {"area": "warehouse"})
    plant.complete("dual1", own, "tp_apply", APPLICATION)
    r = plant.try_complete("dual1", own, "tp_unit_review", APPROVE)
    assert r.status_code == 403 and "segregation" in r.json["detail"]


def test_send_back_and_reject_by_either_approver(plant):
    iid = applied(plant)
    plant.complete("prod1", iid, "tp_unit_review", APPROVE)
    plant.complete("maint1", iid, "tp_supply_approval", {"decision": "send_back", "comment": "负荷超过回路容量"})
    assert plant.sees("worker1", iid) == ["临时用电申请（含危害分析）"]          # back with the applicant's unit
    plant.complete("worker1", iid, "tp_apply", {**APPLICATION, "load_kw": 10})
    plant.complete("prod1", iid, "tp_unit_review", {"decision": "send_back"})
    assert plant.sees("worker1", iid) == ["临时用电申请（含危害分析）"]
    plant.complete("worker1", iid, "tp_apply", APPLICATION)
    plant.complete("prod1", iid, "tp_unit_review", APPROVE)
    plant.complete("maint1", iid, "tp_supply_approval", {"decision": "reject"})
    assert plant.status(iid) == "completed" and plant.variables(iid)["permit_status"] == "rejected"
    other = applied(plant)
    plant.complete("prod1", other, "tp_unit_review", {"decision": "reject"})
    assert plant.status(other) == "completed" and plant.variables(other)["permit_status"] == "rejected"


def test_review_lists_live_permits_of_the_area_and_needs_a_coordinator(plant):
    from tests.test_library_hot_work import working as hot_working

    hot = hot_working(plant, "unit-1")
    iid = applied(plant)
    listed = plant.form("prod1", iid, "tp_unit_review")["data"]["active_permits_in_area"]
    assert [(p["instance_id"], p["process_key"]) for p in listed] == [(hot, "hot_work_permit")]
    plant.complete("prod1", iid, "tp_unit_review", APPROVE)                  # no coordinator
    assert plant.sees("prod1", iid) == ["用电单位审核"]
    [conflict] = plant.variables(iid)["simops_conflicts"]
    assert conflict["instance_id"] == hot and "4.7" in conflict["reason"]
    plant.complete("prod1", iid, "tp_unit_review", {**APPROVE, "coordinator": "赵协调"})
    assert plant.sees("maint1", iid) == ["供电单位审批"]


def test_gas_alarm_suspends_in_a_fire_area_and_needs_a_new_analysis(plant):
    iid = working(plant)
    calm = working(plant, "warehouse")
    assert plant.message("emerg1", "gas_alarm", {"area": "unit-1"}, {"reason": "可燃气体报警"}).status_code == 200
    assert plant.sees("worker1", iid) == []
    v = plant.variables(iid)
    assert (v["permit_status"], v["suspended_by"]) == ("suspended", "gas_alarm")
    assert plant.sees("leader1", iid) == ["接电前气体分析"]
    # A second alarm while the re-analysis is pending keeps it suspended.
    assert plant.message("emerg1", "gas_alarm", {"area": "unit-1"}).status_code == 200
    plant.complete("leader1", iid, "tp_gas_analysis", gas(plant, minutes_ago=0))
    assert plant.sees("leader1", iid) == ["送电前现场确认"]
    plant.complete("leader1", iid, "tp_site_check", SITE)
    assert plant.sees("worker1", iid) == [WORK] and plant.variables(iid)["permit_status"] == "active"
    # In a general area the alarm is noted and the work goes on.
    assert plant.message("emerg1", "gas_alarm", {"area": "warehouse"}).status_code == 200
    assert plant.sees("worker1", calm) == [WORK]
    v = plant.variables(calm)
    assert v["permit_status"] == "active" and len(v["alarms_noted"]) == 1


def test_stop_work_suspends_in_every_live_state_and_restart_repeats_the_checks(plant):
    iid = approved(plant)                                                  # waiting for its gas analysis
    assert plant.message("safety1", "stop_work", {"area": "unit-1"}).status_code == 200
    assert plant.sees("leader1", iid) == [] and plant.status(iid) == "waiting"
    assert plant.variables(iid)["suspended_by"] == "stop_work"
    assert plant.message("safety1", "restart", {"area": "unit-1"}).status_code == 200
    plant.complete("leader1", iid, "tp_gas_analysis", gas(plant))
    assert plant.message("safety1", "stop_work", {"area": "unit-1"}).status_code == 200   # at the site check
    assert plant.message("safety1", "restart", {"area": "unit-1"}).status_code == 200
    assert plant.sees("leader1", iid) == ["接电前气体分析"]                   # the sample was cleared
    plant.complete("leader1", iid, "tp_gas_analysis", gas(plant))
    plant.complete("leader1", iid, "tp_site_check", SITE)
    assert plant.message("safety1", "stop_work", {"area": "unit-1"}).status_code == 200   # in work
    assert plant.sees("worker1", iid) == []
    assert plant.variables(iid)["permit_status"] == "suspended"
    assert plant.message("safety1", "restart", {"area": "unit-1"}).status_code == 200
    assert plant.sees("leader1", iid) == ["接电前气体分析"]


def test_validity_counts_from_the_issue_and_expiry_leads_to_disconnection(plant):
    iid = approved(plant, "warehouse", days_requested=1)
    plant.later(hours=25)                                                  # the site check never happened
    plant.complete("leader1", iid, "tp_site_check", SITE)
    assert plant.sees("worker1", iid) == []
    assert plant.variables(iid)["permit_status"] == "expired"
    assert plant.sees("maint1", iid) == ["拆除线路并验收"]
    plant.complete("maint1", iid, "tp_disconnect", {"line_removed": True, "site_restored": True})
    assert plant.status(iid) == "completed" and plant.variables(iid)["permit_status"] == "expired"
    # In work, the validity timer ends it.
    live = working(plant, "warehouse", days_requested=1)
    plant.later(hours=24, minutes=1)
    assert plant.sees("worker1", live) == [] and plant.sees("maint1", live) == ["拆除线路并验收"]


def test_a_permit_naming_the_work_plan_is_linked_and_an_unknown_number_refused(plant):
    from tests.test_library_work_plan import submitted

    plan = submitted(plant, "unit-1", plan_no="JH-0302-07", operation_kind="temp_power", area_class="fire_explosion",
                     special_operations=["hot_work", "temp_power"])
    iid = plant.start("worker1", "temp_power_permit", {"area": "unit-1"})
    plant.complete("worker1", iid, "tp_apply", {**APPLICATION, "work_plan_ref": "JH-NONE"})
    assert plant.sees("worker1", iid) == ["临时用电申请（含危害分析）"]
    assert "JH-NONE" in plant.form("worker1", iid, "tp_apply")["data"]["work_plan_ref_error"]
    plant.complete("worker1", iid, "tp_apply", {**APPLICATION, "work_plan_ref": "JH-0302-07"})
    plant.jobs()                                                           # the plan hears of it
    assert plant.variables(iid)["work_plan_linked"] is True
    v = plant.variables(plan)
    assert (v["special_ops_permitted"], v["special_ops_missing"]) == (["temp_power"], ["hot_work"])
    assert plant.sees("prod1", iid) == ["用电单位审核"]
