"""Fixtures and helpers of the data-hub, analytics, assessment and report tests (no tests here)."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timezone

import pytest
import requests
from sqlalchemy import text

from connectors.mes import MesConnector
from connectors.mes_simulator import MesSimulator

HUB_TABLES = ["hub_focus_items", "hub_recommendations", "analysis_runs", "hub_equipment", "hub_equipment_runs",
              "hub_work_records", "hub_material_flows", "hub_people", "hub_trainings", "hub_risk_points",
              "hub_hazards", "hub_inspections", "hub_violations", "hub_alerts", "hub_stops", "hub_escalations",
              "hub_contractors",
              "duties", "duty_lists"]


def truncate_hub(db) -> None:
    """Empty the hub's tables (process tables are emptied by the ``platform`` fixture)."""
    with db.session() as s:
        if db.is_sqlite:
            for t in HUB_TABLES:
                s.execute(text(f"DELETE FROM {t}"))
        else:
            s.execute(text("TRUNCATE " + ", ".join(HUB_TABLES) + " CASCADE"))


@pytest.fixture
def hub_platform(platform):
    """The test platform with an empty data hub."""
    truncate_hub(platform.db)
    return platform


# A generated plant year is dated by the test, not by the clock: its last hazards close after the
# real today when the year ends in the current month, which the import's not_in_future rule rejects.
GENERATED_NOW = datetime(2100, 1, 1, tzinfo=timezone.utc)


def load(platform, data: dict[str, list[dict]], source: str = "bench") -> dict:
    """Upsert generated rows of every kind; returns the reports."""
    return {kind: platform.hub.upsert(kind, rows, source=source, batch_size=2000, now=GENERATED_NOW).as_dict()
            for kind, rows in data.items()}


@pytest.fixture(scope="module")
def sim():
    """The MES simulator as a real HTTP server, one per test module."""
    with MesSimulator() as s:
        yield s


@contextmanager
def mes_connector_at(platform, sim, **config):
    """The platform's mes connector swapped for one pointed at ``sim`` (simulator reset before and
    after; the original connector restored)."""
    requests.post(f"{sim.url}/_control/reset", timeout=5).raise_for_status()
    reg = platform.connectors
    old = reg.unregister("mes")
    reg.register(MesConnector({"base_url": sim.url, **config}))
    try:
        yield sim
    finally:
        requests.post(f"{sim.url}/_control/reset", timeout=5)
        reg.unregister("mes").close()
        if old is not None:
            reg.register(old)


@pytest.fixture
def mes(hub_platform, sim):
    """The platform's mes connector pointed at the simulator (the original one restored afterwards)."""
    with mes_connector_at(hub_platform, sim, retries=0, backoff=0.01, read_timeout=3) as s:
        yield s
