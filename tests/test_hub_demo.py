"""The demo year: `make run` loads it marked, the analyses find something, one command removes exactly it."""
import subprocess
import sys
from datetime import datetime, timezone

from engine.hub import demo
from engine.hub.kinds import KINDS
from tests.hub_support import hub_platform  # noqa: F401

NOW = datetime(2026, 12, 6, 9, 30, tzinfo=timezone.utc)
SMALL = dict(equipment=8, people=60, work_records=900, hazards=300, teams=8)


def _all_rows(p) -> dict[str, set]:
    out = {}
    for name in KINDS:
        out[name] = {tuple(x[k] for k in KINDS[name].key) for x in p.hub.query(name, page_size=500)["items"]}
    return out


def test_demo_year_is_marked_on_the_sample_plant_and_as_of_today(hub_platform):
    rows = demo.demo_rows(NOW, **SMALL)
    assert all(r["ref"].startswith("demo:") for r in rows["hazard"])
    assert all(r["equipment_code"].startswith("demo:") for r in rows["equipment_run"])
    assert {r["area"] for r in rows["hazard"]} <= set(demo.AREA_MAP.values())
    assert all(r["department"] == demo.AREA_DEPARTMENT[r["area"]] for r in rows["work_record"])
    stamps = [r["found_at"] for r in rows["hazard"]] + [r["closed_at"] for r in rows["hazard"] if r["closed_at"]]
    assert max(datetime.fromisoformat(x) for x in stamps) <= NOW          # nothing ahead of the clock
    assert min(r["started_at"] for r in rows["equipment_run"]).startswith("2025-12-01")


def test_load_runs_the_analyses_and_remove_leaves_other_data_untouched(hub_platform):
    p = hub_platform
    # the plant's own data, before and after the demo
    p.hub.upsert("hazard", [{"ref": "H-own", "found_at": "2026-11-03T08:00:00Z", "area": "unit-1"}])
    p.hub.upsert("equipment", [{"code": "P-101A", "area": "unit-1"}])
    p.hub.upsert("equipment_run", [{"equipment_code": "P-101A", "started_at": "2026-11-03T00:00:00Z", "hours": 24,
                                    "load_pct": 70}])
    own_run = p.analytics.run("2026-10", ["permits"], actor="safety1", push=False, sync_processes=False)[0]
    before = _all_rows(p)

    out = demo.load_demo(p, now=NOW, **SMALL)
    assert out["period"] == "2026-11"
    assert sum(o["rejected"] for o in out["rows"].values()) == 0, out["rows"]
    assert {a["analysis"] for a in out["analyses"]} >= {"equipment_load", "permits"}
    assert demo.loaded(p) > 1000
    report_runs = p.analytics.runs("2026-11")
    assert report_runs and all(r["run_by"] == demo.ACTOR for r in report_runs)
    assert p.hub.query("work_record", {"source": "permit"}, time_from="2026-11-01", time_to="2026-12-01")["total"] > 0
    p.hub.upsert("violation", [{"ref": "V-own", "at": "2026-11-04T10:00:00Z", "area": "warehouse"}])  # meanwhile

    removed = demo.remove_demo(p)
    assert removed["hazard"] > 0 and removed["analysis_runs"] == len(report_runs)
    assert demo.loaded(p) == 0
    after = _all_rows(p)
    after["violation"].discard(("V-own",))
    assert after == before
    assert [r["id"] for r in p.analytics.runs()] == [own_run["id"]]
    assert demo.removed_on_purpose(p)
    demo.load_demo(p, now=NOW, analyse=False, **SMALL)                     # loading on purpose again
    assert not demo.removed_on_purpose(p) and demo.loaded(p) > 1000


def test_cli_if_new_does_not_reload_removed_demo_data(hub_platform):
    p = hub_platform
    if not p.db.is_sqlite:
        return  # one backend is enough for the process boundary
    demo.load_demo(p, now=NOW, analyse=False, **SMALL)
    env = {"DATABASE_URL": p.settings.database_url, "ANJIAN_DATA_DIR": str(p.settings.data_dir),
           "ANJIAN_SECRET_KEY": p.settings.secret_key, "PATH": "/usr/bin:/bin"}

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "api.cli", "hub", "demo", *args], capture_output=True,
                              text=True, env=env, timeout=120)

    assert "already loaded" in cli("--if-new").stdout
    gone = cli("--remove")
    assert gone.returncode == 0 and "demo data removed" in gone.stdout, gone.stderr
    assert demo.loaded(p) == 0
    again = cli("--if-new")
    assert "removed on purpose" in again.stdout and demo.loaded(p) == 0
