"""Detection power and false-flag rate of the fusion analyses, per window, on simulated plants.

For each seed two plant-years of the realistic plant of issue 15 (``generate.REALISTIC``: six
areas, ~600 hazards, 30 machines, 24 shift crews, 6 contractors, 20,000 work records) are written
straight into an in-memory SQLite database and the real analyses run on them with their default
parameters except the window:

* a *planted* year: area ``area-03`` with twice the hazard rate, hazards 1.94× as frequent on
  machines running at high load (faults unchanged), contractor ``C02`` with 2.5× the violation
  rate. Power = share of seeds where the planted group is flagged;
* a *null* year (other seed, nothing planted): every flag is false. Also counted: flags of a
  group that was not planted in the planted years.

Each year is analysed once, with the window ending with its last month (2026-11). The default
window of an analysis is the shortest with ≥ 80 % power and ≤ 1 false flag per 10 null
plant-years; the script prints its choice next to the defaults in engine/analytics/analyses.py.

    .venv/bin/python bench/analytics_power.py --seeds 20           # ~3 minutes on one core
"""
from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, insert, update  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from engine.analytics.analyses import DEFAULTS, FUNCTIONS  # noqa: E402
from engine.hub.generate import REALISTIC, generate  # noqa: E402
from engine.hub.kinds import KINDS, validate_row  # noqa: E402
from engine.hub.models import Violation, WorkRecord  # noqa: E402
from engine.models import Area, Base  # noqa: E402
from engine.periods import parse_period  # noqa: E402

START = datetime(2025, 12, 1, tzinfo=timezone.utc)
PERIOD = "2026-11"
AREA, CONTRACTOR = "area-03", "C02"
PLANTS = {"planted": dict(planted_area=AREA, area_multiplier=2.0, load_effect=1.94, planted_contractor=CONTRACTOR,
                          contractor_multiplier=2.5),
          "null": {}}
KINDS_READ = ("equipment", "equipment_run", "hazard", "work_record", "violation", "contractor", "person")
ANALYSES = ("area_hotspots", "plant_load", "contractor_hotspots")
EFFECTS = {"area_hotspots": "area ×2", "plant_load": "load ×1.94", "contractor_hotspots": "contractor ×2.5",
           "as_team": "contractor ×2.5"}
AS_TEAM = "as_team"  # before issue 15: a contractor only told apart as a "team" among the 24 shift crews


def as_team(s: Session) -> None:
    """Rewrite the plant as it was recorded before contractors had a field: the contractor is the team."""
    for model in (WorkRecord, Violation):
        s.execute(update(model).where(model.contractor.is_not(None)).values(team=model.contractor))
    s.commit()


def plant(seed: int, kind: str) -> Session:
    """An in-memory database holding one generated plant-year (the kinds the analyses read)."""
    data = generate(seed=seed, start=START, **REALISTIC, **PLANTS[kind])
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine, tables=[KINDS[k].model.__table__ for k in KINDS_READ] + [Area.__table__])
    with Session(engine) as s, s.begin():
        for k in KINDS_READ:
            kind = KINDS[k]
            for r in data[k][:100]:  # the generator's rows are valid; the first hundred prove it
                assert not validate_row(kind, r)[1], (k, r)
            # validate_row on 32,000 rows would be most of the bench's time: convert what the analyses read
            times = [f.name for f in kind.fields if f.type == "datetime"]
            rows = []
            for r in data[k]:
                row = {**r, **{t: datetime.fromisoformat(r[t]) for t in times if r.get(t)}, "source": "bench"}
                if kind.derive:
                    kind.derive(row)
                rows.append(row)
            # the same keys in every row (column defaults filled in): one executemany instead of thousands
            table = kind.model.__table__
            keys = {key for row in rows for key in row if key in table.c}
            fill = {}
            for key in keys:
                d = table.c[key].default
                fill[key] = None if d is None else d.arg if d.is_scalar else d.arg(None) if d.is_callable else None
            rows = [{key: row[key] if row.get(key) is not None else fill[key] for key in keys} for row in rows]
            if rows:
                s.execute(insert(table), rows)
    return Session(engine)


def flags(name: str, result: dict) -> tuple[bool, list[str]]:
    """(planted effect found, the other groups flagged) of one result."""
    if name == "area_hotspots":
        flagged = [f"area {r['area']}" for r in result["by_area"] if r["flagged"]] + \
            [f"shift {r['shift']}" for r in result["by_shift"] if r["flagged"]]
        return f"area {AREA}" in flagged, [f for f in flagged if f != f"area {AREA}"]
    if name == "plant_load":
        return result["hazard_test"]["flagged"], []
    if name == AS_TEAM:
        flagged = [r["group"] for r in result["dimensions"]["team"]["hotspots"]]
        return CONTRACTOR in flagged, [f for f in flagged if f != CONTRACTOR]
    flagged = [r["contractor"] for r in result["by_contractor"] if r["flagged"]]
    return CONTRACTOR in flagged, [f for f in flagged if f != CONTRACTOR]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--windows", type=int, nargs="+", default=[3, 6, 12])
    args = ap.parse_args()
    period = parse_period(PERIOD)
    found = defaultdict(int)          # (analysis, window) -> planted years where the effect was flagged
    false_null = defaultdict(int)     # (analysis, window) -> flags in null years
    false_planted = defaultdict(int)  # (analysis, window) -> flags of unplanted groups in planted years
    examples = defaultdict(list)
    t0 = time.perf_counter()
    for seed in range(1, args.seeds + 1):
        for kind, plant_seed in (("planted", seed), ("null", 1000 + seed)):
            with plant(plant_seed, kind) as s:
                as_team(s)  # the analyses of issue 15 do not read teams; violation_hotspots reads only them here
                for months in args.windows:
                    for name in ANALYSES + (AS_TEAM,):
                        if name == AS_TEAM:
                            out = FUNCTIONS["violation_hotspots"](s, period, {
                                **DEFAULTS["violation_hotspots"], "dimensions": ["team"], "window_months": months})
                        else:
                            out = FUNCTIONS[name](s, period, {**DEFAULTS[name], "window_months": months})
                        hit, others = flags(name, out.result)
                        if kind == "planted":
                            found[name, months] += hit
                            false_planted[name, months] += len(others)
                            if months == args.windows[-1] and len(examples[name]) < 1:
                                examples[name].append(out.result["verdict"])
                        else:
                            false_null[name, months] += len(others) + hit
        print(f"seed {seed}/{args.seeds} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
    n = args.seeds
    print(f"\n{n} planted + {n} null plant-years ({REALISTIC['areas']} areas, {REALISTIC['hazards']} base hazards, "
          f"{REALISTIC['teams']} crews, {REALISTIC['contractors']} contractors, {REALISTIC['work_records']:,} work "
          f"records a year); {time.perf_counter() - t0:.0f} s\n")
    print("| analysis (planted effect) | window | power | false flags per 10 null plant-years | "
          "other groups flagged per 10 planted years |")
    print("|---|---|---|---|---|")
    choice = {}
    for name in ANALYSES + (AS_TEAM,):
        for months in args.windows:
            power = found[name, months] / n
            fpr = 10 * false_null[name, months] / n
            label = "violation_hotspots, contractor as a team (before)" if name == AS_TEAM else name
            print(f"| {label} ({EFFECTS[name]}) | {months} months | {found[name, months]}/{n} = {power:.0%} | "
                  f"{fpr:.1f} | {10 * false_planted[name, months] / n:.1f} |")
            if name != AS_TEAM and name not in choice and power >= 0.8 and fpr <= 1.0:
                choice[name] = months
    print()
    for name in ANALYSES:
        chosen = choice.get(name)
        print(f"{name}: shortest window meeting ≥80 % power and ≤1 false flag / 10 null years: "
              f"{f'{chosen} months' if chosen else 'none of ' + str(args.windows)}; default "
              f"{DEFAULTS[name]['window_months']} months")
        for v in examples[name]:
            print(f"    e.g. {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
