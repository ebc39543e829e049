"""Fusion analyses on generated data with a known answer: planted effects are found, none planted → none flagged."""
import io
from datetime import datetime, timezone

import pytest

from connectors.hub import HubConnector
from engine.analytics.analyses import fmt_p, fmt_ratio
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


# --------------------------------------------------------------------------- issue 15: areas, load, contractors

def _rename_area(data: dict, old: str, new: str) -> dict:
    """The generated area ``old`` becomes the sample plant's ``new`` (an area the organisation knows)."""
    for rows in data.values():
        for r in rows:
            if r.get("area") == old:
                r["area"] = new
    return data


# balanced: hazards per worked hour equal in every area unless planted; 4 contractors do 30 % of the work
PLANT = dict(SMALL, balanced=True, contractors=4, contractor_share=0.3, violation_rate=0.004)
WINDOW = {"window_months": 3}
NEW = ("area_hotspots", "plant_load", "contractor_hotspots")


def test_planted_area_load_and_contractor_are_found_and_pushed_to_their_owners(api, hub_platform):
    p = hub_platform
    data = generate(seed=31, planted_area="area-03", area_multiplier=3.0, load_effect=3.0, planted_contractor="C02",
                    contractor_multiplier=4.0, **PLANT)
    # area-03 is the sample plant's tank-farm-3, owned by storage; the generator's people working there are
    # workshop-3's, so "the department with most hours" would be workshop-3
    load(p, _rename_area(data, "area-03", "tank-farm-3"))
    assert {w["department"] for w in data["work_record"] if w["area"] == "tank-farm-3"} == {"workshop-3"}
    # no single machine may pass (rate ratio ≥ 100), so equipment_load's verdict must tell of the fleet's rise
    params = {**{n: WINDOW for n in NEW}, "equipment_load": {"window_months": 3, "min_rate_ratio": 100}}
    runs = {x["analysis"]: x["result"] for x in p.analytics.run("2026-11", params=params)}
    _verdicts_state_the_tests_they_summarise(runs)
    area = runs["area_hotspots"]
    assert [r["area"] for r in area["by_area"] if r["flagged"]] == ["tank-farm-3"]
    assert [r["shift"] for r in area["by_shift"] if r["flagged"]] == []
    assert set(area["by_area"][0]) >= {"area", "hazards", "exposure", "rate", "rate_ratio", "p", "flagged"}
    assert len(area["by_shift"]) == 3 and area["exposure_unit"] and area["plant_rate"] > 0
    # exposure is every worked person-hour in the window, split over the shifts without loss
    assert abs(sum(r["exposure"] for r in area["by_shift"]) - sum(r["exposure"] for r in area["by_area"])) < 1

    load_res = runs["plant_load"]
    assert load_res["hazard_test"]["flagged"] and load_res["hazard_test"]["rate_ratio"] > 2
    assert not load_res["fault_test"]["flagged"]                       # faults do not depend on load here
    high = load_res["bands"][-1]
    assert high["hazards"] > 0 and high["faults"] > 0 and high["hazard_rate"] > 2 * load_res["bands"][0]["hazard_rate"]

    contractors = {r["contractor"]: r for r in runs["contractor_hotspots"]["by_contractor"]}
    assert sorted(contractors) == ["C01", "C02", "C03", "C04"]
    assert [c for c, r in contractors.items() if r["flagged"]] == ["C02"]
    managed_by = next(c["managing_department"] for c in data["contractor"] if c["code"] == "C02")
    assert contractors["C02"]["department"] == managed_by and contractors["C02"]["department_from"] == "contractor"

    recs = {(r["analysis"], r["target"]): r for r in p.analytics.recommendations(period="2026-11")}
    assert recs["area_hotspots", "tank-farm-3"]["department"] == "storage"          # the area's owner
    assert recs["contractor_hotspots", "C02"]["department"] == managed_by           # the contractor's manager
    tasks = api.get("/api/v1/tasks?process_key=fusion_recommendation&page_size=100", "admin").json["items"]
    by_instance = {t["instance_id"]: t for t in tasks}
    assert by_instance[recs["area_hotspots", "tank-farm-3"]["instance_id"]]["department"] == "storage"
    assert by_instance[recs["contractor_hotspots", "C02"]["instance_id"]]["department"] == managed_by
    focus = {(f["target_kind"], f["target"]) for f in p.analytics.focus_items(period="2026-11")}
    assert {("area", "tank-farm-3"), ("contractor", "C02"), ("plant", "load≥85%")} <= focus

    # significant but under the minimum rate ratio: not a hotspot, and the verdict must not deny the finding
    [run] = p.analytics.run("2026-11", ["area_hotspots"], params={"area_hotspots": {**WINDOW, "min_rate_ratio": 100}},
                            push=False)
    row = next(r for r in run["result"]["by_area"] if r["area"] == "tank-farm-3")
    assert not row["flagged"] and row["p"] < 1e-6
    assert run["result"]["verdict"].startswith(
        f"区域 tank-farm-3 隐患率为其余区域的 {fmt_ratio(row['rate_ratio'])} 倍 (p={fmt_p(row['p'])})，统计上显著，但低于")


def _verdicts_state_the_tests_they_summarise(runs: dict) -> None:
    for name, res in runs.items():
        assert res["verdict"] and res["verdict_en"], name
    eq = runs["equipment_load"]
    assert eq["flagged"] == [] and eq["fleet_test"]["significant"]
    assert "但全厂" in eq["verdict"] and "未发现高负荷下" not in eq["verdict"]
    assert f"p={fmt_p(eq['fleet_test']['p'])}" in eq["verdict"] and "No single machine" in eq["verdict_en"]
    row = next(r for r in runs["area_hotspots"]["by_area"] if r["flagged"])
    assert f"区域 {row['area']} 隐患率为其余区域的 {fmt_ratio(row['rate_ratio'])} 倍 (p={fmt_p(row['p'])})，显著偏高" \
        in runs["area_hotspots"]["verdict"]
    assert f"area {row['area']}: hazard rate {fmt_ratio(row['rate_ratio'])}×" in runs["area_hotspots"]["verdict_en"]
    t = runs["plant_load"]["hazard_test"]
    assert runs["plant_load"]["verdict"].startswith(
        f"高负荷（≥85%）时全厂隐患率为其他负荷的 {fmt_ratio(t['rate_ratio'])} 倍 (p={fmt_p(t['p'])})，显著偏高")
    c = next(r for r in runs["contractor_hotspots"]["by_contractor"] if r["flagged"])
    assert f"承包商 {c['contractor']} 违章率为全厂其余作业的 {fmt_ratio(c['rate_ratio'])} 倍 (p={fmt_p(c['p'])})" \
        in runs["contractor_hotspots"]["verdict"]
    assert (fmt_p(3.2e-8), fmt_p(0.0123), fmt_ratio(2.06), fmt_ratio(None)) == ("3e-8", "0.012", "2.1", "∞")


def test_null_plant_flags_nothing_and_says_so(hub_platform):
    p = hub_platform
    load(p, generate(seed=32, **PLANT))
    runs = {x["analysis"]: x["result"] for x in p.analytics.run("2026-11", list(NEW),
                                                               params={n: WINDOW for n in NEW})}
    assert not any(r["flagged"] for r in runs["area_hotspots"]["by_area"] + runs["area_hotspots"]["by_shift"])
    assert not runs["plant_load"]["hazard_test"]["flagged"]
    assert not any(r["flagged"] for r in runs["contractor_hotspots"]["by_contractor"])
    assert runs["area_hotspots"]["verdict"].startswith("未发现隐患率显著偏高的区域")
    assert runs["plant_load"]["verdict"].startswith("未发现高负荷")
    assert runs["contractor_hotspots"]["verdict"].startswith("未发现违章率显著偏高的承包商")
    assert p.analytics.recommendations(period="2026-11") == []


def test_violation_hotspot_of_an_area_goes_to_the_department_that_owns_it(hub_platform):
    p = hub_platform
    # workshop-1's people work most hours in tank-farm-3, which the organisation gives to storage
    work = [{"ref": f"W{a}{i}", "kind": "repair", "area": a, "department": "workshop-1", "team": "T01",
             "started_at": f"2026-11-{i + 1:02d}T08:00:00Z", "ended_at": f"2026-11-{i + 1:02d}T18:00:00Z",
             "workers": 10, "hours": 100} for a in ("tank-farm-3", "unit-1", "pipe-rack-a") for i in range(10)]
    viol = [{"ref": f"V{a}{i}", "at": f"2026-11-{i % 10 + 1:02d}T09:00:00Z", "area": a, "team": "T01"}
            for a, n in (("tank-farm-3", 30), ("unit-1", 3), ("pipe-rack-a", 3)) for i in range(n)]
    p.hub.upsert("work_record", work)
    p.hub.upsert("violation", viol)
    res = p.analytics.run("2026-11", ["violation_hotspots"], params={"violation_hotspots": {"dimensions": ["area"]}})
    hot = res[0]["result"]["hotspots"]
    assert [(h["group"], h["department"]) for h in hot] == [("tank-farm-3", "storage")]
    assert [r["department"] for r in p.analytics.recommendations(period="2026-11")] == ["storage"]
    assert "区域 tank-farm-3 违章率为同类其余的" in res[0]["result"]["verdict"]


def test_contractors_import_through_the_hub_and_bad_analysis_params_name_the_field(api, hub_platform):
    csv = "code,name,managing_department\nC07,安泰检修,maintenance\nC08,,storage\n"
    r = api.post("/api/v1/hub/contractor/import", "safety1", data={"file": (io.BytesIO(csv.encode()), "c.csv")},
                 content_type="multipart/form-data")
    assert r.status_code == 200 and (r.json["inserted"], r.json["rejected_count"]) == (1, 1), r.json
    assert r.json["rejected"][0]["errors"] == [{"field": "name", "message": "required", "rule": "required"}]
    r = api.post("/api/v1/hub/violation", "safety1", json={"ref": "V1", "at": "2026-11-02T08:00:00Z",
                                                           "area": "unit-1", "contractor": "C07"})
    assert r.status_code == 201 and r.json["record"]["contractor"] == "C07"
    for params, field in (({"area_hotspots": {"shift_starts": [8, 25]}}, "params.area_hotspots.shift_starts"),
                          ({"area_hotspots": {"utc_offset_hours": 20}}, "params.area_hotspots.utc_offset_hours"),
                          ({"area_hotspots": {"dimensions": ["team"]}}, "params.area_hotspots.dimensions")):
        r = api.post("/api/v1/analytics/runs", "safety1", json={"period": "2026-11", "params": params})
        assert r.status_code == 422 and r.json["errors"][0]["field"] == field, r.json
