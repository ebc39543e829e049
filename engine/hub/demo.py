"""A marked demo year in the data hub, so a newcomer's fusion report shows a plant and not zeros.

``make run`` calls :func:`load_demo` (``anjian hub demo --if-new``): a year of the sample plant
drawn by :func:`engine.hub.generate.generate`, dated up to today, on the sample plant's areas and
departments, with planted effects for the analyses to find; then the analyses of the last full
month run, so the report of that month has findings. ``anjian hub demo --remove`` takes it out again
(:func:`remove_demo`), exactly: every demo row's natural key starts with :data:`MARK` (``demo:EQ-0007``,
``demo:HZ-1-000042``), which no other source writes, and the demo's analysis runs are those run by
:data:`ACTOR`. The mark is in the key, not in ``source``, because ``source`` of a work record
means something to the analyses (``permit``, ``mes``) and must stay what the generator says.

Kept on removal: the one area the demo adds to the sample plant (``loading-bay``, organisation, not
hub data); analysis runs someone else started while the demo was loaded (the nightly run).
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, func, select

from engine.hub.kinds import KINDS
from engine.hub.models import AnalysisRun, FocusItem, HubRecord, Recommendation

MARK = "demo:"
ACTOR = "demo"
SEED = 2026
# The generator's areas → the sample plant's (engine/sample_plant.py), departments following the area.
AREA_MAP = {"area-01": "unit-1", "area-02": "tank-farm-3", "area-03": "pipe-rack-a", "area-04": "loading-bay",
            "area-05": "warehouse"}
AREA_DEPARTMENT = {"unit-1": "workshop-1", "tank-farm-3": "storage", "pipe-rack-a": "workshop-1",
                   "loading-bay": "storage", "warehouse": "maintenance"}
EXTRA_AREA = ("loading-bay", "装卸站台", "storage", "general")
# Fields holding a code or ref of another demo row: marked like the keys so the references still hold.
_MARKED = ("ref", "code", "equipment_code", "person_code", "contractor")
_DEPARTMENT_FIELDS = ("department", "owner_department", "managing_department")
STATE_KIND, STATE_KEY = "demo_data", "state"  # hub_records row: removed on purpose → --if-new does not reload
# A plant year of moderate size: large enough for the analyses to have power, small enough that
# `make run` loads it in seconds on SQLite (measured in the report of issue 15).
# Planted: one machine failing at high load, a crew, an area (tank-farm-3) with twice the hazard rate,
# hazards rising with load, a contractor with 2.5× the violation rate (the generator's effects that
# this version of it knows; see :func:`_generator_args`); equipment and shifts spread evenly over the
# areas (``balanced``), as in a plant whose units are alike, so the planted area is the one that differs.
SIZE = dict(equipment=30, people=300, work_records=6000, hazards=1500, areas=5, teams=20,
            planted_load=("EQ-0007",), load_multiplier=4.0, planted_team="T03", team_multiplier=3.0,
            planted_area="area-02", area_multiplier=2.0, load_effect=1.9, contractors=4, planted_contractor="C02",
            contractor_multiplier=2.5, balanced=True)


def window(now: datetime) -> tuple[datetime, int]:
    """Start and length in days of the demo year: the twelve full months before this one and this month up to
    today (days end at midnight, so nothing lies ahead of the clock)."""
    y, m = now.year - 1, now.month
    start = datetime(y, m, 1, tzinfo=timezone.utc)
    today = datetime(now.year, now.month, now.day, tzinfo=timezone.utc)
    return start, (today - start).days


def last_full_month(now: datetime) -> str:
    """``YYYY-MM`` of the month before ``now``'s."""
    first = datetime(now.year, now.month, 1, tzinfo=timezone.utc) - timedelta(days=1)
    return f"{first.year}-{first.month:02d}"


def demo_rows(now: datetime, **size) -> dict[str, list[dict]]:
    """The generated year, marked, on the sample plant's areas, as of ``now`` (see :func:`_as_of`)."""
    from engine.hub.generate import generate

    start, days = window(now)
    data = generate(seed=SEED, start=start, days=days, **_generator_args(generate, {**SIZE, **size}))
    departments = {}
    for kind, rows in data.items():
        for row in rows:
            for name in _MARKED:
                if row.get(name):
                    row[name] = MARK + str(row[name])
            if "area" in row:
                old = row["area"]
                row["area"] = AREA_MAP.get(old, old)
                for dep in _DEPARTMENT_FIELDS:
                    if row.get(dep):
                        departments.setdefault(row[dep], AREA_DEPARTMENT.get(row["area"], row[dep]))
                        row[dep] = AREA_DEPARTMENT.get(row["area"], row[dep])
    for kind, rows in data.items():  # rows without an area (people, contractors): by the same department map
        for row in rows:
            if "area" not in row:
                for dep in _DEPARTMENT_FIELDS:
                    if row.get(dep):
                        row[dep] = departments.get(row[dep], row[dep])
    return {kind: _as_of(kind, rows, now) for kind, rows in data.items() if kind in KINDS}


def _generator_args(generate, wanted: dict) -> dict:
    """The parameters this version of the generator takes (planted effects are added over time)."""
    import inspect

    known = inspect.signature(generate).parameters
    return {k: v for k, v in wanted.items() if k in known}


def _as_of(kind: str, rows: list[dict], now: datetime) -> list[dict]:
    """The rows as the plant knows them at ``now``: a hazard the generator closes after today is still
    open, an escalation received after today has not happened (the import would reject both as future)."""
    spec = KINDS[kind]
    out = []
    for row in rows:
        if spec.time_field and spec.time_field not in spec.future_ok and _later(row.get(spec.time_field), now):
            continue
        for f in spec.fields:
            if f.type == "datetime" and f.name not in spec.future_ok and _later(row.get(f.name), now):
                row[f.name] = None
                if "status" in row and f.name == "closed_at":
                    row["status"] = "open"
        out.append(row)
    return out


def _later(value, now: datetime) -> bool:
    if not value or not isinstance(value, str):
        return False
    dt = datetime.fromisoformat(value)
    return (dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)) > now


def loaded(platform) -> int:
    """How many demo rows the hub holds."""
    n = 0
    with platform.db.session(write=False) as s:
        for kind in KINDS.values():
            col = _mark_column(kind)
            n += s.scalar(select(func.count()).select_from(kind.model).where(col.like(MARK + "%")))
    return n


def removed_on_purpose(platform) -> bool:
    """True when the demo data was removed with ``--remove`` (``make run`` then does not load it again)."""
    with platform.db.session(write=False) as s:
        row = s.scalar(select(HubRecord).where(HubRecord.kind == STATE_KIND, HubRecord.key == STATE_KEY))
        return bool(row and (row.data or {}).get("removed"))


def load_demo(platform, *, now: datetime | None = None, analyse: bool = True, **size) -> dict:
    """Load the demo year into the hub and run the analyses of the last full month; returns what was done.

    Idempotent: loading again updates the same rows. ``size`` overrides :data:`SIZE` (tests use a
    smaller plant). Runs are stored by :data:`ACTOR` without pushing recommendations: a pushed
    recommendation starts a process with tasks for real people, which removing the demo could not
    take back without cancelling them.
    """
    now = now or datetime.now(timezone.utc)
    t0 = time.perf_counter()
    platform.users.ensure_area(*EXTRA_AREA)
    rows = demo_rows(now, **size)
    counts = {}
    for kind, kind_rows in rows.items():
        rep = platform.hub.upsert(kind, kind_rows, source="bench", batch_size=2000, now=now).as_dict()
        counts[kind] = rep["outcomes"]
    t_load = time.perf_counter() - t0
    _set_state(platform, removed=False)
    runs = []
    period = last_full_month(now)
    if analyse:
        runs = platform.analytics.run(period, actor=ACTOR, push=False, sync_processes=False)
    return {"period": period, "rows": counts, "load_seconds": round(t_load, 1),
            "analyses": [{"analysis": r["analysis"], "id": r["id"], "duration_ms": r["duration_ms"]} for r in runs],
            "seconds": round(time.perf_counter() - t0, 1)}


def remove_demo(platform) -> dict:
    """Delete every demo row (natural key marked ``demo:``) and the demo's analysis runs; nothing else."""
    out = {}
    with platform.db.session() as s:
        for name, kind in KINDS.items():
            res = s.execute(delete(kind.model).where(_mark_column(kind).like(MARK + "%"))
                            .execution_options(synchronize_session=False))
            out[name] = res.rowcount or 0
        ids = list(s.scalars(select(AnalysisRun.id).where(AnalysisRun.run_by == ACTOR)))
        if ids:  # children first: SQLite enforces no ON DELETE CASCADE unless told to
            s.execute(delete(FocusItem).where(FocusItem.run_id.in_(ids)))
            s.execute(delete(Recommendation).where(Recommendation.run_id.in_(ids)))
            s.execute(delete(AnalysisRun).where(AnalysisRun.id.in_(ids)))
        out["analysis_runs"] = len(ids)
    _set_state(platform, removed=True)
    return out


def _mark_column(kind):
    """The key column that carries the mark: the first key field (ref, code, equipment_code, person_code)."""
    return getattr(kind.model, kind.key[0])


def _set_state(platform, *, removed: bool) -> None:
    from engine.models import utcnow

    with platform.db.session() as s:
        row = s.scalar(select(HubRecord).where(HubRecord.kind == STATE_KIND, HubRecord.key == STATE_KEY))
        if row is None:
            row = HubRecord(kind=STATE_KIND, key=STATE_KEY, data={}, version=1)
            s.add(row)
        row.data = {"removed": removed, "at": utcnow().isoformat()}
        row.updated_at = utcnow()
