"""An alarm suspends every live permit whose hazard it concerns, as alarm_permit_suspension.dmn says
(issue 14 §3), through the real alarm path (readings → evaluator → alerts → messages; SQLite and
PostgreSQL): gas alarms the hot-work and confined-space permits of the area, and temporary power and
blinding in fire/explosion areas; wind at or above the table's limit (default 10.8 m/s) the lifting and
work-at-height permits. Permits the table does not name keep working. The new permit types run as
stand-ins catching the same messages as their diagrams (tests/mini_permits.py)."""
from __future__ import annotations

from pathlib import Path

from engine.principal import SYSTEM
from tests.iot_support import (AREA, alert_files, deploy, gas_detector, gas_permit_process, iot,  # noqa: F401
                               ready_tasks, start_permit)
from tests.mini_permits import mini_permit_xml

ROOT = Path(__file__).resolve().parent.parent
GENERAL_AREA = "warehouse"          # sample plant: general area (tank-farm-3: major-hazard tank farm)
KINDS = ("blinding", "temp_power", "lifting", "height", "excavation", "road_closure")
EVERY_MESSAGE = ("gas_alarm", "wind_alarm", "stop_work")


def setup(platform, area):
    files = {"permit.bpmn": gas_permit_process(), **alert_files(),
             "simops_matrix.dmn": (ROOT / "bpmn" / "simops_matrix.dmn").read_text("utf-8"),
             "resume_request.json": (ROOT / "forms" / "resume_request.json").read_text("utf-8")}
    for kind in KINDS:   # every stand-in catches every message: only the table decides who is told
        files[f"{kind}_permit.bpmn"] = mini_permit_xml(kind, EVERY_MESSAGE)
    deploy(platform, files)
    permits = {"hot_work": start_permit(platform, area)}
    for kind in KINDS:
        permits[kind] = platform.instances.start(SYSTEM, f"{kind}_permit", None, {"area": area})["id"]
    return permits


def states(platform, permits):
    return {kind: ready_tasks(platform, iid) for kind, iid in permits.items()}


def test_a_gas_alarm_in_an_explosive_area_suspends_hot_work_blinding_and_temporary_power(iot, platform):
    permits = setup(platform, AREA)
    gas_detector(platform)
    iot.pipeline.handle_http([{"device": "GT-301", "value": 30.0}])          # over the permit pass threshold
    assert states(platform, permits) == {
        "hot_work": ["stop_work"], "blinding": ["held_gas_alarm"], "temp_power": ["held_gas_alarm"],
        "lifting": ["work"], "height": ["work"], "excavation": ["work"], "road_closure": ["work"]}
    red = [a for a in iot.alerts.list(SYSTEM)["items"] if a["grade"] == "red"]
    assert len(red) == 1
    events = iot.alerts.get(SYSTEM, red[0]["id"])["events"]
    told = [e["data"] for e in events if e["kind"] == "gas_alarm"]
    assert len(told) == 1 and sorted(i["id"] for i in told[0]["instances"]) == sorted(
        [permits["hot_work"], permits["blinding"], permits["temp_power"]])


def test_a_gas_alarm_in_a_general_area_leaves_blinding_and_temporary_power_working(iot, platform):
    permits = setup(platform, GENERAL_AREA)
    gas_detector(platform, "GT-W1", area=GENERAL_AREA)
    iot.pipeline.handle_http([{"device": "GT-W1", "value": 30.0}])
    assert states(platform, permits) == {
        "hot_work": ["stop_work"], "blinding": ["work"], "temp_power": ["work"],
        "lifting": ["work"], "height": ["work"], "excavation": ["work"], "road_closure": ["work"]}


def test_wind_at_the_tables_limit_suspends_lifting_and_work_at_height_only(iot, platform):
    permits = setup(platform, AREA)
    platform.iot.devices.create(SYSTEM, {"id": "WS-1", "type": "wind_speed", "area": AREA})
    iot.pipeline.handle_http([{"device": "WS-1", "value": 10.7}])            # force 5: below the default limit
    assert set(map(tuple, states(platform, permits).values())) == {("work",)}
    assert iot.alerts.list(SYSTEM)["total"] == 0
    iot.pipeline.handle_http([{"device": "WS-1", "value": 10.8}])
    assert states(platform, permits) == {
        "hot_work": ["work"], "blinding": ["work"], "temp_power": ["work"],
        "lifting": ["held_wind_alarm"], "height": ["held_wind_alarm"], "excavation": ["work"], "road_closure": ["work"]}
    alert = iot.alerts.list(SYSTEM)["items"][0]
    assert alert["device_id"] == "WS-1" and "10.8" in alert["title"]
    events = iot.alerts.get(SYSTEM, alert["id"])["events"]
    assert [sorted(i["id"] for i in e["data"]["instances"]) for e in events if e["kind"] == "wind_alarm"] == [
        sorted([permits["lifting"], permits["height"]])]


def test_the_wind_limit_is_the_tables(iot, platform, tmp_path, monkeypatch):
    """A plant that stops lifting from force 5 (8.0 m/s) edits the table, not the code."""
    (tmp_path / "bpmn").mkdir()
    text = (ROOT / "bpmn" / "alarm_permit_suspension.dmn").read_text("utf-8")
    assert text.count("<text>10.8</text>") == 2
    (tmp_path / "bpmn" / "alarm_permit_suspension.dmn").write_text(text.replace("<text>10.8</text>", "<text>8</text>"))
    monkeypatch.setattr(iot.suspension.table, "library_file", tmp_path / "bpmn" / "alarm_permit_suspension.dmn")
    iot.suspension.invalidate()
    permits = setup(platform, AREA)
    platform.iot.devices.create(SYSTEM, {"id": "WS-2", "type": "wind_speed", "area": AREA})
    iot.pipeline.handle_http([{"device": "WS-2", "value": 8.5}])
    assert states(platform, permits)["lifting"] == ["held_wind_alarm"]
    assert states(platform, permits)["height"] == ["held_wind_alarm"]


def test_the_permit_kinds_are_the_registers():
    """The table is asked about the register's eight types (engine/permits.py PERMIT_TYPES, the one
    list); a process outside the register is no permit type (a gas alarm reaches it with the rules'
    message, tests/test_iot_alarm_path.py)."""
    from engine.iot.suspension import permit_kind, permit_kinds
    from engine.permits import PERMIT_TYPES

    assert permit_kinds() == ("hot_work", "confined_space", "blinding", "height", "lifting", "temp_power",
                              "excavation", "road_closure")
    assert {t.process_key: permit_kind(t.process_key) for t in PERMIT_TYPES} == {f"{k}_permit": k
                                                                                  for k in permit_kinds()}
    assert permit_kind("test_hot_work_permit") is None
