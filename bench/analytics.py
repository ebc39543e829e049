"""Benchmark: fusion analyses and the integrated assessment on a generated plant year.

1 year, 200 equipment (73,000 daily running records), 2,000 people, 50,000
work records, ~5,000 hazards, plus violations, inspections, stops, alerts and
escalations; one load effect (EQ-0042, ×4 at ≥ 85 % load) and one violation
hotspot (team T17, ×2) planted. Each analysis and the assessment must finish in
< 10 s, and exactly the planted machine and team must be flagged (exit 1
otherwise). ×4 rather than ×3: see bench/analytics_power.py for the detection
limit at this scale.

    .venv/bin/python bench/analytics.py                      # SQLite in a temp folder
    .venv/bin/python bench/analytics.py --database-url postgresql://postgres@127.0.0.1:5432/anjian_bench
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.analytics.analyses import ANALYSES  # noqa: E402
from engine.config import Settings  # noqa: E402
from engine.hub.generate import generate  # noqa: E402
from engine.platform import Platform  # noqa: E402

LIMIT_S = 10.0


def main() -> int:
    """Generate, load, run, print figures; exit 1 when something is over the limit."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--database-url", default=None, help="default: a fresh SQLite file in a temp folder")
    ap.add_argument("--period", default="2026-11")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--load-multiplier", type=float, default=4.0, help="planted high-load effect of EQ-0042")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="anjian-bench-analytics-"))
    url = args.database_url or f"sqlite:///{tmp / 'anjian.db'}"
    platform = Platform(Settings.from_env({"ANJIAN_DATA_DIR": str(tmp), "DATABASE_URL": url,
                                           "ANJIAN_SECRET_KEY": "bench-secret-key-0123456789-abcdefghijklmnop"}))
    platform.migrate()
    backend = "sqlite" if platform.db.is_sqlite else "postgresql"
    t0 = time.perf_counter()
    data = generate(seed=args.seed, start=datetime(2025, 12, 1, tzinfo=timezone.utc), days=365,
                    planted_load=("EQ-0042",), load_multiplier=args.load_multiplier, planted_team="T17",
                    team_multiplier=2.0)
    gen_s = time.perf_counter() - t0
    print(f"backend {backend}; generated in {gen_s:.1f} s:", ", ".join(f"{k} {len(v)}" for k, v in data.items()))
    t0 = time.perf_counter()
    for kind, rows in data.items():
        rep = platform.hub.upsert(kind, rows, source="bench", batch_size=5000)
        assert not rep.rejected, rep.rejected[:3]
    load_s = time.perf_counter() - t0
    n = sum(len(v) for v in data.values())
    print(f"loaded {n} records through the import path in {load_s:.1f} s ({n / load_s:,.0f} rows/s)")
    t0 = time.perf_counter()
    again = platform.hub.upsert("work_record", data["work_record"], source="bench", batch_size=5000)
    print(f"re-import of 50,000 work records: {time.perf_counter() - t0:.1f} s, inserted {again.inserted}, "
          f"unchanged {again.unchanged}")
    slow, missed = [], []
    for name in ANALYSES:
        t0 = time.perf_counter()
        [run] = platform.analytics.run(args.period, [name], actor="bench", sync_processes=False)
        s = time.perf_counter() - t0
        res = run["result"]
        extra = ""
        if name == "equipment_load":
            flagged = [f["equipment"] for f in res["flagged"]]
            e42 = next(r for r in res["per_equipment"] if r["equipment"] == "EQ-0042")
            extra = (f"tested {res['equipment_tested']}, flagged {flagged}; EQ-0042 high {e42['high_events']} events "
                     f"/ {e42['high_hours']:.0f} h, other {e42['other_events']} / {e42['other_hours']:.0f} h, "
                     f"p={e42['p_value']:.1e}")
            missed += [] if flagged == ["EQ-0042"] else ["equipment_load: expected exactly EQ-0042"]
        elif name == "violation_hotspots":
            extra = f"hotspots {[(h['dimension'], h['group']) for h in res['hotspots']]}"
            teams = [h["group"] for h in res["dimensions"]["team"]["hotspots"]]
            missed += [] if teams == ["T17"] else ["violation_hotspots: expected exactly team T17"]
        elif name == "supervision":
            extra = f"precision {res['period']['precision']}, interference {res['period']['interference']}"
        elif name == "permits":
            extra = f"permits {res['total']['count']}"
        else:
            extra = res.get("verdict", "")[:90]
        print(f"{name:20} {s:6.2f} s (compute {run['duration_ms'] / 1000:.2f} s)  {extra}")
        slow += [name] if s >= LIMIT_S else []
    for level in ("department", "person"):
        for period in (args.period, "2026-Q4"):
            t0 = time.perf_counter()
            res = platform.assessment.assess(period, level)
            s = time.perf_counter() - t0
            print(f"assessment {level:10} {period:8} {s:6.2f} s  {len(res['items'])} ranked, top "
                  f"{res['items'][0]['subject']} {res['items'][0]['score']}")
            slow += [f"assessment {level} {period}"] if s >= LIMIT_S else []
    from engine.reports.fusion import build, to_html

    t0 = time.perf_counter()
    html = to_html(build(platform, args.period))
    print(f"fusion report (HTML, {len(html) // 1024} KiB, charts inline) {time.perf_counter() - t0:6.2f} s")
    from engine.reports.pdf import to_pdf

    t0 = time.perf_counter()
    pdf = to_pdf(build(platform, args.period))
    print(f"fusion report (PDF, {len(pdf) // 1024} KiB)                 {time.perf_counter() - t0:6.2f} s")
    platform.close()
    if slow or missed:
        print("OVER THE LIMIT:" if slow else "", slow or "", "KNOWN ANSWER MISSED:" if missed else "", missed or "")
        return 1
    print(f"all analyses and the assessment under {LIMIT_S:.0f} s; planted machine and team found, nothing else")
    return 0


if __name__ == "__main__":
    sys.exit(main())
