"""IoT alerts feed the data hub in the same transaction: opened, escalated, acknowledged, closed with disposal."""
from datetime import datetime, timezone

from tests.hub_support import hub_platform  # noqa: F401
from tests.iot_support import AREA, gas_detector, iot  # noqa: F401


def hub_alert(api, alert_id) -> dict:
    r = api.get(f"/api/v1/hub/alert?area={AREA}", "safety1")
    assert r.status_code == 200, r.json
    [rec] = [x for x in r.json["items"] if x["ref"] == f"iot:{alert_id}"]
    return rec


def test_alert_lifecycle_is_mirrored_in_the_hub_and_counted_in_the_report(api, iot, hub_platform):
    gas_detector(hub_platform)
    api.post("/api/v1/telemetry", "maint1", json={"device": "GT-301", "value": 30})
    a = api.get("/api/v1/alerts?grade=yellow", "safety1").json["items"][0]
    rec = hub_alert(api, a["id"])
    assert (rec["grade"], rec["status"], rec["area"], rec["owner_department"], rec["source"]) == \
        ("yellow", "open", AREA, a["owner_department"], "iot")
    assert rec["raised_at"] == a["opened_at"] and rec["kind"] == a["rule"]

    api.post("/api/v1/telemetry", "maint1", json={"device": "GT-301", "value": 55})     # level 2: escalated
    a = api.get(f"/api/v1/alerts/{a['id']}", "safety1").json
    assert a["grade"] == "orange"
    rec = hub_alert(api, a["id"])
    assert (rec["grade"], rec["owner_department"], rec["status"]) == ("orange", a["owner_department"], "open")

    assert api.post(f"/api/v1/alerts/{a['id']}/acknowledge", "safety1", json={}).status_code == 200
    rec = hub_alert(api, a["id"])
    assert rec["status"] == "handling" and rec["handled_at"] is not None

    r = api.post(f"/api/v1/alerts/{a['id']}/dispose", "safety1", json={"cause": "阀门泄漏"})
    assert r.status_code == 422
    assert hub_alert(api, a["id"])["status"] == "handling"                            # refused: hub unchanged
    r = api.post(f"/api/v1/alerts/{a['id']}/dispose", "safety1", json={"cause": "阀门泄漏", "action": "关阀、紧固法兰"})
    assert r.status_code == 200
    rec = hub_alert(api, a["id"])
    assert rec["status"] == "closed" and rec["closed_at"] == r.json["closed_at"]
    assert "关阀、紧固法兰" in rec["disposal"] and "阀门泄漏" in rec["disposal"]
    # one record per alert (the jump also raised a trend alert), however often each changed, grade for grade
    alerts = api.get("/api/v1/alerts?page_size=100", "safety1").json["items"]
    hub = api.get("/api/v1/hub/alert?page_size=500", "safety1").json["items"]
    assert {x["ref"]: x["grade"] for x in hub} == {f"iot:{x['id']}": x["grade"] for x in alerts}

    # the report's indicators (and anything reading hub alerts) see them without a sync
    now = datetime.now(timezone.utc)
    report = api.get(f"/api/v1/reports/fusion?period={now:%Y-%m}&format=json", "boss1").json
    assert report["indicators"]["alerts"]["orange"] == sum(1 for x in alerts if x["grade"] == "orange") >= 1


def test_assessment_scores_alert_response_by_the_deadline(api, iot, hub_platform):
    gas_detector(hub_platform)
    api.post("/api/v1/telemetry", "maint1", json={"device": "GT-301", "value": 30})       # yellow, 4 h to start
    a = api.get("/api/v1/alerts?grade=yellow", "safety1").json["items"][0]
    dept = a["owner_department"]
    users = {"storage": "prod2", "safety": "safety1"}
    assert api.post(f"/api/v1/alerts/{a['id']}/acknowledge", users[dept], json={}).status_code == 200
    assert hub_alert(api, a["id"])["deadline_at"] == a["deadline_at"]
    now = datetime.now(timezone.utc)
    period = f"{now:%Y-%m}"
    # an imported alert of the same department that nobody handled before its deadline
    late_at = now.replace(day=1, hour=0, minute=5, second=0, microsecond=0)
    hub_platform.hub.upsert("alert", [{"ref": "AL-late", "raised_at": late_at.isoformat(), "area": AREA,
                                       "grade": "orange", "owner_department": dept,
                                       "deadline_at": late_at.replace(minute=6).isoformat(), "status": "open"}])
    r = api.get(f"/api/v1/assessments?period={period}&level=department", "boss1")
    assert r.status_code == 200, r.json
    row = next(x for x in r.json["items"] if x["subject"] == dept)
    ind = row["indicators"]["alert_response"]
    assert (ind["numerator"], ind["denominator"], ind["value"]) == (1, 2, 0.5)
    assert "alert_response" in row["weights_used"]
    recs = api.get(ind["records"], "boss1").json
    assert {(x["ref"], x["in_time"]) for x in recs["records"]} == {(f"iot:{a['id']}", True), ("AL-late", False)}
