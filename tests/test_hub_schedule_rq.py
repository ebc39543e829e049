"""Scheduled hub jobs on the production path: two `anjian scheduler` processes (one leader), an
`anjian worker`, PostgreSQL, a private Redis and the MES simulator as a real HTTP server. No mocks."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from connectors.mes_simulator import AREAS, EQUIPMENT, MesSimulator, work_orders
from engine.analytics.analyses import ANALYSES
from engine.hub.models import AnalysisRun, Equipment, EquipmentRun, WorkRecord
from engine.models import AuditEvent, OutboxEntry
from tests.fixtures import rq_harness as H
from tests.fixtures.rq_fixtures import rq_stack, stack  # noqa: F401 - fixtures

SYNC_SECONDS = 2


@pytest.fixture(scope="module")
def sim():
    with MesSimulator() as s:
        yield s


def _scalar(stack, q):
    with stack.platform.db.session(write=False) as s:
        return s.scalar(q)


def test_mes_sync_and_nightly_analyses_run_on_rq_workers(stack, sim):
    now = datetime.now(timezone.utc)
    env = {"ANJIAN_CONNECTOR_MES_BASE_URL": sim.url, "ANJIAN_MES_SYNC_SECONDS": str(SYNC_SECONDS),
           "ANJIAN_MES_SYNC_DAYS": "1", "ANJIAN_ANALYTICS_AT": "00:00"}  # today's slot has passed
    for name in ("sched-a", "sched-b"):           # two schedulers: one leads, the other stands by
        stack.procs.append(H.AnjianProcess(["scheduler", "--interval", "0.2"], stack.env(**env),
                                           stack.workdir / "logs" / f"{name}.log"))
    stack.procs.append(H.AnjianProcess(["worker", "--name", "hub-w1"], stack.env(**env),
                                       stack.workdir / "logs" / "hub-worker.log"))
    H.wait_for_rq_workers(stack.redis.url, 1, timeout=60)

    def syncs_done() -> int:
        return _scalar(stack, select(func.count()).select_from(OutboxEntry).where(
            OutboxEntry.kind == "scheduled", OutboxEntry.dedupe_key.like("schedule:mes_sync:%"),
            OutboxEntry.done_at.is_not(None)))

    try:
        H.wait_for(lambda: syncs_done() >= 3 and _scalar(stack, select(func.count()).select_from(AnalysisRun)) >= 4,
                   timeout=90, interval=0.3, what="three MES syncs and four analyses")
    except TimeoutError as exc:
        raise AssertionError(f"{exc}\n{stack.logs()}") from None

    # the MES data arrived once, however many syncs ran
    n_eq = sum(len(v) for v in EQUIPMENT.values())
    assert _scalar(stack, select(func.count()).select_from(Equipment)) == n_eq
    with stack.platform.db.session(write=False) as s:
        refs = set(s.scalars(select(WorkRecord.ref)))
        samples = Counter(s.scalars(select(EquipmentRun.started_at)))
        entries = s.execute(select(OutboxEntry.dedupe_key, OutboxEntry.last_error, OutboxEntry.done_at)
                            .where(OutboxEntry.kind == "scheduled")).all()
        runs = s.execute(select(AnalysisRun.analysis, AnalysisRun.period, AnalysisRun.run_by)).all()
        audited = s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.kind == "scheduled_job"))
    days = {datetime.fromisoformat(k.split("schedule:mes_sync:")[1]).date()
            for k, _, _ in entries if k.startswith("schedule:mes_sync:")}
    expected = set()
    for day in days:
        for back in (0, 1):
            expected |= {wo["id"] for area in AREAS
                         for wo in work_orders(area, day.fromordinal(day.toordinal() - back))}
    assert refs == expected
    assert all(n == n_eq for n in samples.values()) and len(samples) >= 3   # one sample per equipment and slot
    # every slot emitted once although two schedulers ran; every job done without error
    assert [e for e in entries if e.last_error] == []
    mes_slots = [k for k, _, _ in entries if k.startswith("schedule:mes_sync:")]
    assert len(mes_slots) == len(set(mes_slots))
    analytics = [k for k, _, _ in entries if k.startswith("schedule:analytics:")]
    assert len(analytics) == len(ANALYSES)
    day = now.date().fromordinal(now.date().toordinal() - 1)
    assert sorted(runs) == sorted((a, f"{day.year:04d}-{day.month:02d}", "scheduler")
                                  for a in ANALYSES)
    assert audited == sum(1 for e in entries if e.done_at is not None)
    # the API reads what the jobs stored
    latest = stack.api.get(f"/api/v1/analytics/supervision?period={day.year:04d}-{day.month:02d}", "prod1")
    assert latest.status_code == 200 and latest.json["run_by"] == "scheduler"
