"""Fixtures and helpers of the data-hub, analytics, assessment and report tests (no tests here)."""
from __future__ import annotations

import pytest
from sqlalchemy import text

HUB_TABLES = ["hub_focus_items", "hub_recommendations", "analysis_runs", "hub_equipment", "hub_equipment_runs",
              "hub_work_records", "hub_material_flows", "hub_people", "hub_trainings", "hub_risk_points",
              "hub_hazards", "hub_inspections", "hub_violations", "hub_alerts", "hub_stops", "hub_escalations",
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


def load(platform, data: dict[str, list[dict]], source: str = "bench") -> dict:
    """Upsert generated rows of every kind; returns the reports."""
    return {kind: platform.hub.upsert(kind, rows, source=source, batch_size=2000).as_dict()
            for kind, rows in data.items()}
