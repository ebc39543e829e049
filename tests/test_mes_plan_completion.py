"""Plan completion from the MES: simulator over real HTTP → scheduled sync → assessment API.

The simulator stands at a set clock, so which orders are done, running or not
started (and how much they produced) is known; the test computes the expected
plan completion from the same work orders the simulator serves.
"""
from datetime import date, datetime, timezone

import requests
from sqlalchemy import func, select

from connectors.mes_simulator import AREAS, work_orders
from engine.hub.mes_sync import sync_mes
from engine.hub.models import WorkRecord
from tests.hub_support import hub_platform, mes, sim  # noqa: F401

UTC = timezone.utc
DAYS = (date(2026, 11, 28), date(2026, 11, 29))
MORNING = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)    # 12:00 plant time: the day's orders half done
EVENING = datetime(2026, 11, 29, 13, 0, tzinfo=UTC)   # 21:00 plant time: all of them ended
DEPARTMENT = "workshop-1"


def set_clock(sim, now: datetime) -> None:
    requests.post(f"{sim.url}/_control/clock", json={"now": now.isoformat()}, timeout=5).raise_for_status()


def department_orders(now: datetime) -> dict[str, dict]:
    """The department's orders as the simulator serves them at ``now``."""
    return {wo["id"]: wo for area, meta in AREAS.items() if meta["department"] == DEPARTMENT
            for day in DAYS for wo in work_orders(area, day, now)}


def plan_completion(api) -> dict:
    r = api.get("/api/v1/assessments?period=2026-11&level=department", "boss1")
    assert r.status_code == 200, r.json
    return {x["subject"]: x for x in r.json["items"]}[DEPARTMENT]["indicators"]["plan_completion"]


def test_plan_completion_follows_the_mes_and_is_traceable(api, hub_platform, mes):
    p = hub_platform
    set_clock(mes, MORNING)
    first = sync_mes(p, slot=MORNING, days=1)
    orders = department_orders(MORNING)
    statuses = {wo["status"] for wo in orders.values()}
    assert "completed" in statuses and statuses & {"in_progress", "released", "planned"}  # a day in the middle
    assert first["work_record"]["rejected_count"] == 0

    planned = sum(wo["planned_quantity"] for wo in orders.values())
    actual = sum(wo["actual_quantity"] or 0.0 for wo in orders.values())
    assert 0 < actual < planned
    pc = plan_completion(api)
    assert pc["value"] == round(actual / planned, 4)
    assert (pc["numerator"], pc["denominator"]) == (round(actual, 3), round(planned, 3))

    # every number is traceable to the work-order records it came from
    trace = api.get(pc["records"], "boss1")
    assert trace.status_code == 200, trace.json
    assert {x["ref"]: (x["planned"], x["actual"]) for x in trace.json["records"]} == {
        ref: (wo["planned_quantity"], wo["actual_quantity"]) for ref, wo in orders.items()}

    # the plant works on: a re-sync updates the same records, actual output grows
    set_clock(mes, EVENING)
    later = department_orders(EVENING)
    assert {wo["status"] for wo in later.values()} == {"completed"}
    grown = [ref for ref in orders if (later[ref]["actual_quantity"] or 0) > (orders[ref]["actual_quantity"] or 0)]
    assert grown
    with p.db.session(write=False) as s:
        records_before = s.scalar(select(func.count()).select_from(WorkRecord))
    second = sync_mes(p, slot=EVENING, days=0)                 # today's orders only: yesterday's are done
    assert second["work_record"]["updated"] >= 1 and second["work_record"]["inserted"] == 0
    with p.db.session(write=False) as s:
        assert s.scalar(select(func.count()).select_from(WorkRecord)) == records_before   # by natural key
        stored = dict(s.execute(select(WorkRecord.ref, WorkRecord.actual_output)
                                .where(WorkRecord.ref.in_(grown))).all())
    assert stored == {ref: later[ref]["actual_quantity"] for ref in grown}
    planned2 = sum(wo["planned_quantity"] for wo in later.values())
    actual2 = sum(wo["actual_quantity"] for wo in later.values())
    assert plan_completion(api)["value"] == round(actual2 / planned2, 4) > pc["value"]
    # realistic: most orders near plan, some short, none wildly over
    ratios = [wo["actual_quantity"] / wo["planned_quantity"] for area in AREAS
              for day in (date(2026, 11, d) for d in range(1, 29)) for wo in work_orders(area, day, EVENING)]
    near = sum(0.94 <= r <= 1.04 for r in ratios) / len(ratios)   # rounding to 0.1
    assert 0.7 <= near <= 0.9 and min(ratios) >= 0.55 and max(ratios) <= 1.05

    third = sync_mes(p, slot=EVENING, days=0)                  # nothing changed: nothing written
    assert third["work_record"]["updated"] == 0 and third["work_record"]["inserted"] == 0


def test_bad_quantities_from_the_mes_are_rejected_row_by_row(api, hub_platform, mes):
    p = hub_platform
    set_clock(mes, MORNING)
    sync_mes(p, slot=MORNING, days=0, areas=("unit-1",))
    orders = {wo["id"]: wo for wo in work_orders("unit-1", DAYS[1], MORNING)}
    done = [ref for ref, wo in orders.items() if wo["status"] == "completed"]
    negative, garbage = done[0], sorted(orders)[-1]
    for ref, fields in ((negative, {"actual_quantity": -5}), (garbage, {"planned_quantity": "lots"})):
        requests.post(f"{mes.url}/_control/work-orders/{ref}", json=fields, timeout=5).raise_for_status()
    before = plan_completion(api)

    set_clock(mes, EVENING)
    report = sync_mes(p, slot=EVENING, days=0, areas=("unit-1",))["work_record"]   # no crash
    assert report["rejected_count"] == 2
    rejected = {tuple(r["key"])[0] if isinstance(r["key"], (list, tuple)) else r["key"]: r["errors"]
                for r in report["rejected"]}
    assert set(rejected) == {negative, garbage}, report["rejected"]
    assert "actual_output" in str(rejected[negative]) and "planned_output" in str(rejected[garbage])
    assert report["inserted"] + report["updated"] + report["unchanged"] == len(orders) - 2
    with p.db.session(write=False) as s:
        kept = dict(s.execute(select(WorkRecord.ref, WorkRecord.actual_output)
                              .where(WorkRecord.ref.in_([negative, garbage]))).all())
    assert kept == {negative: orders[negative]["actual_quantity"], garbage: orders[garbage]["actual_quantity"]}
    after = plan_completion(api)
    assert after["denominator"] >= before["denominator"] and 0 < after["value"] <= 1.03
