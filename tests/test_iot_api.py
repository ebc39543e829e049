"""Devices, gateway telemetry, readings and alerts through the REST API (SQLite and PostgreSQL)."""
from datetime import datetime, timedelta, timezone

from engine.principal import SYSTEM
from tests.iot_support import (AREA, OTHER_AREA, alert_files, deploy, gas_detector, gas_permit_process, iot,  # noqa: F401
                               ready_tasks, start_permit)

GT = {"id": "GT-301", "type": "combustible_lel", "area": AREA, "gas": "methane", "name": "1# 可燃气体"}


def test_device_gets_gbt50493_setpoints_and_bad_devices_are_422_naming_the_field(api, iot):
    r = api.post("/api/v1/devices", "maint1", json=GT)
    assert r.status_code == 201, r.json
    assert r.json["setpoints"] == {"high1": 25.0, "high2": 50.0} and r.json["unit"] == "%LEL"
    vol = api.post("/api/v1/devices", "maint1", json={"id": "GV-1", "type": "combustible_vol", "area": AREA,
                                                       "gas": "propane"}).json
    assert vol["setpoints"] == {"high1": 0.525, "high2": 1.05}  # 25 % / 50 % of propane's LEL 2.1 %vol
    o2 = api.post("/api/v1/devices", "maint1", json={"id": "O2-1", "type": "o2", "area": AREA}).json
    assert o2["setpoints"]["low1"] == 19.5

    r = api.post("/api/v1/devices", "maint1", json={"id": "bad/id", "type": "combustible_lel", "area": "nowhere",
                                                     "setpoints": {"high1": 120}})
    assert r.status_code == 422 and r.headers["Content-Type"] == "application/problem+json"
    assert {e["field"] for e in r.json["errors"]} >= {"id", "area"}
    r = api.post("/api/v1/devices", "maint1", json={"id": "GT-9", "type": "combustible_lel", "area": AREA})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "gas"
    r = api.post("/api/v1/devices", "maint1", json={**GT, "id": "GT-9", "unit": "%vol"})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "unit"
    r = api.post("/api/v1/devices", "maint1", json={**GT, "id": "GT-9", "setpoints": {"high1": 60, "high2": 40}})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "high2"
    r = api.post("/api/v1/devices", "maint1", json=GT)
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "id"
    assert api.post("/api/v1/devices", "worker1", json={**GT, "id": "GT-X"}).status_code == 403
    assert api.get("/api/v1/devices?area=" + AREA, "worker1").json["total"] == 3

    r = api._call("patch", "/api/v1/devices/GT-301", "maint1", json={"setpoints": {"high1": 20}})
    assert r.status_code == 200 and r.json["setpoints"]["high1"] == 20
    r = api._call("patch", "/api/v1/devices/GT-301", "maint1", json={"area": "nowhere"})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "area"
    assert api._call("delete", "/api/v1/devices/GT-301", "maint1").json["active"] is False
    assert api.get("/api/v1/devices?area=" + AREA, "maint1").json["total"] == 2


def test_bulk_import_is_all_or_nothing(api, iot):
    rows = [{**GT, "id": f"GT-{i}"} for i in range(5)]
    rows[3]["area"] = "atlantis"
    r = api.post("/api/v1/devices/import", "maint1", json={"devices": rows})
    assert r.status_code == 422
    assert r.json["errors"] == [{"field": "[3].area", "message": r.json["errors"][0]["message"]}]
    assert api.get("/api/v1/devices", "maint1").json["total"] == 0
    csv = "id,type,area,gas,high1\nGT-A,combustible_lel,tank-farm-3,methane,20\nO2-A,o2,unit-1,,\n"
    r = api.post("/api/v1/devices/import", "maint1", data=csv, content_type="text/csv")
    assert r.status_code == 200, r.json
    assert r.json == {"created": 2, "updated": 0, "total": 2}
    r = api.post("/api/v1/devices/import", "maint1", data=csv, content_type="text/csv")
    assert r.json == {"created": 0, "updated": 2, "total": 2}
    assert api.get("/api/v1/devices/GT-A", "maint1").json["setpoints"]["high1"] == 20


def test_telemetry_batch_is_stored_and_bad_batch_stores_nothing(api, iot, platform):
    gas_detector(platform)
    t0 = (datetime.now(timezone.utc) - timedelta(hours=1)).replace(microsecond=0)
    batch = [{"device": "GT-301", "value": 1.0 + i % 3, "ts": (t0 + timedelta(seconds=i)).isoformat()}
             for i in range(120)]
    r = api.post("/api/v1/telemetry", "maint1", json={"readings": batch})
    assert r.status_code == 200, r.json
    assert r.json["stored"] == 120 and r.json["alerts"] == []

    bad = [{"device": "GT-301", "value": 2}, {"device": "GT-301", "value": "high"}, {"device": "nope", "value": 1},
           {"device": "GT-301", "value": 150}, {"device": "GT-301", "value": 1, "ts": "2026-11-29T08:00:00"}]
    r = api.post("/api/v1/telemetry", "maint1", json=bad)
    assert r.status_code == 422
    fields = [e["field"] for e in r.json["errors"]]
    assert fields == ["readings[1].value", "readings[2].device", "readings[3].value", "readings[4].ts"]
    assert "measuring range" in r.json["errors"][2]["message"]
    assert api.post("/api/v1/telemetry", "worker1", json=batch[0]).status_code == 403

    q = f"from={t0.isoformat()}&to={(t0 + timedelta(minutes=2)).isoformat()}".replace("+", "%2B")
    raw = api.get(f"/api/v1/devices/GT-301/readings?{q}", "worker1").json
    assert len(raw["items"]) == 120  # the rejected batch left nothing behind
    down = api.get(f"/api/v1/devices/GT-301/readings/downsampled?{q}&buckets=4", "worker1").json
    assert [b["count"] for b in down["items"]] == [30, 30, 30, 30]
    assert down["items"][0]["min"] == 1.0 and down["items"][0]["max"] == 3.0
    assert api.get("/api/v1/devices/GT-301/readings?from=yesterday", "worker1").status_code == 422
    assert api.get("/api/v1/devices/NOPE/readings", "worker1").status_code == 404


def test_one_alert_escalates_yellow_to_orange_and_starts_the_response_process(api, iot, platform):
    deploy(platform, alert_files())
    gas_detector(platform)
    for v in (2, 27, 30, 28):  # level 1 three times: one yellow alert
        assert api.post("/api/v1/telemetry", "maint1", json={"device": "GT-301", "value": v}).status_code == 200
    alerts = api.get("/api/v1/alerts?status=active", "safety1").json["items"]
    threshold = [a for a in alerts if a["rule"] == "gas_threshold"]
    assert len(threshold) == 1 and threshold[0]["grade"] == "yellow"
    assert threshold[0]["owner_department"] == "storage"  # yellow: the area's own department
    assert threshold[0]["process_status"] == "started"
    api.post("/api/v1/telemetry", "maint1", json={"device": "GT-301", "value": 55})
    a = api.get(f"/api/v1/alerts/{threshold[0]['id']}", "safety1").json
    assert a["grade"] == "orange" and a["escalations"] == 1 and a["peak_value"] == 55
    assert a["owner_department"] == "safety"
    assert [e["kind"] for e in a["events"]][:3] == ["opened", "process", "escalated"]
    # the alert_response instance carries the alert
    inst = api.get(f"/api/v1/process-instances/{a['process_instance_id']}", "safety1").json
    assert inst["variables"]["alert"]["alert_id"] == a["id"] and inst["variables"]["alert"]["grade"] == "yellow"
    assert (inst["area"], inst["department"]) == ("tank-farm-3", "storage")   # scope from the correlation
    assert inst["business_key"] == f"alert-{a['id']}"
    assert len([x for x in api.get("/api/v1/alerts?status=active", "safety1").json["items"]
                if x["rule"] == "gas_threshold"]) == 1


def test_alert_without_response_process_is_recorded_not_lost(api, iot, platform):
    gas_detector(platform)
    api.post("/api/v1/telemetry", "maint1", json={"device": "GT-301", "value": 30})
    a = api.get("/api/v1/alerts?grade=yellow", "safety1").json["items"][0]
    assert a["status"] == "open" and a["process_status"] == "no_process"


def test_breach_of_permit_pass_suspends_the_permit_in_that_area_only(api, iot, platform):
    deploy(platform, {"permit.bpmn": gas_permit_process()})
    gas_detector(platform)
    here = start_permit(platform, AREA)
    there = start_permit(platform, OTHER_AREA)
    # 12 %LEL methane = 0.6 %vol: below detector level 1 but above the hot-work pass of 0.5 %vol
    r = api.post("/api/v1/telemetry", "maint1", json={"device": "GT-301", "value": 12})
    assert r.status_code == 200
    assert [a["grade"] for a in r.json["alerts"]] == ["red"]
    assert ready_tasks(platform, here) == ["stop_work"]
    assert ready_tasks(platform, there) == ["work"]
    red = api.get("/api/v1/alerts?grade=red", "safety1").json["items"][0]
    assert red["rule"] == "permit_pass" and red["details"]["permits"] == [here]
    gas_event = [e for e in api.get(f"/api/v1/alerts/{red['id']}", "safety1").json["events"] if e["kind"] == "gas_alarm"]
    assert gas_event[0]["data"]["instances"][0]["id"] == here
    inst = api.get(f"/api/v1/process-instances/{here}", "safety1").json
    alarm = inst["variables"]["gas_alarm"]            # the payload, in the message's variable only
    assert alarm["alert_id"] == red["id"] and "0.6 %vol" in alarm["reason"]
    assert "alert_id" not in inst["variables"]


def test_same_reading_without_a_permit_is_not_red(api, iot, platform):
    gas_detector(platform)
    r = api.post("/api/v1/telemetry", "maint1", json={"device": "GT-301", "value": 12})
    assert r.json["alerts"] == []
    assert api.get("/api/v1/alerts", "safety1").json["total"] == 0


def test_acknowledge_and_close_only_with_a_disposal_record(api, iot, platform):
    gas_detector(platform)
    api.post("/api/v1/telemetry", "maint1", json={"device": "GT-301", "value": 30})
    a = api.get("/api/v1/alerts?grade=yellow", "safety1").json["items"][0]
    assert api.post(f"/api/v1/alerts/{a['id']}/acknowledge", "worker1", json={}).status_code == 403
    assert api.post(f"/api/v1/alerts/{a['id']}/acknowledge", "prod1", json={}).status_code == 403  # other dept
    r = api.post(f"/api/v1/alerts/{a['id']}/acknowledge", "prod2", json={"comment": "到场"})
    assert r.status_code == 200 and r.json["status"] == "acknowledged" and r.json["acknowledged_by"] == "prod2"
    r = api.post(f"/api/v1/alerts/{a['id']}/dispose", "prod2", json={"cause": "阀门泄漏"})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "action"
    assert api.get(f"/api/v1/alerts/{a['id']}", "safety1").json["status"] == "acknowledged"
    r = api.post(f"/api/v1/alerts/{a['id']}/dispose", "prod2", json={"cause": "阀门泄漏", "action": "关阀、紧固法兰"})
    assert r.status_code == 200 and r.json["status"] == "closed" and r.json["disposal"]["action"] == "关阀、紧固法兰"
    assert api.post(f"/api/v1/alerts/{a['id']}/dispose", "prod2",
                    json={"cause": "x1", "action": "y1"}).status_code == 409
    # the condition persists: a new alert opens rather than the closed one reopening
    api.post("/api/v1/telemetry", "maint1", json={"device": "GT-301", "value": 2})
    api.post("/api/v1/telemetry", "maint1", json={"device": "GT-301", "value": 31})
    items = api.get("/api/v1/alerts?grade=yellow", "safety1").json["items"]
    assert [x["status"] for x in items] == ["open", "closed"]
    assert api.get("/api/v1/alerts?grade=purple", "safety1").status_code == 422


def test_alert_filters(api, iot, platform):
    gas_detector(platform)
    gas_detector(platform, "GT-101", OTHER_AREA)
    api.post("/api/v1/telemetry", "maint1", json=[{"device": "GT-301", "value": 30}, {"device": "GT-101", "value": 60}])
    assert api.get(f"/api/v1/alerts?area={OTHER_AREA}&rule=gas_threshold", "safety1").json["items"][0]["grade"] == \
        "orange"
    assert api.get("/api/v1/alerts?grade=yellow", "safety1").json["total"] == 1
    assert api.get("/api/v1/alerts?status=closed", "safety1").json["total"] == 0
    future = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat().replace("+", "%2B")
    assert api.get(f"/api/v1/alerts?from={future}", "safety1").json["total"] == 0
    assert api.get("/api/v1/alerts?device=GT-101", "safety1").json["total"] >= 1


def test_silent_device_gets_a_blue_sensor_fault(iot, platform):
    gas_detector(platform)
    iot.pipeline.handle_http([{"device": "GT-301", "value": 1}])
    iot.pipeline.sweep_data_gaps(datetime.now(timezone.utc) + timedelta(seconds=30))
    assert iot.alerts.list(SYSTEM)["total"] == 0
    done = iot.pipeline.sweep_data_gaps(datetime.now(timezone.utc) + timedelta(seconds=400))
    assert [(d["grade"], d["rule"]) for d in done] == [("blue", "sensor_fault")]
    a = iot.alerts.list(SYSTEM)["items"][0]
    assert a["owner_department"] == "maintenance" and "no data" in a["title"]


def test_gateway_retrying_a_batch_stores_nothing_twice_and_raises_no_second_alert(api, iot, platform):
    deploy(platform, alert_files())
    gas_detector(platform)
    t0 = (datetime.now(timezone.utc) - timedelta(minutes=5)).replace(microsecond=0)
    batch = [{"device": "GT-301", "value": 1.0 + i % 3, "ts": (t0 + timedelta(seconds=i)).isoformat()}
             for i in range(60)] + [{"device": "GT-301", "value": 30.0, "ts": (t0 + timedelta(seconds=60)).isoformat()}]
    r = api.post("/api/v1/telemetry", "maint1", json={"readings": batch})
    assert r.status_code == 200 and r.json["stored"] == 61 and r.json["duplicates"] == 0
    assert {(a["rule"], a["outcome"]) for a in r.json["alerts"]} == {("gas_threshold", "opened"), ("gas_rising", "opened")}
    # the gateway never saw the answer and sends the batch again, with the same reading twice in it
    r = api.post("/api/v1/telemetry", "maint1", json={"readings": batch + batch[:1]})
    assert r.status_code == 200, r.json
    assert r.json["stored"] == 0 and r.json["duplicates"] == 62 and r.json["alerts"] == []
    q = f"from={t0.isoformat()}&to={(t0 + timedelta(minutes=2)).isoformat()}".replace("+", "%2B")
    assert len(api.get(f"/api/v1/devices/GT-301/readings?{q}", "worker1").json["items"]) == 61
    alerts = api.get("/api/v1/alerts?rule=gas_threshold", "safety1").json["items"]
    assert len(alerts) == 1 and alerts[0]["occurrences"] == 1
    stats = iot.stats.snapshot()
    assert stats["received"] == stats["stored"] + stats.get("dead_lettered", 0) + stats["duplicates"] == 123
    # readings without ts are stamped on arrival; two of one device in one request are both kept
    r = api.post("/api/v1/telemetry", "maint1", json=[{"device": "GT-301", "value": 2}, {"device": "GT-301", "value": 3}])
    assert r.json["stored"] == 2 and r.json["duplicates"] == 0
