"""Fusion analyses on generated data with a known answer: planted effects are found, none planted → none flagged."""
from datetime import datetime, timezone

import pytest

from connectors.hub import HubConnector
from engine.hub.generate import generate
from tests.hub_support import hub_platform, load  # noqa: F401

START = datetime(2026, 9, 1, tzinfo=timezone.utc)   # Sep–Nov: the 3-month window ending with 2026-11
SMALL = dict(start=START, days=91, equipment=30, people=200, work_records=3000, hazards=900, teams=20, areas=6)


def test_planted_load_effect_and_violation_hotspot_are_found_and_pushed(api, hub_platform):
    p = hub_platform
    data = generate(seed=11, planted_load=("EQ-0007",), load_multiplier=5.0, planted_team="T03",
                    team_multiplier=4.0, **SMALL)
    load(p, data)
    r = api.post("/api/v1/analytics/runs", "safety1", json={"period": "2026-11"})
    assert r.status_code == 201, r.json
    runs = {x["analysis"]: x for x in r.json["runs"]}
    load_res = runs["equipment_load"]["result"]
    assert [f["equipment"] for f in load_res["flagged"]] == ["EQ-0007"]
    flagged = load_res["flagged"][0]
    assert flagged["p_value"] < 0.01 / load_res["equipment_tested"] and flagged["rate_ratio"] > 2
    hot = runs["violation_hotspots"]["result"]
    assert [h["group"] for h in hot["dimensions"]["team"]["hotspots"]] == ["T03"]
    t03_area = next(w["area"] for w in data["work_record"] if w.get("team") == "T03")
    assert {h["group"] for h in hot["dimensions"]["area"]["hotspots"]} <= {t03_area}   # where T03 mostly works
    t03_posts = {x["post"] for x in data["person"] if x["team"] == "T03"}
    assert {h["group"] for h in hot["dimensions"]["post"]["hotspots"]} <= t03_posts   # T03's people's posts

    # pushed to production: a recommendation with a running process and a task in the production lane
    recs = api.get("/api/v1/hub/recommendations?period=2026-11", "prod1").json["items"]
    by_target = {x["target"]: x for x in recs}
    assert by_target["EQ-0007"]["kind"] == "reduce_load" and by_target["T03"]["kind"] == "training"
    eq_dept = next(e["department"] for e in data["equipment"] if e["code"] == "EQ-0007")
    tasks = api.get("/api/v1/tasks?process_key=fusion_recommendation&page_size=100", "admin").json["items"]
    task = next(t for t in tasks if t["instance_id"] == by_target["EQ-0007"]["instance_id"])
    assert (task["name"], task["candidate_roles"], task["department"]) == ("落实分析建议", ["production"], eq_dept)
    # pushed to supervision: focus items, also through the hub connector the work plan uses
    eq_area = next(e["area"] for e in data["equipment"] if e["code"] == "EQ-0007")
    focus = api.get(f"/api/v1/hub/focus-items?area={eq_area}", "safety1").json["items"]
    assert ("equipment", "EQ-0007") in {(f["target_kind"], f["target"]) for f in focus}
    hub = HubConnector({"database_url": p.settings.database_url})       # what a work-plan service task calls
    try:
        via_connector = hub.run("read", {"kind": "focus_item", "filters": {"area": eq_area}})
    finally:
        hub.close()
    assert "EQ-0007" in {rec["data"]["target"] for rec in via_connector["records"]}

    # reproducible: the same data gives the same digests; re-running does not duplicate pushes
    again = {x["analysis"]: x for x in p.analytics.run("2026-11", actor="test")}
    for name in runs:
        assert again[name]["input_digest"] == runs[name]["input_digest"]
        assert again[name]["result_digest"] == runs[name]["result_digest"]
    assert len(api.get("/api/v1/hub/recommendations?period=2026-11", "prod1").json["items"]) == len(recs)
    assert len(api.get("/api/v1/tasks?process_key=fusion_recommendation&page_size=100", "admin").json["items"]) \
        == len(tasks)
    latest = api.get("/api/v1/analytics/equipment_load?period=2026-11", "prod1").json
    assert latest["id"] == again["equipment_load"]["id"]


@pytest.mark.parametrize("seed", [21, 22, 23])
def test_nothing_planted_nothing_flagged(hub_platform, seed):
    load(hub_platform, generate(seed=seed, **SMALL))
    runs = {x["analysis"]: x for x in hub_platform.analytics.run("2026-11", ["equipment_load", "violation_hotspots"])}
    assert runs["equipment_load"]["result"]["equipment_tested"] >= 25
    assert runs["equipment_load"]["result"]["flagged"] == []
    assert runs["violation_hotspots"]["result"]["hotspots"] == []
    assert hub_platform.analytics.recommendations(period="2026-11") == []


def test_supervision_and_permit_statistics_match_the_records(hub_platform):
    p = hub_platform
    p.hub.upsert("inspection", [
        {"ref": f"I{i}", "at": f"2026-11-{i + 1:02d}T09:00:00Z", "area": "unit-1", "found_issue": i % 4 == 0}
        for i in range(20)] + [{"ref": "I-OCT", "at": "2026-10-05T09:00:00Z", "area": "unit-1", "found_issue": True}])
    p.hub.upsert("production_stop", [
        {"ref": "S1", "area": "unit-1", "started_at": "2026-11-03T00:00:00Z", "ended_at": "2026-11-03T06:00:00Z",
         "cause_kind": "safety"},
        {"ref": "S2", "area": "unit-1", "started_at": "2026-11-04T00:00:00Z", "ended_at": "2026-11-04T18:00:00Z",
         "cause_kind": "equipment"}])
    p.hub.upsert("work_record", [
        {"ref": "PM1", "source": "permit", "kind": "hot_work", "grade": "first", "area": "unit-1",
         "started_at": "2026-11-05T08:00:00Z", "ended_at": "2026-11-05T12:00:00Z",
         "applied_at": "2026-11-05T06:00:00Z", "approved_at": "2026-11-05T07:00:00Z", "suspensions": 1,
         "suspension_causes": ["gas_alarm"]},
        {"ref": "PM2", "source": "permit", "kind": "hot_work", "grade": "first", "area": "tank-farm-3",
         "started_at": "2026-11-06T08:00:00Z", "ended_at": "2026-11-06T10:00:00Z",
         "applied_at": "2026-11-06T05:00:00Z", "approved_at": "2026-11-06T08:00:00Z"},
        {"ref": "WO1", "source": "mes", "kind": "repair", "area": "unit-1", "started_at": "2026-11-06T08:00:00Z"}])
    runs = {x["analysis"]: x["result"] for x in p.analytics.run("2026-11", ["supervision", "permits"])}
    cur = runs["supervision"]["period"]
    assert (cur["inspections"], cur["with_findings"], cur["precision"]) == (20, 5, 0.25)
    assert (cur["stop_hours"], cur["safety_stop_hours"], cur["interference"]) == (24.0, 6.0, 0.25)
    assert runs["supervision"]["months"][-2]["precision"] == 1.0              # October, the trend's previous point
    first = next(g for g in runs["permits"]["by_grade"] if g["group"] == "first")
    assert first["count"] == 2 and first["duration_h"]["mean"] == 3.0 and first["approval_h"]["median"] == 2.0
    assert first["suspensions"] == 1 and first["causes"] == {"gas_alarm": 1}
    assert runs["permits"]["total"]["count"] == 2                             # the MES work order is not a permit


def test_bad_run_requests_name_the_field(api, hub_platform):
    r = api.post("/api/v1/analytics/runs", "safety1", json={"period": "2026-13"})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "period"
    r = api.post("/api/v1/analytics/runs", "safety1", json={"period": "2026-11", "analyses": ["astrology"]})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "analyses"
    r = api.post("/api/v1/analytics/runs", "safety1",
                 json={"period": "2026-11", "params": {"equipment_load": {"alpha": 3}}})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "params.equipment_load.alpha"
    assert api.post("/api/v1/analytics/runs", "worker1", json={"period": "2026-11"}).status_code == 403
    assert api.get("/api/v1/analytics/permits?period=2026-11", "prod1").status_code == 404
    assert api.get("/api/v1/analytics/runs", "prod1").json["items"] == []
