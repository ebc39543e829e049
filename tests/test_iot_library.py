"""Sensors bound to the real process library: a gas reading suspends bpmn/hot_work_permit.bpmn."""
from tests.iot_support import gas_detector, iot  # noqa: F401
from tests.test_library_hot_work import working
from tests.test_library_support import ROOT, plant  # noqa: F401


def test_reading_above_the_pass_threshold_suspends_the_library_hot_work_permit(plant, platform, iot):
    permit = working(plant, "tank-farm-3")
    elsewhere = working(plant, "pipe-rack-a")
    gas_detector(platform, "GT-301", "tank-farm-3")
    # 12 %LEL methane = 0.6 %vol: under detector level 1, over the hot-work pass of 0.5 %vol
    r = plant.api.post("/api/v1/telemetry", "maint1", json={"device": "GT-301", "value": 12})
    assert r.status_code == 200, r.json
    assert [a["grade"] for a in r.json["alerts"]] == ["red"]
    v = plant.variables(permit)
    assert (v["permit_status"], v["suspended_by"]) == ("suspended", "gas_alarm")
    assert plant.sees("worker1", permit) == []                 # the work task is gone at once
    assert plant.sees("leader1", permit) == ["动火分析"]        # re-analysis before anything resumes
    assert plant.sees("worker1", elsewhere) == ["动火作业"]     # another area keeps working
    red = plant.api.get("/api/v1/alerts?grade=red", "safety1").json["items"][0]
    assert red["details"]["permits"] == [permit]
    if (ROOT / "bpmn" / "alert_response.bpmn").exists():
        assert red["process_status"] == "started"
        assert plant.variables(red["process_instance_id"])["alert_id"] == red["id"]
    else:
        assert red["process_status"] == "no_process"
