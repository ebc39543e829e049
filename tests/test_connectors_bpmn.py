"""The built-in mes connector driven by a BPMN service task through the worker, MES simulator over HTTP."""
import pytest
import requests

from engine.bpmn_builder import ProcessBuilder
from tests.hub_support import mes_connector_at, sim  # noqa: F401 - fixture


@pytest.fixture
def mes_at_sim(platform, sim):
    """The platform's mes connector swapped for one pointed at the simulator (restored afterwards)."""
    with mes_connector_at(platform, sim, retries=1, backoff=0.01) as s:
        yield s


def _process() -> str:
    b = ProcessBuilder("mes_check", "作业前查询 MES 工单与设备负荷")
    b.start(variables=["area"])
    b.service("orders", "查询工单", "mes/work_orders", {"area": "area", "date": "'2025-06-01'"},
              result_variable="orders")
    b.service("load", "查询设备负荷", "mes/area_equipment", {"area": "area"}, result_variable="load", retries=0)
    b.end()
    b.chain("start", "orders", "load", "end")
    return b.to_xml()


def _start(api, area):
    r = api.post("/api/v1/process-instances", "prod1", json={"process_key": "mes_check",
                                                             "variables": {"area": area}})
    assert r.status_code == 201, r.json
    return r.json["id"]


def test_service_tasks_read_the_mes(api, platform, mes_at_sim):
    assert api.deploy({"mes_check.bpmn": _process()}).status_code == 201
    iid = _start(api, "unit-1")
    for _ in range(4):
        platform.dispatcher.run_once()
    inst = api.get(f"/api/v1/process-instances/{iid}", "prod1").json
    assert inst["status"] == "completed", inst
    orders = inst["variables"]["orders"]
    assert orders["date"] == "2025-06-01" and orders["work_orders"][0]["id"].startswith("WO-20250601-U1-")
    assert inst["variables"]["load"]["max_load_pct"] == 91.0


def test_a_failing_mes_becomes_an_incident_with_the_connector_error(api, platform, mes_at_sim):
    assert api.deploy({"mes_check.bpmn": _process()}).status_code == 201
    requests.post(f"{mes_at_sim.url}/_control/faults",
                  json={"path": "/api/equipment", "status": 503, "times": -1}, timeout=5)
    iid = _start(api, "tank-farm-3")
    for _ in range(4):
        platform.dispatcher.run_once()
    inst = api.get(f"/api/v1/process-instances/{iid}", "safety1").json
    assert inst["status"] == "error" and inst["variables"]["orders"]["area"] == "tank-farm-3"
    [inc] = api.get("/api/v1/incidents?status=open", "admin").json["items"]
    assert inc["details"]["operator"] == "mes/area_equipment"
    assert inc["details"]["params"] == {"area": "tank-farm-3"}
    assert "answered 503" in inc["details"]["error"] and inc["details"]["retryable"] is True


def test_an_unknown_area_fails_at_once_as_not_retryable(api, platform, mes_at_sim):
    assert api.deploy({"mes_check.bpmn": _process()}).status_code == 201
    platform.users.ensure_area("unit-9", "新装置区", "workshop-1", "general")   # known to the plant, not to the MES
    iid = _start(api, "unit-9")
    platform.dispatcher.run_once()
    inst = api.get(f"/api/v1/process-instances/{iid}", "safety1").json
    assert inst["status"] == "error"
    [inc] = api.get("/api/v1/incidents?status=open", "admin").json["items"]
    assert inc["details"]["retryable"] is False and "unknown area 'unit-9'" in inc["details"]["error"]
    hits = requests.get(f"{mes_at_sim.url}/_control/requests", timeout=5).json()["requests"]
    assert hits == {"/api/work-orders": 1}
