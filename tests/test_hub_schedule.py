"""Scheduled hub jobs in embedded mode: the MES sync (simulator over real HTTP) and the nightly analyses.

The dispatcher is the real embedded runner (what `anjian serve` runs); its job schedule gets a fixed
clock so the test can stand at chosen slots. The RQ path is in test_hub_schedule_rq.py.
"""
from datetime import datetime, time, timedelta, timezone

import pytest
import requests
from sqlalchemy import func, select

from connectors.mes_simulator import AREAS, EQUIPMENT, work_orders
from engine.analytics.analyses import ANALYSES
from engine.hub.models import AnalysisRun, Equipment, EquipmentRun, WorkRecord
from engine.models import AuditEvent, Incident, OutboxEntry
from tests.hub_support import hub_platform, mes, sim  # noqa: F401
from worker.dispatch import EmbeddedDispatcher
from worker.schedule import JobSchedule

UTC = timezone.utc
N_EQUIPMENT = sum(len(v) for v in EQUIPMENT.values())


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def dispatcher(platform, clock: Clock, **settings) -> EmbeddedDispatcher:
    d = EmbeddedDispatcher(platform)
    d.schedule = JobSchedule(platform.db, platform.settings.with_(**settings), clock=clock)
    return d


def count(platform, model, *where) -> int:
    with platform.db.session(write=False) as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def audit_jobs(platform, kind="scheduled_job") -> list[dict]:
    with platform.db.session(write=False) as s:
        return [e.data for e in s.scalars(select(AuditEvent).where(AuditEvent.kind == kind).order_by(AuditEvent.seq))]


def expected_orders(days) -> set[str]:
    return {wo["id"] for area in AREAS for day in days for wo in work_orders(area, day)}


def test_schedule_configuration_is_read_once_and_checked(tmp_path):
    from engine.config import Settings

    base = {"ANJIAN_DATA_DIR": str(tmp_path), "ANJIAN_SECRET_KEY": "x" * 48}
    s = Settings.from_env({**base, "ANJIAN_MES_SYNC_SECONDS": "900", "ANJIAN_MES_SYNC_DAYS": "2",
                           "ANJIAN_MES_SYNC_AREAS": "unit-1, tank-farm-3", "ANJIAN_ANALYTICS_AT": "02:30"})
    assert (s.mes_sync_seconds, s.mes_sync_days, s.mes_sync_areas, s.analytics_at) == \
        (900.0, 2, ("unit-1", "tank-farm-3"), time(2, 30))
    for name, bad in (("ANJIAN_MES_SYNC_SECONDS", "often"), ("ANJIAN_MES_SYNC_SECONDS", "-5"),
                      ("ANJIAN_ANALYTICS_AT", "25:00"), ("ANJIAN_ANALYTICS_AT", "night")):
        with pytest.raises(ValueError, match=name):
            Settings.from_env({**base, name: bad})


def test_nothing_is_scheduled_unless_configured(hub_platform):
    d = EmbeddedDispatcher(hub_platform)
    assert not d.schedule.enabled
    assert d.run_once() == 0 and count(hub_platform, OutboxEntry) == 0


def test_mes_sync_every_interval_is_incremental_and_idempotent(hub_platform, mes):
    p = hub_platform
    clock = Clock(datetime(2026, 11, 29, 10, 20, tzinfo=UTC))
    d = dispatcher(p, clock, mes_sync_seconds=3600, mes_sync_days=1)
    assert d.run_once() == 1                                    # the 10:00 slot: emitted and run
    orders = expected_orders([datetime(2026, 11, 28).date(), datetime(2026, 11, 29).date()])
    assert count(p, Equipment) == N_EQUIPMENT
    with p.db.session(write=False) as s:
        refs = set(s.scalars(select(WorkRecord.ref).where(WorkRecord.source == "mes")))
        runs = s.execute(select(EquipmentRun.equipment_code, EquipmentRun.started_at, EquipmentRun.hours,
                                EquipmentRun.load_pct)).all()
        c201 = s.scalar(select(Equipment).where(Equipment.code == "C-201"))
        assert (c201.area, c201.department, c201.rated_load, c201.rated_unit) == \
            ("unit-1", "workshop-1", 1200.0, "Nm3/h")
    assert refs == orders
    assert {r.started_at for r in runs} == {datetime(2026, 11, 29, 10, 0, tzinfo=UTC)}
    by_code = {r.equipment_code: r for r in runs}
    assert by_code["C-201"].hours == 1.0 and by_code["C-201"].load_pct == 91.0
    assert by_code["P-101B"].hours == 0.0                       # standby: no running hours
    [job] = audit_jobs(p)
    assert job["job"] == "mes_sync" and job["result"]["work_record"]["inserted"] == len(orders)

    assert d.run_once() == 0                                    # same slot: nothing new
    clock.now += timedelta(minutes=30)
    assert d.run_once() == 0                                    # 10:50, still the 10:00 slot

    requests.post(f"{mes.url}/_control/equipment/C-201", json={"current_load_pct": 104.0}, timeout=5)
    clock.now = datetime(2026, 11, 29, 11, 5, tzinfo=UTC)       # next slot
    assert d.run_once() == 1
    assert count(p, Equipment) == N_EQUIPMENT                   # by natural key: no copies
    assert count(p, WorkRecord) == len(orders)
    assert count(p, EquipmentRun) == 2 * N_EQUIPMENT            # one sample per equipment and slot
    with p.db.session(write=False) as s:
        assert s.scalar(select(EquipmentRun.load_pct).where(
            EquipmentRun.equipment_code == "C-201",
            EquipmentRun.started_at == datetime(2026, 11, 29, 11, tzinfo=UTC))) == 104.0
    second = audit_jobs(p)[-1]["result"]
    assert second["work_record"]["inserted"] == 0 and second["work_record"]["unchanged"] == len(orders)
    assert second["equipment"]["inserted"] == 0

    # a second runner (another scheduler, a restart) at the same slot emits nothing again
    other = dispatcher(p, clock, mes_sync_seconds=3600, mes_sync_days=1)
    assert other.run_once() == 0
    assert count(p, OutboxEntry, OutboxEntry.kind == "scheduled") == 2


def test_mes_down_is_recorded_and_the_next_slot_catches_up(hub_platform, mes):
    p = hub_platform
    requests.post(f"{mes.url}/_control/faults", json={"path": "/api/", "status": 503, "times": -1},
                  timeout=5).raise_for_status()
    clock = Clock(datetime(2026, 11, 29, 8, 1, tzinfo=UTC))
    d = dispatcher(p, clock, mes_sync_seconds=900, mes_sync_days=0, mes_sync_areas=("unit-1",))
    assert d.run_once() == 1
    [failed] = audit_jobs(p, "scheduled_job_failed")
    assert "503" in failed["error"] and failed["slot"] == "2026-11-29T08:00:00+00:00"
    with p.db.session(write=False) as s:
        entry = s.scalar(select(OutboxEntry).where(OutboxEntry.kind == "scheduled"))
        assert entry.done_at is not None and "503" in entry.last_error
    assert count(p, Equipment) == 0 and count(p, Incident) == 0
    requests.post(f"{mes.url}/_control/reset", timeout=5)
    clock.now += timedelta(minutes=15)
    assert d.run_once() == 1
    assert count(p, Equipment) == len(EQUIPMENT["unit-1"])
    assert count(p, WorkRecord) == len(work_orders("unit-1", clock.now.date()))


def test_analyses_run_nightly_for_the_closing_month(hub_platform):
    p = hub_platform
    clock = Clock(datetime(2026, 12, 1, 1, 59, tzinfo=UTC))
    d = dispatcher(p, clock, analytics_at=time(2, 0))
    assert d.run_once() == 0                                    # not yet 02:00
    clock.now = datetime(2026, 12, 1, 2, 0, 30, tzinfo=UTC)
    assert d.run_once() == len(ANALYSES)                        # one job per analysis
    with p.db.session(write=False) as s:
        runs = s.execute(select(AnalysisRun.analysis, AnalysisRun.period, AnalysisRun.run_by)).all()
    assert sorted(runs) == sorted((a, "2026-11", "scheduler") for a in ANALYSES)
    assert {j["analysis"] for j in audit_jobs(p)} == {r[0] for r in runs}
    clock.now += timedelta(hours=20)
    assert d.run_once() == 0                                    # once a day
    clock.now = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)         # the next night: the month in progress
    assert d.run_once() == len(ANALYSES)
    assert count(p, AnalysisRun, AnalysisRun.period == "2026-12") == len(ANALYSES)
    # the stored results are what the API serves
    assert p.analytics.latest("permits", "2026-12")["run_by"] == "scheduler"


def test_mes_sync_failure_log_line_explains_itself(hub_platform, caplog):
    """`make run` schedules the MES sync without an MES: the warning names the URL it tried, says the demo has no
    MES unless the simulator runs, and how to start it or turn the sync off."""
    import logging
    import socket

    from connectors.mes import MesConnector

    with socket.socket() as sock:                         # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    p = hub_platform
    old = p.connectors.unregister("mes")
    p.connectors.register(MesConnector({"base_url": url, "retries": 0, "connect_timeout": 1}))
    try:
        d = dispatcher(p, Clock(datetime(2026, 11, 29, 8, 1, tzinfo=UTC)), mes_sync_seconds=900)
        with caplog.at_level(logging.WARNING, logger="worker.jobs"):
            assert d.run_once() == 1
    finally:
        p.connectors.unregister("mes").close()
        if old is not None:
            p.connectors.register(old)
    [line] = [r.getMessage() for r in caplog.records if "MES sync failed" in r.getMessage()]
    assert url in line and "anjian mes-simulator" in line and "ANJIAN_MES_SYNC_SECONDS=0" in line
    assert "every 900 s" in line
    assert audit_jobs(p, "scheduled_job_failed")[0]["slot"] == "2026-11-29T08:00:00+00:00"


def test_a_load_the_hub_cannot_believe_is_rejected_as_the_mes_said_it(hub_platform, mes):
    """An MES reporting 250 % or −5 % load (a unit or sign error) gets that sample rejected with its own value
    named; it is neither clamped to a plausible figure nor stored as 0 %, and the other samples are kept."""
    from engine.hub.mes_sync import sync_mes

    p = hub_platform
    for code, load in (("C-201", 250.0), ("P-101A", -5.0)):
        requests.post(f"{mes.url}/_control/equipment/{code}", json={"current_load_pct": load},
                      timeout=5).raise_for_status()
    slot = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
    report = sync_mes(p, slot=slot, interval_seconds=3600, days=0, areas=("unit-1",))["equipment_run"]
    errors = {r["key"][0]: r["errors"] for r in report["rejected"]}
    assert set(errors) == {"C-201", "P-101A"}, report["rejected"]
    assert [(e["field"], e["rule"]) for e in errors["C-201"]] == [("load_pct", "load_in_range")]
    assert "250 %" in errors["C-201"][0]["message"] and "-5 %" in errors["P-101A"][0]["message"]
    with p.db.session(write=False) as s:
        stored = dict(s.execute(select(EquipmentRun.equipment_code, EquipmentRun.load_pct)).all())
    assert "C-201" not in stored and "P-101A" not in stored
    assert stored["R-101"] == 78.0 and len(stored) == len(EQUIPMENT["unit-1"]) - 2
