"""Integrated assessment: indicators from records, configured weights, ranking, traceability."""
from datetime import datetime, timezone

import pytest
import time_machine

from engine.assessment.config import AssessmentConfig
from engine.assessment.service import AssessmentService
from tests.hub_support import hub_platform  # noqa: F401
from tests.processes import permit_files


def seed(p):
    p.hub.upsert("work_record", [
        {"ref": "W1", "source": "mes", "kind": "production_shift", "area": "unit-1", "department": "workshop-1",
         "started_at": "2026-11-02T08:00:00Z", "hours": 600, "planned_output": 50, "actual_output": 45},
        {"ref": "W2", "source": "mes", "kind": "production_shift", "area": "unit-1", "department": "workshop-1",
         "started_at": "2026-11-03T08:00:00Z", "hours": 400, "planned_output": 50, "actual_output": 45},
        {"ref": "W3", "source": "mes", "kind": "production_shift", "area": "tank-farm-3", "department": "storage",
         "started_at": "2026-11-03T08:00:00Z", "hours": 500, "planned_output": 100, "actual_output": 100},
        {"ref": "W-OCT", "source": "mes", "kind": "production_shift", "area": "unit-1", "department": "workshop-1",
         "started_at": "2026-10-30T08:00:00Z", "hours": 9000, "planned_output": 100, "actual_output": 0}])
    hz = []
    for i, (dept, late, who) in enumerate([("workshop-1", False, "prod1"), ("workshop-1", False, "prod1"),
                                           ("workshop-1", False, "prod1"), ("workshop-1", True, "prod1"),
                                           ("storage", False, "prod2"), ("storage", False, "prod2")]):
        hz.append({"ref": f"H{i}", "found_at": "2026-11-01T08:00:00Z", "area": "unit-1", "department": dept,
                   "deadline": "2026-11-10T00:00:00Z",
                   "closed_at": "2026-11-12T00:00:00Z" if late else "2026-11-08T00:00:00Z", "rectified_by": who})
    p.hub.upsert("hazard", hz)
    p.hub.upsert("violation", [{"ref": "V1", "at": "2026-11-05T10:00:00Z", "area": "unit-1",
                                "department": "workshop-1"}])
    p.hub.upsert("escalation", [
        {"ref": "E1", "level": 1, "department": "workshop-1", "received_at": "2026-11-11T00:00:00Z"},
        {"ref": "E2", "level": 2, "department": "workshop-1", "received_at": "2026-11-12T00:00:00Z"}])


def test_department_scores_ranking_and_records(api, hub_platform):
    p = hub_platform
    seed(p)
    assert api.deploy(permit_files()).status_code == 201
    with time_machine.travel(datetime(2026, 11, 10, 9, tzinfo=timezone.utc), tick=False):
        api._tokens.clear()
        iid = api.post("/api/v1/process-instances", "prod1", json={"process_key": "permit", "variables": {}}).json["id"]
        apply = api.get(f"/api/v1/tasks?instance_id={iid}", "prod1").json["items"][0]
        assert api.post(f"/api/v1/tasks/{apply['id']}/complete", "prod1",
                        json={"data": {"content": "检修", "workers": 2}}).status_code == 200
        site = api.get(f"/api/v1/tasks?instance_id={iid}&state=ready", "leader1").json["items"][0]
        assert site["due_at"].startswith("2026-11-10T11:00")               # PT2H
        assert api.post(f"/api/v1/tasks/{site['id']}/complete", "leader1", json={"data": {}}).status_code == 200
    api._tokens.clear()
    r = api.get("/api/v1/assessments?period=2026-11&level=department", "boss1")
    assert r.status_code == 200, r.json
    items = {x["subject"]: x for x in r.json["items"]}
    w1, st = items["workshop-1"]["indicators"], items["storage"]["indicators"]
    assert (w1["plan_completion"]["value"], w1["on_time_rectification"]["value"]) == (0.9, 0.75)
    assert (w1["on_time_rectification"]["numerator"], w1["on_time_rectification"]["denominator"]) == (3, 4)
    assert (w1["violation_rate"]["value"], w1["violation_rate"]["score"]) == (1.0, 0.5)   # 1 per 1,000 h; zero at 2
    assert w1["escalations"]["by_level"] == {"1": 1, "2": 1, "3": 0} and w1["escalations"]["score"] == 0.7
    # site check done within its 2 h; the review (due 13:00 the same day) is still open: 1 of 2 before due
    assert (w1["supervision_cooperation"]["numerator"], w1["supervision_cooperation"]["denominator"]) == (1, 2)
    assert st["supervision_cooperation"]["value"] is None                  # no due tasks: left out, not zero
    assert items["workshop-1"]["score"] == pytest.approx(100 * (.2 * .9 + .3 * .75 + .2 * .5 + .15 * .7 + .15 * .5))
    assert items["storage"]["score"] == 100.0
    assert [x["subject"] for x in r.json["items"]] == ["storage", "workshop-1"]
    assert [x["rank"] for x in r.json["items"]] == [1, 2]
    trace = api.get(w1["on_time_rectification"]["records"], "boss1").json
    assert sorted((x["ref"], x["on_time"]) for x in trace["records"]) == [
        ("H0", True), ("H1", True), ("H2", True), ("H3", False)]
    q = api.get("/api/v1/assessments?period=2026-Q4&level=department", "boss1").json
    assert {x["subject"]: x["indicators"]["plan_completion"]["value"] for x in q["items"]}["workshop-1"] == 0.45


def test_person_level_and_configured_weights(api, hub_platform):
    p = hub_platform
    seed(p)
    people = {x["subject"]: x for x in api.get("/api/v1/assessments?period=2026-11&level=person", "safety1").json["items"]}
    assert people["prod1"]["indicators"]["on_time_rectification"]["value"] == 0.75
    assert api.get("/api/v1/assessments?period=2026-11&level=person", "worker1").status_code == 403
    only_on_time = AssessmentService(p.db, AssessmentConfig.from_dict(
        {"weights": {k: 0 for k in ("plan_completion", "violation_rate", "escalations", "supervision_cooperation")}}))
    scores = {x["subject"]: x["score"] for x in only_on_time.assess("2026-11")["items"]}
    assert scores == {"workshop-1": 75.0, "storage": 100.0}
    with pytest.raises(ValueError, match="weights: unknown indicator 'speed'"):
        AssessmentConfig.from_env({"ANJIAN_ASSESSMENT": '{"weights": {"speed": 1}}'})


def test_bad_assessment_queries(api, hub_platform):
    r = api.get("/api/v1/assessments?period=November", "boss1")
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "period"
    r = api.get("/api/v1/assessments?period=2026-11&level=team", "boss1")
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "level"
    r = api.get("/api/v1/assessments/records?period=2026-11&level=department&subject=x&indicator=luck", "boss1")
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "indicator"
