"""受限空间作业票: isolation, O2/combustible/toxic limits, 30-min sample, readings every 2 h (a missed
reading escalates), people and tools logged in and out, alarm → evacuate → re-test, 24 h validity."""
from datetime import timedelta

from tests.test_library_support import plant  # noqa: F401

APPLICATION = {
    "space_name": "V-201 反应釜", "purpose": "清理釜内结焦", "former_media": "甲苯", "gas_lel_pct": 1.1,
    "oxygen_rich_space": False, "hazards": ["缺氧", "甲苯蒸气"], "isolation_method": "进出口加盲板、电机断电上锁",
    "entrants": ["张工", "王工"], "attendant": "李监护", "supervisor": "刘负责", "communication": "对讲机 3 频道",
    "rescue_plan": "正压式呼吸器 2 套、救援三脚架", "planned_start": "2026-03-02T10:00:00+00:00"}
ISOLATED = {"isolated": True, "energy_locked": True, "purged": True}
APPROVE = {"decision": "approve", "on_site": True}
SITE = {"attendant_outside": True, "rescue_ready": True, "communication_tested": True, "ventilation_running": True}


# A four-gas meter's toxics (H2S, CO) and the former medium's (toluene), well below GBZ 2.1.
TOXIC_OK = [{"gas": "h2s", "value_mg_m3": 1.0}, {"gas": "co", "value_mg_m3": 5}, {"gas": "toluene", "value_mg_m3": 12}]


def reading(plant, o2=20.8, comb=0.1, toxic=None, minutes_ago=5):
    return {"sampled_at": (plant.now() - timedelta(minutes=minutes_ago)).isoformat(), "oxygen_pct": o2,
            "combustible_pct": comb, "toxic_readings": TOXIC_OK if toxic is None else toxic, "analyst": "检测员"}





def approved(plant, coordinator=None, **changes):
    """Applied for, isolated and approved (``coordinator``: named when live hot work is in the area)."""
    iid = plant.start("worker1", "confined_space_permit", {"area": "unit-1"})
    plant.complete("worker1", iid, "cs_apply", {**APPLICATION, **changes})
    assert plant.sees("leader1", iid) == ["隔离、清洗、置换确认"]
    plant.complete("leader1", iid, "cs_isolation", ISOLATED)
    plant.complete("prod1", iid, "cs_approval", {**APPROVE, "coordinator": coordinator} if coordinator else APPROVE)
    return iid


def inside(plant, **changes):
    iid = approved(plant, **changes)
    plant.complete("leader1", iid, "cs_gas_test", reading(plant))
    plant.complete("leader1", iid, "cs_site_check", SITE)
    plant.complete("worker1", iid, "cs_work", {"action": "log", "people_inside": ["张工", "王工"], "tools_inside": 3})
    return iid


def test_entry_log_blocks_closing_until_people_and_tools_are_out(plant):
    iid = inside(plant)
    v = plant.variables(iid)
    assert (v["permit_status"], v["permit_expires_at"][:16]) == ("active", "2026-03-03T09:00")     # 24 h
    plant.complete("worker1", iid, "cs_work", {"action": "complete", "people_inside": ["王工"], "tools_inside": 0})
    assert plant.sees("worker1", iid) == ["受限空间作业（进出登记）"]       # someone is still inside
    assert plant.sees("prod1", iid) == []
    plant.complete("worker1", iid, "cs_work", {"action": "complete", "people_inside": [], "tools_inside": 1})
    assert plant.sees("prod1", iid) == []                                 # a tool is still inside
    plant.complete("worker1", iid, "cs_work", {"action": "complete", "people_inside": [], "tools_inside": 0})
    assert plant.sees("prod1", iid) == ["完工验收"]
    plant.complete("prod1", iid, "cs_acceptance", {"people_out": True, "tools_out": True, "facilities_restored": True})
    assert plant.status(iid) == "completed"
    v = plant.variables(iid)
    assert v["permit_status"] == "closed" and len(v["entry_log"]) == 4


def test_oxygen_limits_and_sample_age_gate_the_entry(plant):
    iid = approved(plant)
    plant.complete("leader1", iid, "cs_gas_test", reading(plant, o2=19.0))        # too little oxygen
    assert plant.sees("leader1", iid) == ["进入前气体检测"]
    plant.complete("leader1", iid, "cs_gas_test", reading(plant, o2=22.0))        # oxygen-rich: > 21 %
    plant.complete("leader1", iid, "cs_gas_test",                                  # H2S above its MAC
                   reading(plant, toxic=[{"gas": "h2s", "value_mg_m3": 12}, {"gas": "co", "value_mg_m3": 5}]))
    plant.complete("leader1", iid, "cs_gas_test", reading(plant, comb=0.3))       # toluene LEL 1.1 %: > 0.2 %
    assert plant.sees("leader1", iid) == ["进入前气体检测"]
    plant.complete("leader1", iid, "cs_gas_test", reading(plant, minutes_ago=31))
    plant.complete("leader1", iid, "cs_site_check", SITE)                              # sample older than 30 min
    assert plant.sees("leader1", iid) == ["进入前气体检测"]
    plant.complete("leader1", iid, "cs_gas_test", reading(plant))
    plant.complete("leader1", iid, "cs_site_check", SITE)
    assert plant.sees("worker1", iid) == ["受限空间作业（进出登记）"]
    assert [r["pass"] for r in plant.variables(iid)["readings"]] == [False, False, False, False, True, True]
    # In an oxygen-rich space up to 23.5 % passes.
    rich = approved(plant, oxygen_rich_space=True, coordinator="赵协调")    # a second live entry in unit-1 (4.7)
    plant.complete("leader1", rich, "cs_gas_test", reading(plant, o2=22.0))
    assert plant.sees("leader1", rich) == ["进入前现场确认"]


def test_readings_every_two_hours_and_a_missed_reading_escalates(plant):
    iid = inside(plant)
    plant.later(hours=2, minutes=1)
    assert plant.sees("worker1", iid) == []
    assert plant.sees("leader1", iid) == ["定时气体检测记录"]
    plant.complete("leader1", iid, "cs_reading", reading(plant, minutes_ago=0))
    assert plant.sees("worker1", iid) == ["受限空间作业（进出登记）"]
    plant.later(hours=2, minutes=1)
    assert plant.sees("leader1", iid) == ["定时气体检测记录"]
    plant.later(minutes=31)                                               # nobody recorded it
    assert plant.sees("safety1", iid) == ["气体检测逾期督办"]
    plant.complete("leader1", iid, "cs_reading", reading(plant, minutes_ago=0))
    plant.complete("safety1", iid, "cs_reading_overdue", {"instruction": "检测必须按时记录"})
    assert [r["kind"] for r in plant.variables(iid)["readings"]] == ["pre_entry", "periodic", "periodic"]


def test_failed_reading_or_gas_alarm_evacuates_and_needs_a_passing_retest(plant):
    iid = inside(plant)
    plant.later(hours=2, minutes=1)
    plant.complete("leader1", iid, "cs_reading", reading(plant, o2=18.5, minutes_ago=0))
    assert plant.sees("leader1", iid) == ["撤离人员并处置"]
    assert plant.variables(iid)["permit_status"] == "suspended"
    plant.complete("leader1", iid, "cs_evacuate", {"all_evacuated": True, "people_counted": 2, "treatment": "加强通风"})
    assert plant.variables(iid)["people_inside"] == []
    plant.complete("leader1", iid, "cs_gas_test", reading(plant))
    plant.complete("leader1", iid, "cs_site_check", SITE)
    assert plant.sees("worker1", iid) == ["受限空间作业（进出登记）"]
    r = plant.message("emerg1", "gas_alarm", {"area": "unit-1"}, {"reason": "H2S 报警"})
    assert r.status_code == 200
    assert plant.sees("worker1", iid) == []
    assert plant.sees("leader1", iid) == ["撤离人员并处置"]
    plant.complete("leader1", iid, "cs_evacuate", {"all_evacuated": True, "people_counted": 2, "treatment": "查漏"})
    assert plant.sees("leader1", iid) == ["进入前气体检测"]


def test_stop_work_evacuates_and_waits_for_restart(plant):
    iid = inside(plant)
    assert plant.message("safety1", "stop_work", {"area": "unit-1"}).status_code == 200
    plant.complete("leader1", iid, "cs_evacuate", {"all_evacuated": True, "people_counted": 2, "treatment": "停工"})
    assert plant.status(iid) == "waiting"
    assert plant.message("safety1", "restart", {"area": "unit-1"}).status_code == 200
    assert plant.sees("leader1", iid) == ["进入前气体检测"]


def test_long_interruption_needs_retest_short_one_does_not(plant):
    iid = inside(plant)
    plant.complete("worker1", iid, "cs_work", {"action": "pause", "people_inside": [], "tools_inside": 3})
    plant.later(minutes=30)
    plant.complete("worker1", iid, "cs_resume_request", {"note": "继续", "monitor_present": True})
    assert plant.sees("worker1", iid) == ["受限空间作业（进出登记）"]
    plant.complete("worker1", iid, "cs_work", {"action": "pause", "people_inside": [], "tools_inside": 3})
    plant.later(minutes=61)
    plant.complete("worker1", iid, "cs_resume_request", {"note": "继续", "monitor_present": True})
    assert plant.sees("leader1", iid) == ["进入前气体检测"]


def test_permit_expires_after_24_hours(plant):
    iid = inside(plant)
    for _ in range(11):                                                  # readings keep it going for 22 h
        plant.later(hours=2, minutes=1)
        plant.complete("leader1", iid, "cs_reading", reading(plant, minutes_ago=0))
    plant.later(hours=1, minutes=50)                                     # 24 h 1 min after the entry
    assert plant.sees("worker1", iid) == []
    assert plant.sees("leader1", iid) == ["撤离人员并处置"]
    plant.complete("leader1", iid, "cs_evacuate", {"all_evacuated": True, "people_counted": 2, "treatment": "收票"})
    assert plant.status(iid) == "completed"
    assert plant.variables(iid)["permit_status"] == "expired"


def test_unit_can_send_back_or_reject(plant):
    iid = plant.start("worker1", "confined_space_permit", {"area": "unit-1"})
    plant.complete("worker1", iid, "cs_apply", APPLICATION)
    plant.complete("leader1", iid, "cs_isolation", ISOLATED)
    plant.complete("prod1", iid, "cs_approval", {"decision": "send_back", "comment": "补充救援预案"})
    assert plant.sees("worker1", iid) == ["受限空间作业申请"]
    plant.complete("worker1", iid, "cs_apply", APPLICATION)
    plant.complete("leader1", iid, "cs_isolation", ISOLATED)
    plant.complete("prod1", iid, "cs_approval", {"decision": "reject"})
    assert plant.status(iid) == "completed"
    assert plant.variables(iid)["permit_status"] == "rejected"


EVACUATED = {"all_evacuated": True, "people_counted": 2, "treatment": "通风、查明原因"}


def test_gas_alarm_reaches_a_paused_permit_and_one_waiting_for_its_retest(plant):
    iid = inside(plant)
    plant.complete("worker1", iid, "cs_work", {"action": "pause", "people_inside": [], "tools_inside": 3})
    assert plant.sees("worker1", iid) == ["申请恢复作业"]
    assert plant.message("emerg1", "gas_alarm", {"area": "unit-1"}, {"reason": "H2S 报警"}).status_code == 200
    assert plant.sees("worker1", iid) == []                              # the resume request is gone
    assert plant.sees("leader1", iid) == ["撤离人员并处置"]
    v = plant.variables(iid)
    assert (v["permit_status"], v["suspended_by"]) == ("suspended", "gas_alarm")
    plant.complete("leader1", iid, "cs_evacuate", EVACUATED)
    assert plant.sees("leader1", iid) == ["进入前气体检测"]               # waiting for the re-test
    # A second alarm while the re-test is pending: evacuate (count again) before any test counts.
    assert plant.message("emerg1", "gas_alarm", {"area": "unit-1"}).status_code == 200
    assert plant.sees("leader1", iid) == ["撤离人员并处置"]
    plant.complete("leader1", iid, "cs_evacuate", EVACUATED)
    plant.complete("leader1", iid, "cs_gas_test", reading(plant))
    assert plant.sees("leader1", iid) == ["进入前现场确认"]
    # ... and while the site check before re-entry is pending.
    assert plant.message("emerg1", "gas_alarm", {"area": "unit-1"}).status_code == 200
    assert plant.sees("leader1", iid) == ["撤离人员并处置"]
    plant.complete("leader1", iid, "cs_evacuate", EVACUATED)
    plant.complete("leader1", iid, "cs_gas_test", reading(plant))
    plant.complete("leader1", iid, "cs_site_check", SITE)
    assert plant.sees("worker1", iid) == ["受限空间作业（进出登记）"]
    assert plant.variables(iid)["permit_status"] == "active"


def test_stop_work_reaches_a_paused_permit_and_one_waiting_for_its_retest(plant):
    iid = inside(plant)
    plant.complete("worker1", iid, "cs_work", {"action": "pause", "people_inside": [], "tools_inside": 3})
    assert plant.message("safety1", "stop_work", {"area": "unit-1"}, {"stop_reason": "装置停工"}).status_code == 200
    assert plant.sees("worker1", iid) == []                              # cannot resume during the stop
    v = plant.variables(iid)
    assert (v["permit_status"], v["suspended_by"]) == ("suspended", "stop_work")
    plant.complete("leader1", iid, "cs_evacuate", EVACUATED)
    assert (plant.status(iid), plant.sees("leader1", iid), plant.sees("worker1", iid)) == ("waiting", [], [])
    assert plant.message("safety1", "restart", {"area": "unit-1"}).status_code == 200
    assert plant.sees("leader1", iid) == ["进入前气体检测"]               # restart still needs a passing re-test
    # A stop while the re-test is pending holds the permit until the next restart.
    assert plant.message("safety1", "stop_work", {"area": "unit-1"}).status_code == 200
    assert plant.sees("leader1", iid) == ["撤离人员并处置"]
    plant.complete("leader1", iid, "cs_evacuate", EVACUATED)
    assert plant.sees("leader1", iid) == []
    r = plant.message("safety1", "restart", {"area": "unit-1"})
    assert r.status_code == 200
    plant.complete("leader1", iid, "cs_gas_test", reading(plant))
    plant.complete("leader1", iid, "cs_site_check", SITE)
    assert plant.sees("worker1", iid) == ["受限空间作业（进出登记）"]
    # An equipment-scoped stop for other equipment does not touch a paused permit.
    plant.complete("worker1", iid, "cs_work", {"action": "pause", "people_inside": [], "tools_inside": 3})
    plant.message("safety1", "stop_work", {"area": "unit-1", "equipment_id": "P-999"})
    assert plant.sees("worker1", iid) == ["申请恢复作业"]


def test_a_permit_that_ran_out_while_paused_cannot_be_re_entered(plant):
    iid = inside(plant)                                                  # valid 24 h, until 03-03 09:00
    plant.complete("worker1", iid, "cs_work", {"action": "pause", "people_inside": [], "tools_inside": 0})
    plant.later(hours=24, minutes=5)
    plant.complete("worker1", iid, "cs_resume_request", {"note": "继续", "monitor_present": True})
    plant.complete("leader1", iid, "cs_gas_test", reading(plant))
    plant.complete("leader1", iid, "cs_site_check", SITE)
    assert plant.sees("worker1", iid) == []                              # nobody goes back in
    assert plant.sees("leader1", iid) == ["撤离人员并处置"]
    plant.complete("leader1", iid, "cs_evacuate", EVACUATED)
    assert (plant.status(iid), plant.variables(iid)["permit_status"]) == ("completed", "expired")


# --------------------------------------------------------------------------- issue 14 §3: rules at their edges

def test_a_gas_test_dated_in_the_future_is_refused(plant):
    iid = approved(plant)
    plant.complete("leader1", iid, "cs_gas_test", reading(plant, minutes_ago=-90))
    assert plant.sees("leader1", iid) == ["进入前气体检测"]               # back to the tester, no site check
    data = plant.form("leader1", iid, "cs_gas_test")["data"]
    assert "晚于当前时间" in data["gas_analysis_error"]
    assert plant.variables(iid)["readings"] == []                        # not recorded
    r = plant.try_complete("leader1", iid, "cs_gas_test", {**reading(plant), "gas_analysis_error": ""})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "gas_analysis_error"
    plant.complete("leader1", iid, "cs_gas_test", reading(plant, minutes_ago=-1))   # within the 2-min tolerance
    plant.complete("leader1", iid, "cs_site_check", SITE)
    assert plant.sees("worker1", iid) == ["受限空间作业（进出登记）"]
    assert [r["pass"] for r in plant.variables(iid)["readings"]] == [True]


def test_validity_counts_from_the_issue_not_from_the_entry(plant):
    iid = approved(plant)                                                # issued Monday 09:00, 24 h
    v = plant.variables(iid)
    assert (v["permit_status"], v["permit_expires_at"][:16]) == ("issued", "2026-03-03T09:00")
    plant.later(days=4)                                                  # Friday
    plant.complete("leader1", iid, "cs_gas_test", reading(plant))
    plant.complete("leader1", iid, "cs_site_check", SITE)
    assert plant.sees("worker1", iid) == []                              # nobody goes in on an expired permit
    assert plant.variables(iid)["permit_status"] == "expired"
    plant.complete("leader1", iid, "cs_evacuate", {"all_evacuated": True, "people_counted": 0, "treatment": "收票"})
    assert (plant.status(iid), plant.variables(iid)["permit_status"]) == ("completed", "expired")
    # A permit entered late still ends 24 h after its issue.
    late = approved(plant)
    plant.later(hours=20)
    plant.complete("leader1", late, "cs_gas_test", reading(plant))
    plant.complete("leader1", late, "cs_site_check", SITE)
    assert plant.variables(late)["permit_expires_at"][:16] == "2026-03-07T09:00"
    plant.later(hours=2, minutes=1)
    plant.complete("leader1", late, "cs_reading", reading(plant, minutes_ago=0))
    plant.later(hours=1, minutes=59)                                     # 24 h after the issue, 4 h in
    assert plant.sees("worker1", late) == []
    assert plant.sees("leader1", late) == ["撤离人员并处置"]



# --------------------------------------------------------------------------- issue 14 §2: SIMOPS from this side too

def test_live_hot_work_in_the_area_is_listed_in_the_review_and_needs_a_coordinator(plant):
    from tests.test_library_hot_work import working

    hot = working(plant, "unit-1", equipment_id="P-101")
    elsewhere = working(plant, "warehouse")
    iid = plant.start("worker1", "confined_space_permit", {"area": "unit-1"})
    plant.complete("worker1", iid, "cs_apply", {**APPLICATION, "equipment_id": "V-101", "painting_inside": True})
    plant.complete("leader1", iid, "cs_isolation", ISOLATED)
    listed = plant.form("prod1", iid, "cs_approval")["data"]["active_permits_in_area"]
    assert [(p["instance_id"], p["process_key"], p["forbidden"]) for p in listed] == [(hot, "hot_work_permit", False)]
    assert elsewhere not in [p["instance_id"] for p in listed]
    plant.complete("prod1", iid, "cs_approval", APPROVE)                  # no coordinator: blocked
    assert plant.sees("prod1", iid) == ["作业单位审批"]
    assert plant.sees("leader1", iid) == []
    assert [c["instance_id"] for c in plant.variables(iid)["simops_conflicts"]] == [hot]
    plant.complete("prod1", iid, "cs_approval", {**APPROVE, "coordinator": "赵协调"})
    assert plant.variables(iid)["permit_status"] == "issued"
    assert plant.sees("leader1", iid) == ["进入前气体检测"]


def test_painting_inside_a_vessel_with_live_hot_work_on_it_is_blocked(plant):
    from tests.test_library_hot_work import working

    working(plant, "unit-1", equipment_id="V-101")
    iid = plant.start("worker1", "confined_space_permit", {"area": "unit-1"})
    plant.complete("worker1", iid, "cs_apply", {**APPLICATION, "equipment_id": "V-101", "painting_inside": True})
    plant.complete("leader1", iid, "cs_isolation", ISOLATED)
    plant.complete("prod1", iid, "cs_approval", {**APPROVE, "coordinator": "赵协调"})
    assert plant.sees("prod1", iid) == ["作业单位审批"]                   # a coordinator does not clear 6.7
    data = plant.form("prod1", iid, "cs_approval")["data"]
    assert "6.7" in data["simops_refusal"] and "V-101" in data["simops_refusal"]
    plant.complete("prod1", iid, "cs_approval", {"decision": "send_back", "comment": "动火结束后再涂装"})
    # Without painting it is cross-work the coordinator clears.
    plant.complete("worker1", iid, "cs_apply", {**APPLICATION, "equipment_id": "V-101", "painting_inside": False})
    plant.complete("leader1", iid, "cs_isolation", ISOLATED)
    plant.complete("prod1", iid, "cs_approval", {**APPROVE, "coordinator": "赵协调"})
    assert plant.variables(iid)["permit_status"] == "issued"


def test_toxic_gases_are_measured_values_judged_against_gbz_2_1(plant):
    """GB 30871-2022 6.5 / GBZ 2.1: each measured toxic gas against its limit in toxic_exposure_limits.dmn
    (MAC where set, else PC-TWA); one gas above its limit fails the test, whatever the others read."""
    iid = approved(plant)
    # CO 25 mg/m³: below its PC-STEL (30) but above its PC-TWA (20), the entry limit; H2S and NH3 fine.
    plant.complete("leader1", iid, "cs_gas_test", reading(plant, toxic=[
        {"gas": "h2s", "value_mg_m3": 3}, {"gas": "co", "value_mg_m3": 25}, {"gas": "nh3", "value_mg_m3": 10}]))
    assert plant.sees("leader1", iid) == ["进入前气体检测"]
    v = plant.variables(iid)
    assert v["toxic_exceedances"] == "一氧化碳 CO（非高原） 25 mg/m³ > 20 mg/m³"
    last = v["readings"][-1]
    assert last["pass"] is False
    assert [(t["gas"], t["limit_mg_m3"], t["pass"]) for t in last["toxic"]] == [
        ("h2s", 10, True), ("co", 20, False), ("nh3", 20, True)]
    # The form names only the table's gases, and needs at least one measured value (not a tick box).
    r = plant.try_complete("leader1", iid, "cs_gas_test", reading(plant, toxic=[{"gas": "freon", "value_mg_m3": 1}]))
    assert r.status_code == 422
    r = plant.try_complete("leader1", iid, "cs_gas_test", reading(plant, toxic=[]))
    assert r.status_code == 422
    assert plant.try_complete("leader1", iid, "cs_gas_test", {**reading(plant), "toxic_within_limits": True}
                              ).status_code == 422
    # At their limits (H2S at its MAC 10, CO at its PC-TWA 20) the test passes.
    plant.complete("leader1", iid, "cs_gas_test", reading(plant, toxic=[
        {"gas": "h2s", "value_mg_m3": 10}, {"gas": "co", "value_mg_m3": 20}]))
    assert plant.sees("leader1", iid) == ["进入前现场确认"]
    v = plant.variables(iid)
    assert v["toxic_exceedances"] == "" and v["readings"][-1]["pass"] is True


def test_a_periodic_reading_with_a_toxic_gas_above_its_limit_evacuates(plant):
    iid = inside(plant)
    plant.later(hours=2, minutes=1)
    plant.complete("leader1", iid, "cs_reading", reading(plant, minutes_ago=0, toxic=[
        {"gas": "h2s", "value_mg_m3": 2}, {"gas": "benzene", "value_mg_m3": 7}]))       # benzene PC-TWA 6
    assert plant.sees("leader1", iid) == ["撤离人员并处置"]
    v = plant.variables(iid)
    assert v["permit_status"] == "suspended" and v["toxic_exceedances"] == "苯 C₆H₆ 7 mg/m³ > 6 mg/m³"


# The work phase (cs_working) ends after each passed reading and starts again; a reading not recorded
# in time is escalated to the main plane (escalation thrown inside, caught on the phase). These pin
# what that split must not change: every overdue reading reaches supervision, an open escalation
# outlives the work phase, and the permit's end (closing, expiry) still ends it.
def test_every_overdue_reading_escalates_and_the_escalation_outlives_the_work_phase(plant):
    iid = inside(plant)
    for n in (1, 2):
        plant.later(hours=2, minutes=1)
        plant.later(minutes=31)                                           # nobody recorded it
        assert plant.sees("safety1", iid) == ["气体检测逾期督办"] * n      # a new escalation each time
        plant.complete("leader1", iid, "cs_reading", reading(plant, minutes_ago=0))
        assert plant.sees("worker1", iid) == ["受限空间作业（进出登记）"]   # the work goes on
    plant.complete("safety1", iid, "cs_reading_overdue", {"instruction": "检测必须按时记录"})
    assert plant.sees("safety1", iid) == ["气体检测逾期督办"]
    plant.complete("worker1", iid, "cs_work", {"action": "complete", "people_inside": [], "tools_inside": 0})
    assert plant.sees("prod1", iid) == ["完工验收"]
    assert plant.sees("safety1", iid) == ["气体检测逾期督办"]              # still open during the acceptance
    plant.complete("prod1", iid, "cs_acceptance", {"people_out": True, "tools_out": True, "facilities_restored": True})
    assert plant.status(iid) == "completed"                              # the closing ends it
    assert plant.sees("safety1", iid) == []
    assert plant.variables(iid)["permit_status"] == "closed"


def test_expiry_inside_the_work_phase_ends_the_whole_permit_with_an_open_escalation(plant):
    iid = inside(plant)
    plant.later(hours=2, minutes=1)
    plant.later(minutes=31)
    assert plant.sees("safety1", iid) == ["气体检测逾期督办"]
    plant.complete("leader1", iid, "cs_reading", reading(plant, minutes_ago=0))   # 2 h 32 min
    for _ in range(10):                                                  # readings on time up to 22 h 42 min
        plant.later(hours=2, minutes=1)
        plant.complete("leader1", iid, "cs_reading", reading(plant, minutes_ago=0))
    plant.later(hours=1, minutes=20)                                     # 24 h 2 min after the entry
    assert plant.sees("leader1", iid) == ["撤离人员并处置"]
    assert plant.sees("safety1", iid) == ["气体检测逾期督办"]              # the evacuation does not end it
    plant.complete("leader1", iid, "cs_evacuate", {"all_evacuated": True, "people_counted": 2, "treatment": "收票"})
    assert plant.status(iid) == "completed"
    assert plant.sees("safety1", iid) == []
    assert plant.variables(iid)["permit_status"] == "expired"
