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


def test_work_hours_are_split_over_the_shifts_of_plant_time():
    from datetime import datetime as dt

    from engine.analytics.analyses import _shift_names, _split_over_shifts

    assert _shift_names([0, 8, 16]) == ["00-08", "08-16", "16-24"] and _shift_names([6, 14, 22])[-1] == "22-06"
    # 23:00-09:00 UTC is 07:00-17:00 in the plant (UTC+8): 1 h night, 8 h day, 1 h evening
    assert _split_over_shifts(dt(2026, 1, 1, 23), dt(2026, 1, 2, 9), [0, 8, 16], 8) == [1.0, 8.0, 1.0]
    # a shift over midnight: 20:00-04:00 plant time in the 22-06 shift for 6 h
    assert _split_over_shifts(dt(2026, 1, 1, 12), dt(2026, 1, 1, 20), [6, 14, 22], 8) == [0.0, 2.0, 6.0]
    assert _split_over_shifts(dt(2026, 1, 1, 12), None, [0, 8, 16], 8) == [0.0, 0.0, 0.0]   # no end: caller decides


def test_generator_plants_the_area_load_and_contractor_effects_it_is_asked_for():
    from engine.hub.generate import REALISTIC

    base = dict(REALISTIC, days=120, work_records=4000, start=datetime(2026, 1, 1, tzinfo=timezone.utc))
    null = generate(seed=3, **base)
    planted = generate(seed=3, planted_area="area-03", area_multiplier=3.0, planted_contractor="C02",
                       contractor_multiplier=5.0, **base)
    assert [c["code"] for c in null["contractor"]] == ["C01", "C02", "C03", "C04", "C05", "C06"]
    per_area = lambda d: sum(1 for h in d["hazard"] if h["area"] == "area-03") / len(d["hazard"])  # noqa: E731
    assert per_area(null) < 0.25 < per_area(planted)                       # 1/6 of hazards → 3/8
    c02 = lambda d: sum(1 for v in d["violation"] if v["contractor"] == "C02")  # noqa: E731
    assert c02(planted) > 3 * max(c02(null), 1)
    # balanced: every area holds the same number of machines
    from collections import Counter
    assert set(Counter(e["area"] for e in null["equipment"]).values()) == {5}
