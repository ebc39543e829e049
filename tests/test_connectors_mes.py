"""The mes connector against the MES simulator running as a real HTTP server."""
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from connectors.base import ConnectorError
from connectors.mes import MesConnector
from connectors.mes_simulator import AREAS, MesSimulator
from connectors.registry import ConnectorRegistry
from connectors.testing import check_connector, run_operation


@pytest.fixture(scope="module")
def sim():
    with MesSimulator() as s:
        yield s


@pytest.fixture
def mes(sim):
    """A registry holding a mes connector pointed at the simulator (fast backoff)."""
    requests.post(f"{sim.url}/_control/reset", timeout=5)
    r = ConnectorRegistry()
    r.register(MesConnector({"base_url": sim.url, "retries": 2, "backoff": 0.01, "read_timeout": 2}))
    yield r
    r.close()


def fault(sim, **body):
    requests.post(f"{sim.url}/_control/faults", json=body, timeout=5).raise_for_status()


def hits(sim, path):
    return requests.get(f"{sim.url}/_control/requests", timeout=5).json()["requests"].get(path, 0)


def test_declaration():
    check_connector(MesConnector, {"base_url": "http://127.0.0.1:1"})


def test_work_orders_are_realistic_and_deterministic(mes):
    a = mes.call("mes/work_orders", {"area": "unit-1", "date": "2025-06-01"})
    b = mes.call("mes/work_orders", {"area": "unit-1", "date": "2025-06-01"})
    assert a == b and a["area"] == "unit-1" and a["date"] == "2025-06-01"
    assert 2 <= len(a["work_orders"]) <= 4
    wo = a["work_orders"][0]
    assert wo["id"].startswith("WO-20250601-U1-") and wo["planned_start"].startswith("2025-06-01T")
    # Across a month every area shows the special operations permits exist for.
    seen = set()
    for area in AREAS:
        for day in range(1, 29):
            r = mes.call("mes/work_orders", {"area": area, "date": f"2025-02-{day:02d}"})
            seen |= {s["name"] for w in r["work_orders"] for s in w["special_operations"]}
            assert r["special_operation_count"] == sum(len(w["special_operations"]) for w in r["work_orders"])
    assert {"动火作业", "受限空间作业", "高处作业", "吊装作业", "盲板抽堵作业"} <= seen


def test_equipment_status_and_load(mes, sim):
    pump = mes.call("mes/equipment_status", {"equipment_id": "P-101A"})
    assert pump["area"] == "unit-1" and pump["rated_load"] == {"value": 45.0, "unit": "m3/h"}
    assert 0 <= pump["current_load_pct"] <= 100 and pump["status"] == "running"
    requests.post(f"{sim.url}/_control/equipment/P-101A", json={"current_load_pct": 104.5}, timeout=5)
    area = mes.call("mes/area_equipment", {"area": "unit-1"})
    assert area["max_load_pct"] == 104.5 and area["overloaded"] == ["P-101A"]
    overloaded = next(e for e in area["equipment"] if e["id"] == "P-101A")
    assert overloaded["alarms"][0]["code"] == "OVERLOAD"


def test_production_schedule_by_shift(mes):
    r = mes.call("mes/production_schedule", {"area": "tank-farm-3", "from": "2025-06-01", "to": "2025-06-02"})
    assert [(s["date"], s["shift"]) for s in r["shifts"]] == [
        ("2025-06-01", "night"), ("2025-06-01", "day"), ("2025-06-01", "evening"),
        ("2025-06-02", "night"), ("2025-06-02", "day"), ("2025-06-02", "evening")]
    assert {s["name"] for s in r["shifts"]} == {"夜班", "白班", "中班"}
    assert r["shifts"][0]["plan"][0]["product"] == "甲醇收储"


def test_unknown_area_is_a_clear_non_retryable_error(mes, sim):
    with pytest.raises(ConnectorError) as info:
        mes.call("mes/work_orders", {"area": "unit-9"})
    err = info.value
    assert err.retryable is False and err.status == 404 and err.operator == "mes/work_orders"
    assert "unknown area 'unit-9' (areas: unit-1, tank-farm-3, pipe-rack-a, warehouse)" in err.message
    assert hits(sim, "/api/work-orders") == 1  # a 4xx is not retried
    with pytest.raises(ConnectorError, match="'to' .2025-06-01. is before 'from'") as info:
        mes.call("mes/production_schedule", {"area": "unit-1", "from": "2025-06-02", "to": "2025-06-01"})
    assert info.value.status == 400


def test_5xx_is_retried_with_backoff_until_it_succeeds(mes, sim):
    fault(sim, path="/api/equipment/", status=503, times=2)
    r = mes.call("mes/equipment_status", {"equipment_id": "T-302"})
    assert r["id"] == "T-302"
    assert hits(sim, "/api/equipment/T-302") == 3


def test_retries_exhausted_is_a_retryable_error(mes, sim):
    fault(sim, path="/api/work-orders", status=502, times=-1)  # fails until reset
    with pytest.raises(ConnectorError) as info:
        mes.call("mes/work_orders", {"area": "warehouse"})
    err = info.value
    assert err.retryable is True and err.status == 502
    assert "answered 502" in err.message and "gave up after 3 attempts" in err.message
    assert err.params == {"area": "warehouse"}
    assert hits(sim, "/api/work-orders") == 3


def test_a_stalled_mes_times_out_and_the_retry_gets_through(sim):
    requests.post(f"{sim.url}/_control/reset", timeout=5)
    fault(sim, path="/api/schedule", mode="stall", delay=1.5, times=1)
    mes = MesConnector({"base_url": sim.url, "read_timeout": 0.3, "retries": 1, "backoff": 0.01})
    started = time.perf_counter()
    r = mes.run("production_schedule", {"area": "unit-1", "from": "2025-06-01"})
    assert len(r["shifts"]) == 3 and time.perf_counter() - started < 1.4
    fault(sim, path="/api/schedule", mode="stall", delay=1.5, times=1)
    once = MesConnector({"base_url": sim.url, "read_timeout": 0.3, "retries": 0})
    started = time.perf_counter()
    with pytest.raises(ConnectorError) as info:
        once.run("production_schedule", {"area": "unit-1"})
    assert time.perf_counter() - started < 1.0
    assert info.value.retryable is True and "read timeout after 0.3 s" in info.value.message


def test_mes_down_is_a_retryable_connection_error():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mes = MesConnector({"base_url": f"http://127.0.0.1:{port}", "retries": 1, "backoff": 0.01})
    with pytest.raises(ConnectorError) as info:
        mes.run("work_orders", {"area": "unit-1"})
    assert info.value.retryable is True and f"cannot connect to http://127.0.0.1:{port}/api/work-orders" in \
        info.value.message and "gave up after 2 attempts" in info.value.message


def test_parameters_are_checked_before_any_request(mes, sim):
    with pytest.raises(ConnectorError, match="missing required parameter 'area'") as info:
        mes.call("mes/work_orders", {"date": "2025-06-01"})
    assert info.value.param == "area"
    with pytest.raises(ConnectorError, match="parameter 'date' must be a date"):
        mes.call("mes/work_orders", {"area": "unit-1", "date": "tomorrow"})
    assert hits(sim, "/api/work-orders") == 0


def test_test_kit_against_the_simulator(sim):
    r = run_operation(MesConnector, "area_equipment", {"area": "warehouse"}, config={"base_url": sim.url},
                      result_schema={"properties": {"equipment": {"minItems": 2}}})
    assert {e["id"] for e in r["equipment"]} == {"FL-01", "CR-01"}


def test_the_cli_serves_the_simulator(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    anjian = Path(sys.executable).parent / "anjian"
    proc = subprocess.Popen([str(anjian), "mes-simulator", "--port", str(port)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                r = requests.get(f"http://127.0.0.1:{port}/api/health", timeout=1)
                break
            except requests.ConnectionError:
                assert proc.poll() is None, proc.stdout.read().decode()
                assert time.monotonic() < deadline, "simulator did not start"
                time.sleep(0.1)
        assert r.json() == {"status": "ok", "areas": 4}
        wo = MesConnector({"base_url": f"http://127.0.0.1:{port}"}).run("work_orders", {"area": "pipe-rack-a"})
        assert wo["work_orders"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert b"MES simulator on http://127.0.0.1:%d" % port in proc.stdout.read()
