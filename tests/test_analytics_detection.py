"""The generator plants an effect the data can show; analysis parameters are checked field by field."""
from datetime import datetime, timezone

from engine.hub.generate import generate
from tests.hub_support import hub_platform  # noqa: F401


def test_planted_machine_runs_at_high_load_on_the_planted_share_of_days():
    data = generate(seed=5, start=datetime(2026, 1, 1, tzinfo=timezone.utc), days=365, equipment=20, people=10,
                    work_records=60, hazards=500, planted_load=("EQ-0003",), planted_high_share=0.35)
    days = [r for r in data["equipment_run"] if r["equipment_code"] == "EQ-0003"]
    share = sum(1 for r in days if r["load_pct"] >= 85) / len(days)
    assert 0.28 <= share <= 0.42
    # the other machines are drawn exactly as without a plant
    plain = generate(seed=5, start=datetime(2026, 1, 1, tzinfo=timezone.utc), days=365, equipment=20, people=10,
                     work_records=60, hazards=500)
    first = [r for r in plain["equipment_run"] if r["equipment_code"] == "EQ-0001"]
    assert first == [r for r in data["equipment_run"] if r["equipment_code"] == "EQ-0001"]


def test_bad_dimensions_and_bands_are_422_naming_the_parameter(api, hub_platform):
    for params, field in (({"violation_hotspots": {"dimensions": ["size"]}}, "params.violation_hotspots.dimensions"),
                          ({"violation_hotspots": {"dimensions": []}}, "params.violation_hotspots.dimensions"),
                          ({"equipment_load": {"bands": ["high"]}}, "params.equipment_load.bands"),
                          ({"equipment_load": {"bands": [60, 250]}}, "params.equipment_load.bands")):
        r = api.post("/api/v1/analytics/runs", "safety1", json={"period": "2026-11", "params": params})
        assert r.status_code == 422 and r.json["errors"][0]["field"] == field, r.json
    assert api.get("/api/v1/analytics/runs", "safety1").json["items"] == []            # nothing stored
    r = api.post("/api/v1/analytics/runs", "safety1",
                 json={"period": "2026-11", "analyses": ["violation_hotspots", "equipment_load"],
                       "params": {"violation_hotspots": {"dimensions": ["team"]}, "equipment_load": {"bands": [70]}}})
    assert r.status_code == 201
    runs = {x["analysis"]: x["result"] for x in r.json["runs"]}
    assert list(runs["violation_hotspots"]["dimensions"]) == ["team"]
    assert runs["equipment_load"]["bands"] == ["0-70%", "≥70%"]
