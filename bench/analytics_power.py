"""Detection limit of the equipment-load analysis: how often a planted high-load effect is found.

For each seed, a generated plant year (200 equipment, ~5,000 hazards; only the
equipment data) is written straight into an in-memory SQLite database and the
real ``equipment_load`` analysis runs on it with its defaults; the planted
machine must be the only one flagged. Prints, per multiplier, found / seeds
and false flags.

    .venv/bin/python bench/analytics_power.py --multipliers 2 3 4 5 --seeds 10
"""
from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, insert  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from engine.analytics.analyses import DEFAULTS, equipment_load  # noqa: E402
from engine.hub.generate import generate  # noqa: E402
from engine.hub.kinds import KINDS, validate_row  # noqa: E402
from engine.models import Base  # noqa: E402
from engine.periods import parse_period  # noqa: E402

PLANTED = "EQ-0042"


def one(seed: int, multiplier: float, window_months: int) -> tuple[list[str], float | None]:
    """Flagged equipment and the planted machine's p-value for one generated plant."""
    data = generate(seed=seed, start=datetime(2025, 12, 1, tzinfo=timezone.utc), days=365, people=10,
                    work_records=60, planted_load=(PLANTED,) if multiplier != 1 else (), load_multiplier=multiplier)
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine, tables=[KINDS[k].model.__table__ for k in ("equipment", "equipment_run",
                                                                                 "hazard")])
    with Session(engine) as s, s.begin():
        for kind in ("equipment", "equipment_run", "hazard"):
            rows = [validate_row(KINDS[kind], r, default_source="bench")[0] for r in data[kind]]
            s.execute(insert(KINDS[kind].model), rows)
    with Session(engine) as s:
        out = equipment_load(s, parse_period("2026-11"), {**DEFAULTS["equipment_load"],
                                                           "window_months": window_months})
    engine.dispose()
    row = next((r for r in out.result["per_equipment"] if r["equipment"] == PLANTED), {})
    return [f["equipment"] for f in out.result["flagged"]], row.get("p_value")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--multipliers", type=float, nargs="+", default=[1.0, 3.0, 4.0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--windows", type=int, nargs="+", default=[3, 12])
    args = ap.parse_args()
    for months in args.windows:
        for mult in args.multipliers:
            t0 = time.perf_counter()
            found = false = 0
            ps = []
            for seed in range(1, args.seeds + 1):
                flagged, p = one(seed, mult, months)
                found += flagged.count(PLANTED) if mult != 1 else 0
                false += len([f for f in flagged if f != PLANTED])
                ps.append(p)
            what = "nothing planted" if mult == 1 else f"×{mult:g} planted"
            print(f"window {months:2} months, {what:16}: found {found}/{args.seeds if mult != 1 else 0}, "
                  f"false flags {false}, planted p-values {['%.1e' % p if p else None for p in ps]} "
                  f"({time.perf_counter() - t0:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
