"""The alert rules file and the rule evaluation (no database)."""
import json
from datetime import datetime, timedelta, timezone

import pytest

from engine.config import Settings
from engine.errors import Invalid
from engine.iot.devices import DeviceInfo
from engine.iot.evaluator import Evaluator, pass_breach
from engine.config import REPO_ROOT as ROOT
from engine.iot.policy import evaluate_policy
from engine.iot.rules import DEFAULT_RULES_PATH, load_rules, parse_rules

RULES = load_rules()
T0 = datetime(2026, 11, 29, 8, 0, tzinfo=timezone.utc)


def detector(dev_id="GT-1", area="tank-farm-3", type="combustible_lel", lel=5.0, **points):
    pts = {"high1": 25.0, "high2": 50.0, "low1": None, "low2": None, **points}
    unit = {"combustible_lel": "%LEL", "o2": "%vol", "load": "%", "h2s": "ppm"}.get(type, "%LEL")
    return DeviceInfo(dev_id, type, "gas", unit, area, "storage", lel, pts["high1"], pts["high2"], pts["low1"],
                      pts["low2"], 0.0, 200.0, True)


def feed(ev, d, values, step=1.0, start=T0):
    out = []
    for i, v in enumerate(values):
        out.extend(ev.evaluate(d, v, start + timedelta(seconds=i * step)))
    return out


def test_default_rules_file_is_valid_and_carries_the_domain_numbers():
    assert RULES.device_types["combustible_lel"].setpoints == {"high1": 25, "high2": 50}
    assert RULES.grades == {"level1": "yellow", "level2": "orange", "permit_breach": "red",
                            "level2_confined_space": "red"}
    assert "deadline_minutes" not in RULES.raw and "owners" not in RULES.raw  # the alert_policy DMN has them


def test_deadlines_and_owners_by_grade_come_from_the_alert_policy_table():
    table = evaluate_policy((ROOT / "bpmn" / "alert_policy.dmn").read_text("utf-8"))
    assert [table[g]["deadline_minutes"] for g in ("red", "orange", "yellow", "blue")] == [15, 60, 240, 1440]
    assert [table[g]["owner_department"] for g in ("red", "orange", "yellow", "blue")] == \
        ["safety", "safety", "@area", "maintenance"]
    broken = (ROOT / "bpmn" / "alert_policy.dmn").read_text("utf-8").replace("<text>1440</text>", "<text>0</text>")
    with pytest.raises(Invalid) as err:
        evaluate_policy(broken)
    assert [e["field"] for e in err.value.errors] == ["alert_policy[blue].deadline_minutes"]


def test_a_rules_file_that_still_sets_deadlines_or_owners_is_refused_naming_the_table():
    raw = json.loads(DEFAULT_RULES_PATH.read_text())
    raw["deadline_minutes"] = {"red": 15, "orange": 60, "yellow": 240, "blue": 1440}
    raw["owners"] = {"red": "safety", "orange": "safety", "yellow": "@area", "blue": "maintenance"}
    with pytest.raises(Invalid) as err:
        parse_rules(raw, source="plant_rules.json")
    assert "alert_policy" in err.value.detail and "plant_rules.json" in err.value.detail
    assert [e["field"] for e in err.value.errors] == ["deadline_minutes", "owners"]
    assert all("alert_policy DMN" in e["message"] for e in err.value.errors)


def test_a_broken_rules_file_is_refused_with_every_problem_named(tmp_path):
    raw = json.loads(DEFAULT_RULES_PATH.read_text())
    raw["grades"]["level1"] = "purple"
    raw["rules"][0]["device_types"] = ["unobtainium"]
    raw["rules"].append({"id": "gas_threshold", "kind": "threshold", "device_types": ["o2"]})
    raw["rules"].append({"id": "rise", "kind": "rate_of_rise", "device_types": ["o2"]})
    with pytest.raises(Invalid) as err:
        parse_rules(raw)
    fields = [e["field"] for e in err.value.errors]
    last = f"rules/{len(raw['rules']) - 1}"                    # the appended rate_of_rise rule
    assert "grades/level1" in fields and last in fields  # rate_of_rise without rise/window/grade
    raw = json.loads(DEFAULT_RULES_PATH.read_text())
    raw["rules"][0]["device_types"] = ["unobtainium"]
    raw["rules"].append({"id": "gas_threshold", "kind": "threshold", "device_types": ["o2"]})
    with pytest.raises(Invalid) as err:
        parse_rules(raw)
    assert {e["field"] for e in err.value.errors} == {"rules/0/device_types", f"rules/{len(raw['rules']) - 1}/id"}
    bad = tmp_path / "rules.json"
    bad.write_text("{ not json")
    with pytest.raises(Invalid) as err:
        load_rules(bad)
    assert err.value.errors[0]["field"] == "line 1"


def test_rules_file_from_the_environment_changes_the_grading(tmp_path):
    raw = json.loads(DEFAULT_RULES_PATH.read_text())
    raw["grades"]["level1"] = "orange"
    path = tmp_path / "plant_rules.json"
    path.write_text(json.dumps(raw))
    settings = Settings.from_env({"ANJIAN_DATA_DIR": str(tmp_path), "ANJIAN_SECRET_KEY": "k" * 40,
                                  "ANJIAN_ALERT_RULES": str(path)})
    rules = load_rules(settings.alert_rules_path)
    found = Evaluator(rules).evaluate(detector(), 30, T0)
    assert [f.grade for f in found if f.rule == "gas_threshold"] == ["orange"]


def test_threshold_opens_at_level1_and_escalates_at_level2_without_flooding():
    ev = Evaluator(RULES)
    found = [f for f in feed(ev, detector(), [2, 26, 27, 28, 55, 56]) if f.rule == "gas_threshold"]
    assert [(f.grade, f.level, f.onset) for f in found] == [("yellow", 1, True), ("orange", 2, True)]


def test_hysteresis_keeps_the_level_until_the_value_leaves_the_band():
    ev = Evaluator(RULES)
    d = detector()
    # 5 % band of 25 %LEL = 1.25: 24.5 stays in level 1, 23 leaves it, 26 is a new onset
    found = [f for f in feed(ev, d, [26, 24.5, 26, 23, 26]) if f.rule == "gas_threshold"]
    assert [f.onset for f in found] == [True, True]
    assert len(found) == 2


def test_minimum_duration_for_equipment_load():
    ev = Evaluator(RULES)
    d = detector("P-1", type="load", lel=None, high1=90.0, high2=100.0)
    found = [f for f in feed(ev, d, [95] * 40, step=1.0) if f.rule == "equipment_threshold"]
    assert len(found) == 1 and found[0].ts == T0 + timedelta(seconds=30)  # held 30 s before the alert
    ev.reset()
    assert not [f for f in feed(ev, d, [95] * 20 + [70] + [95] * 20) if f.rule == "equipment_threshold"]


def test_rate_of_rise_is_blue_and_combination_of_two_detectors_is_orange():
    ev = Evaluator(RULES)
    rise = [f for f in feed(ev, detector(), [1, 3, 6, 9, 12, 14]) if f.rule == "gas_rising"]
    assert [(f.grade, f.value) for f in rise] == [("blue", 12)]
    ev.reset()
    a, b, c = detector("GT-1"), detector("GT-2"), detector("GT-3", area="unit-1")
    out = ev.evaluate(a, 30, T0) + ev.evaluate(c, 30, T0) + ev.evaluate(b, 30, T0 + timedelta(seconds=5))
    combo = [f for f in out if f.rule == "two_detectors"]
    assert len(combo) == 1 and combo[0].grade == "orange" and combo[0].details["devices"] == ["GT-1", "GT-2"]
    assert combo[0].device_id is None and combo[0].open_key == "area:tank-farm-3|two_detectors"


def test_permit_pass_threshold_follows_gb30871_by_volume():
    methane = detector(lel=5.0)  # LEL >= 4 %: pass <= 0.5 %vol = 10 %LEL
    assert pass_breach(methane, 10.0, RULES) is None and pass_breach(methane, 10.5, RULES)
    propane = detector(lel=2.1)  # LEL < 4 %: pass <= 0.2 %vol = 9.5 %LEL
    assert pass_breach(propane, 9.0, RULES) is None and pass_breach(propane, 9.6, RULES)
    o2 = detector("O2-1", type="o2", lel=None, high1=23.5, high2=25.0, low1=19.5, low2=18.0)
    assert pass_breach(o2, 20.9, RULES) is None and pass_breach(o2, 19.0, RULES)
    found = Evaluator(RULES).evaluate(o2, 17.5, T0)
    assert {(f.rule, f.grade) for f in found} == {("gas_threshold", "orange"), ("permit_pass", "red")}


def test_bad_quality_is_a_sensor_fault_not_an_alarm():
    found = Evaluator(RULES).evaluate(detector(), 80, T0, "bad")
    assert [(f.rule, f.grade) for f in found] == [("sensor_fault", "blue")]
