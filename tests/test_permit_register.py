"""The permit register (GET /api/v1/permits) and open escalations (GET /api/v1/escalations), through
the REST API with real permits driven along the library's diagrams (SQLite and PostgreSQL)."""
from tests.test_library_confined_space import APPLICATION as CS_APPLICATION
from tests.test_library_confined_space import inside, reading
from tests.test_library_hot_work import APPROVE, applied, gas, working
from tests.test_library_support import plant  # noqa: F401


def register(plant, user, **query):
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    r = plant.api.get(f"/api/v1/permits?{qs}", user)
    assert r.status_code == 200, r.json
    return r.json


def row(plant, iid, user="safety1"):
    found = [p for p in register(plant, user, page_size=500)["items"] if p["id"] == iid]
    assert found, f"{user} does not see permit {iid}"
    return found[0]


def test_a_hot_work_permit_moves_through_the_register_statuses(plant):
    iid = plant.start("worker1", "hot_work_permit", {"area": "warehouse"})
    assert row(plant, iid)["status"] == "applied"
    plant.complete("worker1", iid, "hw_apply", {"work_content": "P-101 出口管线焊接", **_application()})
    p = row(plant, iid)
    assert (p["status"], p["type"], p["grade"], p["area"], p["location"]) == (
        "in_review", "hot_work", "second", "warehouse", "泵出口法兰")
    assert [t["bpmn_id"] for t in p["current_tasks"]] == ["hw_unit_review"]
    assert p["applicant"] == "worker1" and p["validity_end"] is None
    plant.complete("prod1", iid, "hw_unit_review", APPROVE)
    assert row(plant, iid)["status"] == "issued"
    plant.complete("leader1", iid, "hw_gas_analysis", gas(plant, minutes_ago=5))
    p = row(plant, iid)
    assert p["status"] == "issued"
    assert (p["gas_sample_age_seconds"], p["gas_sample_stale"], p["gas_window_minutes"]) == (300, False, 30)
    plant.complete("leader1", iid, "hw_site_check", _site_ok())
    p = row(plant, iid)
    assert p["status"] == "working"
    assert p["validity_end"].startswith("2026-03-05T09:00")                     # second grade: 72 h
    assert p["validity_seconds_left"] == 72 * 3600
    plant.later(hours=1)
    p = row(plant, iid)
    assert p["validity_seconds_left"] == 71 * 3600
    assert (p["gas_sample_age_seconds"], p["gas_sample_stale"]) == (65 * 60, True)  # older than the 30-min window
    # The gas alarm of the walkthrough (bpmn/README.md) suspends it.
    assert plant.message("emerg1", "gas_alarm", {"area": "warehouse"}, {"reason": "报警"}).status_code == 200
    p = row(plant, iid)
    assert (p["status"], p["suspended_by"]) == ("suspended", "gas_alarm")
    assert register(plant, "safety1", status="suspended")["total"] == 1
    assert register(plant, "safety1", status="working")["total"] == 0
    # Re-analysis and supervision's approval: working again; then done and accepted: closed.
    plant.complete("leader1", iid, "hw_gas_analysis", gas(plant, minutes_ago=1))
    assert row(plant, iid)["status"] == "suspended"                       # waiting for the resume approval
    plant.complete("safety1", iid, "hw_resume_approval", APPROVE)
    assert row(plant, iid)["status"] == "working"
    plant.complete("worker1", iid, "hw_work", {"action": "pause"})
    assert row(plant, iid)["status"] == "paused"
    plant.complete("worker1", iid, "hw_resume_request", {"note": "午休后恢复", "monitor_present": True})
    assert row(plant, iid)["status"] == "working"
    plant.complete("worker1", iid, "hw_work", {"action": "complete"})
    plant.complete("prod1", iid, "hw_acceptance", {"no_embers": True, "site_cleared": True,
                                                   "facilities_restored": True})
    p = row(plant, iid)
    assert (p["status"], p["instance_status"], p["current_tasks"]) == ("closed", "completed", [])


def test_expired_rejected_and_cancelled_permits(plant):
    expiring = working(plant, "unit-1", equipment_state="running")             # special grade: 8 h
    rejected = applied(plant, "warehouse")
    plant.complete("prod1", rejected, "hw_unit_review", {"decision": "reject"})
    cancelled = applied(plant, "warehouse")
    assert plant.api.post(f"/api/v1/process-instances/{cancelled}/cancel", "safety1",
                          json={"reason": "作业取消"}).status_code == 200
    plant.later(hours=8, minutes=1)
    assert row(plant, expiring)["status"] == "expired"
    assert row(plant, rejected)["status"] == "cancelled"
    p = row(plant, cancelled)
    assert (p["status"], p["grade"], p["location"]) == ("cancelled", "second", "泵出口法兰")  # facts kept
    assert {p["id"] for p in register(plant, "safety1", status="expired,cancelled")["items"]} == {
        expiring, rejected, cancelled}


def test_a_failed_confined_space_reading_is_suspended_in_the_register(plant):
    # Issue 14: after a failed reading the instance variables said permit_status=active (the
    # overdue-reading branch) while the evacuation task carried suspended; the register says suspended.
    iid = inside(plant)
    assert row(plant, iid)["status"] == "working"
    plant.later(hours=2, minutes=1)
    plant.later(minutes=31)                                               # the reading is overdue: escalated
    plant.complete("leader1", iid, "cs_reading", reading(plant, o2=18.5, minutes_ago=0))
    p = row(plant, iid)
    assert {t["bpmn_id"] for t in p["current_tasks"]} >= {"cs_evacuate"}
    assert p["status"] == "suspended"
    assert p["gas_sample_pass"] is False and p["gas_sample_age_seconds"] == 0


def test_confined_space_is_issued_between_approval_and_entry(plant):
    iid = plant.start("worker1", "confined_space_permit", {"area": "unit-1"})
    plant.complete("worker1", iid, "cs_apply", CS_APPLICATION)
    assert row(plant, iid)["status"] == "in_review"
    plant.complete("leader1", iid, "cs_isolation", {"isolated": True, "energy_locked": True, "purged": True})
    plant.complete("prod1", iid, "cs_approval", APPROVE)
    p = row(plant, iid)
    assert (p["status"], p["type"], p["grade"], p["location"]) == ("issued", "confined_space", None, "V-201 反应釜")


def test_simops_conflicts_are_listed_both_ways(plant):
    hot = working(plant, "unit-1", equipment_state="shutdown_purged")
    cs = plant.start("worker1", "confined_space_permit", {"area": "unit-1"})
    plant.complete("worker1", cs, "cs_apply", CS_APPLICATION)
    # The confined-space application sees the live hot work though its own diagram has no check.
    conflicts = row(plant, cs)["simops_conflicts"]
    assert [(c["source"], c["instance_id"], c["status"]) for c in conflicts] == [("register", hot, "working")]
    assert "6.7" in conflicts[0]["reason"]
    assert row(plant, hot)["simops_conflicts"] == []                      # an application is not live yet
    plant.complete("leader1", cs, "cs_isolation", {"isolated": True, "energy_locked": True, "purged": True})
    plant.complete("prod1", cs, "cs_approval", {**APPROVE, "coordinator": "赵协调"})   # cross-work: coordinated
    assert [c["instance_id"] for c in row(plant, hot)["simops_conflicts"]] == [cs]
    # What the hot-work review itself recorded is listed too (reported nearby operations).
    other = applied(plant, "warehouse")
    plant.complete("prod1", other, "hw_unit_review", {**APPROVE, "nearby_operations": [
        {"kind": "painting", "distance_m": 5, "permit_ref": "PT-9"}]})
    c = row(plant, other)["simops_conflicts"]
    assert [(x["source"], x["kind"], x["distance_m"], x["business_key"]) for x in c] == [
        ("review", "painting", 5, "PT-9")]


def test_scope_filters_and_mine(plant, platform):
    ours = applied(plant, "warehouse")
    theirs = plant.start("prod2", "hot_work_permit", {"area": "tank-farm-3"})      # storage's permit
    assert {p["id"] for p in register(plant, "safety1")["items"]} >= {ours, theirs}   # plant-wide
    workshop = {p["id"] for p in register(plant, "prod1")["items"]}
    assert ours in workshop and theirs not in workshop                 # a workshop user: not storage's
    assert {p["id"] for p in register(plant, "prod2")["items"]} == {theirs}
    assert {p["id"] for p in register(plant, "worker1", mine="true")["items"]} == {ours}
    assert register(plant, "prod1", mine="true")["items"] == []
    # Holding a task counts as mine.
    task = plant.task("prod1", ours, "hw_unit_review")
    assert plant.api.post(f"/api/v1/tasks/{task['id']}/claim", "prod1").status_code == 200
    assert [p["id"] for p in register(plant, "prod1", mine="true")["items"]] == [ours]
    assert [p["id"] for p in register(plant, "safety1", area="tank-farm-3")["items"]] == [theirs]
    assert register(plant, "safety1", type="confined_space")["total"] == 0
    page = register(plant, "safety1", page_size=1, page=2)
    assert (page["total"], len(page["items"]), page["items"][0]["id"]) == (2, 1, ours)
    areas = {a["code"]: a["department"] for a in register(plant, "safety1")["areas"]}
    assert areas["tank-farm-3"] == "storage"


def test_bad_filters_are_422_naming_the_field(plant):
    for query, field in (("status=bogus", "status"), ("status=working,nope", "status"), ("type=fishing", "type"),
                         ("page=0", "page"), ("page_size=10000", "page_size"), ("mine=perhaps", "mine")):
        r = plant.api.get(f"/api/v1/permits?{query}", "safety1")
        assert r.status_code == 422, (query, r.json)
        assert field in [e["field"] for e in r.json["errors"]], (query, r.json)
    for query, field in (("level=4", "level"), ("overdue=maybe", "overdue")):
        r = plant.api.get(f"/api/v1/escalations?{query}", "safety1")
        assert r.status_code == 422 and field in [e["field"] for e in r.json["errors"]], (query, r.json)
    assert plant.api.get("/api/v1/permits").status_code == 401


def test_escalations_by_level(plant):
    duty = {"duty_type": "inspection", "duty_title": "合成装置区每日巡检未完成", "department": "workshop-1",
            "area": "unit-1"}
    iid = plant.start("safety1", "three_level_supervision", duty)
    other = plant.start("safety1", "three_level_supervision", {**duty, "department": "storage",
                                                               "area": "tank-farm-3"})

    def listing(user, **query):
        qs = "&".join(f"{k}={v}" for k, v in query.items())
        r = plant.api.get(f"/api/v1/escalations?{qs}", user)
        assert r.status_code == 200, r.json
        return r.json

    first = listing("safety1")
    assert [(e["instance_id"], e["level"], e["overdue"]) for e in first["items"]] == [(iid, 1, False),
                                                                                    (other, 1, False)]
    assert first["items"][0]["duty_title"] == "合成装置区每日巡检未完成"
    assert listing("safety1", overdue="true")["total"] == 0
    plant.later(hours=4, minutes=1)                                           # inspection: T1 = 4 h
    late = listing("safety1", overdue="true")["items"]
    assert [(e["level"], e["overdue_seconds"]) for e in late] == [(2, 60), (2, 60)]
    assert [e["department"] for e in listing("head1")["items"]] == ["workshop-1"]     # own department
    plant.later(hours=20)                                                     # T2 = 24 h
    assert [e["level"] for e in listing("safety1", level=3)["items"]] == [3, 3]
    plant.complete("prod1", iid, "duty", {"result": "已补做巡检并录入记录",
                                          "completed_at": "2026-03-03T09:00:00+00:00"})
    assert [e["instance_id"] for e in listing("safety1")["items"]] == [other]


def _application():
    from tests.test_library_hot_work import APPLICATION
    return {k: v for k, v in APPLICATION.items() if k != "work_content"}


def _site_ok():
    from tests.test_library_hot_work import SITE_OK
    return SITE_OK


def test_the_engine_writes_the_register_row_with_each_step(plant, platform):
    from sqlalchemy import select, update

    from engine.models import ProcessInstance

    def stored(iid):
        with platform.db.session(write=False) as s:
            return s.execute(select(ProcessInstance.register_status, ProcessInstance.register)
                             .where(ProcessInstance.id == iid)).one()

    iid = applied(plant, "warehouse")
    status, snap = stored(iid)
    assert (status, snap["grade"], snap["location"], snap["type"]) == ("in_review", "second", "泵出口法兰", "hot_work")
    other = plant.start("worker1", "hazard_rectification", {})
    assert stored(other) == (None, None)                                # not a permit
    # A confined space whose failed reading evacuates while the overdue escalation is open: the row
    # is written from the workflow's main branch, not from the stale escalation branch.
    cs = inside(plant)
    plant.later(hours=2, minutes=1)
    plant.later(minutes=31)
    plant.complete("leader1", cs, "cs_reading", reading(plant, o2=18.5, minutes_ago=0))
    status, snap = stored(cs)
    assert (status, snap["gas_sample_pass"], snap["suspended_by"]) == ("suspended", False, "gas_alarm")
    # A row from before the register (migration 0013) is derived from its stored state.
    with platform.db.session() as s:
        s.execute(update(ProcessInstance).where(ProcessInstance.id.in_([iid, cs]))
                  .values(register_status=None, register=None))
    assert (row(plant, iid)["status"], row(plant, cs)["status"]) == ("in_review", "suspended")
    assert row(plant, cs)["gas_sample_pass"] is False
    assert {p["id"] for p in register(plant, "safety1", status="suspended")["items"]} == {cs}
