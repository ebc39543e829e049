"""Bulk import into the data hub: CSV/JSON/Excel, row-by-row validation, idempotency, paging API."""
import io
import json
import subprocess
import sys

from openpyxl import Workbook

from tests.hub_support import hub_platform  # noqa: F401

CSV = """code,name,area,type,rated_load,department
P-101A,进料泵 A,unit-1,pump,45,workshop-1
P-101B,进料泵 B,unit-1,pump,not-a-number,workshop-1
,无编号设备,unit-1,pump,10,workshop-1
C-201,循环气压缩机,unit-1,compressor,1200,workshop-1
"""


def upload(api, kind, name, data: bytes, user="safety1"):
    return api.post(f"/api/v1/hub/{kind}/import", user, data={"file": (io.BytesIO(data), name)},
                    content_type="multipart/form-data")


def test_csv_import_reports_bad_rows_by_line_and_stores_the_good_ones(api, hub_platform):
    r = upload(api, "equipment", "equipment.csv", CSV.encode())
    assert r.status_code == 200, r.json
    rep = r.json
    assert (rep["received"], rep["inserted"], rep["rejected_count"]) == (4, 2, 2)
    by_line = {x["row"]: x["errors"] for x in rep["rejected"]}
    assert by_line[3] == [{"field": "rated_load", "message": "could not convert string to float: 'not-a-number'",
                           "rule": "type"}]
    assert by_line[4] == [{"field": "code", "message": "required", "rule": "required"}]
    page = api.get("/api/v1/hub/equipment?area=unit-1", "prod1").json
    assert sorted(x["code"] for x in page["items"]) == ["C-201", "P-101A"]
    assert page["total"] == 2


def test_import_is_idempotent_by_natural_key_and_updates_changed_rows(api, hub_platform):
    assert upload(api, "equipment", "e.csv", CSV.encode()).json["inserted"] == 2
    again = upload(api, "equipment", "e.csv", CSV.encode()).json
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, 2)
    changed = CSV.replace("C-201,循环气压缩机,unit-1,compressor,1200", "C-201,循环气压缩机,unit-1,compressor,1500")
    third = upload(api, "equipment", "e.csv", changed.encode()).json
    assert (third["inserted"], third["updated"], third["unchanged"]) == (0, 1, 1)
    [c201] = api.get("/api/v1/hub/equipment?code=C-201", "prod1").json["items"]
    assert c201["rated_load"] == 1500.0
    assert api.get("/api/v1/hub/equipment", "prod1").json["total"] == 2


def test_excel_and_json_imports_with_composite_keys(api, hub_platform):
    wb = Workbook()
    ws = wb.active
    ws.append(["equipment_code", "started_at", "hours", "load_pct", "faults"])
    ws.append(["P-101A", "2026-11-01T00:00:00+08:00", 24, 91.5, 1])
    ws.append(["P-101A", "2026-11-02T00:00:00+08:00", 24, 250, 0])      # load > 200 %
    ws.append([None, None, None, None, None])                              # empty rows are skipped
    ws.append(["P-101A", "2026-11-03", 24, 60, 0])
    buf = io.BytesIO()
    wb.save(buf)
    rep = upload(api, "equipment_run", "runs.xlsx", buf.getvalue()).json
    assert (rep["inserted"], rep["rejected_count"]) == (2, 1)
    assert rep["rejected"][0]["row"] == 3 and rep["rejected"][0]["errors"][0]["field"] == "load_pct"
    # the same running record written again as JSON (other time zone, same instant) updates, not duplicates
    rows = [{"equipment_code": "P-101A", "started_at": "2026-10-31T16:00:00Z", "hours": 20, "load_pct": 91.5}]
    rep2 = upload(api, "equipment_run", "runs.json", json.dumps(rows).encode()).json
    assert (rep2["inserted"], rep2["updated"]) == (0, 1)
    listed = api.get("/api/v1/hub/equipment_run?equipment_code=P-101A&from=2026-10-31T12:00:00Z&to=2026-11-01T12:00:00Z", "prod1").json
    assert [x["hours"] for x in listed["items"]] == [20.0]


def test_bad_requests_are_problems_naming_the_field(api, hub_platform):
    r = api.get("/api/v1/hub/gadgets", "prod1")
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "kind"
    r = api.get("/api/v1/hub/hazard?colour=red", "prod1")
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "colour"
    r = api.get("/api/v1/hub/hazard?from=yesterday", "prod1")
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "from"
    r = api.post("/api/v1/hub/hazard", "safety1", json={"ref": "H-1", "area": "unit-1", "level": "huge"})
    assert r.status_code == 422
    assert r.headers["Content-Type"].startswith("application/problem+json")
    assert {e["field"] for e in r.json["errors"]} == {"found_at", "level"}
    assert api.get("/api/v1/hub/hazard", "prod1").json["total"] == 0     # nothing stored
    r = upload(api, "hazard", "h.txt", b"x")
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "file"
    assert api.post("/api/v1/hub/hazard", "worker1", json={}).status_code == 403


def test_one_record_by_api_then_paging(api, hub_platform):
    for i in range(7):
        r = api.post("/api/v1/hub/violation", "safety1", json={
            "ref": f"V-{i}", "at": f"2026-11-0{i + 1}T10:00:00+00:00", "area": "unit-1", "team": "甲班",
            "post": "welder", "kind": "no_permit"})
        assert r.status_code == 201, r.json
    r = api.post("/api/v1/hub/violation", "safety1", json={"ref": "V-0", "at": "2026-11-01T10:00:00+00:00",
                                                           "area": "unit-1", "kind": "no_ppe"})
    assert r.status_code == 200 and r.json["created"] is False and r.json["record"]["kind"] == "no_ppe"
    p1 = api.get("/api/v1/hub/violation?page_size=3", "prod1").json
    p3 = api.get("/api/v1/hub/violation?page_size=3&page=3", "prod1").json
    assert p1["total"] == 7 and [x["ref"] for x in p1["items"]] == ["V-6", "V-5", "V-4"]   # newest first
    assert [x["ref"] for x in p3["items"]] == ["V-0"]


def test_cli_import_prints_a_report_and_exit_code(hub_platform, tmp_path):
    if not hub_platform.db.is_sqlite:
        return  # the CLI path is the same on PostgreSQL; one backend is enough for the process boundary
    f = tmp_path / "equipment.csv"
    f.write_text(CSV, encoding="utf-8")
    env = {"DATABASE_URL": hub_platform.settings.database_url, "ANJIAN_DATA_DIR": str(hub_platform.settings.data_dir),
           "ANJIAN_SECRET_KEY": hub_platform.settings.secret_key, "PATH": "/usr/bin:/bin"}
    run = subprocess.run([sys.executable, "-m", "api.cli", "hub", "import", str(f), "--kind", "equipment"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert run.returncode == 1, run.stderr                 # some rows were rejected
    assert "inserted 2" in run.stdout and "rejected 2" in run.stdout
    assert "line 3" in run.stdout and "rated_load" in run.stdout
    run2 = subprocess.run([sys.executable, "-m", "api.cli", "hub", "import", str(f), "--kind", "equipment",
                           "--json"], capture_output=True, text=True, env=env, timeout=60)
    assert json.loads(run2.stdout)["unchanged"] == 2


# --------------------------------------------------------------------------- what is stored is true (issue 15)

def _by_row(rep):
    return {x["row"]: x for x in rep["rejected"]}


def test_duplicate_keys_in_one_file_are_rejected_naming_both_lines(api, hub_platform):
    csv_text = ("code,name,area,type,rated_load,department\n"
                "P-101A,进料泵 A,unit-1,pump,45,workshop-1\n"
                "C-201,循环气压缩机,unit-1,compressor,1200,workshop-1\n"
                "P-101A,进料泵 A (new),unit-1,pump,55,workshop-1\n")
    rep = upload(api, "equipment", "dup.csv", csv_text.encode()).json
    assert rep["outcomes"] == {"created": 1, "updated": 0, "unchanged": 0, "rejected": 2}
    rows = _by_row(rep)
    assert rows[2]["duplicate_of"] == [4] and rows[4]["duplicate_of"] == [2]
    assert rows[4]["errors"] == [{"field": "code", "rule": "duplicate_key",
                                  "message": "same code as line 2 of this file: keep one of them"}]
    assert [x["code"] for x in api.get("/api/v1/hub/equipment", "prod1").json["items"]] == ["C-201"]


def test_composite_keys_are_duplicates_whatever_the_time_zone_they_are_written_in(api, hub_platform):
    rows = [{"equipment_code": "P-1", "started_at": "2026-11-01T08:00:00+08:00", "hours": 24, "load_pct": 60},
            {"equipment_code": "P-1", "started_at": "2026-11-01T00:00:00Z", "hours": 24, "load_pct": 70},
            {"equipment_code": "P-1", "started_at": "2026-11-02T00:00:00Z", "hours": 24, "load_pct": 70}]
    rep = upload(api, "equipment_run", "runs.json", json.dumps(rows).encode()).json
    assert rep["outcomes"] == {"created": 1, "updated": 0, "unchanged": 0, "rejected": 2}
    assert {r["row"]: r["duplicate_of"] for r in rep["rejected"]} == {1: [2], 2: [1]}


def test_dates_in_the_future_are_rejected_beyond_the_tolerance(api, hub_platform):
    from datetime import datetime, timedelta, timezone

    now = datetime.now(timezone.utc)
    rows = [{"ref": "H-soon", "found_at": (now + timedelta(minutes=5)).isoformat(), "area": "unit-1"},   # clock skew
            {"ref": "H-late", "found_at": (now + timedelta(hours=8)).isoformat(), "area": "unit-1"},
            {"ref": "H-due", "found_at": (now - timedelta(days=1)).isoformat(), "area": "unit-1",
             "deadline": (now + timedelta(days=7)).isoformat()},                 # a deadline may lie ahead
            {"ref": "H-closed", "found_at": (now - timedelta(days=1)).isoformat(), "area": "unit-1",
             "closed_at": (now + timedelta(days=2)).isoformat()}]
    rep = upload(api, "hazard", "h.json", json.dumps(rows).encode()).json
    assert rep["outcomes"] == {"created": 2, "updated": 0, "unchanged": 0, "rejected": 2}
    rows_ = _by_row(rep)
    assert [(e["field"], e["rule"]) for e in rows_[2]["errors"]] == [("found_at", "not_in_future")]
    assert [(e["field"], e["rule"]) for e in rows_[4]["errors"]] == [("closed_at", "not_in_future")]
    assert "in the future" in rows_[2]["errors"][0]["message"]
    # one record through the API is judged the same way: 422 naming the field, nothing stored
    r = api.post("/api/v1/hub/hazard", "safety1", json=rows[1])
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "found_at"
    assert r.json["errors"][0]["rule"] == "not_in_future"


def test_future_tolerance_is_configurable(hub_platform):
    from datetime import datetime, timedelta, timezone

    from engine.hub.service import HubService

    at = (datetime.now(timezone.utc) + timedelta(hours=2)).isoformat()
    strict = HubService(hub_platform.db, future_tolerance=timedelta(minutes=15))
    lenient = HubService(hub_platform.db, future_tolerance=timedelta(hours=3))
    row = {"ref": "V-ahead", "at": at, "area": "unit-1"}
    assert strict.upsert("violation", [row]).as_dict()["outcomes"]["rejected"] == 1
    assert lenient.upsert("violation", [row]).as_dict()["outcomes"]["created"] == 1


def test_a_planned_work_order_may_lie_ahead_but_a_completed_one_may_not(hub_platform):
    from datetime import datetime, timedelta, timezone

    t = datetime.now(timezone.utc) + timedelta(days=1)
    base = {"kind": "maintenance", "area": "unit-1", "started_at": t.isoformat(),
            "ended_at": (t + timedelta(hours=4)).isoformat(), "workers": 2}
    rep = hub_platform.hub.upsert("work_record", [{**base, "ref": "WO-plan", "status": "planned"},
                                                  {**base, "ref": "WO-done", "status": "completed"}]).as_dict()
    assert rep["outcomes"]["created"] == 1
    assert rep["rejected"][0]["key"] == ["WO-done"]
    assert {e["rule"] for e in rep["rejected"][0]["errors"]} == {"not_in_future"}


WORK_CSV = """ref,kind,area,started_at,ended_at,workers,hours,applied_at,approved_at
W-ok,maintenance,unit-1,2026-11-02T08:00:00Z,2026-11-02T12:00:00Z,3,12,,
W-hours,maintenance,unit-1,2026-11-02T08:00:00Z,2026-11-02T12:00:00Z,2,9,,
W-back,maintenance,unit-1,2026-11-02T08:00:00Z,2026-11-02T07:00:00Z,2,,,
W-appr,hot_work,unit-1,2026-11-02T08:00:00Z,2026-11-02T10:00:00Z,2,4,2026-11-01T10:00:00Z,2026-11-01T09:00:00Z
W-neg,maintenance,unit-1,2026-11-02T08:00:00Z,2026-11-02T09:00:00Z,2,-1,,
"""


def test_physical_plausibility_of_work_records_names_the_rule(api, hub_platform):
    rep = upload(api, "work_record", "work.csv", WORK_CSV.encode()).json
    assert rep["outcomes"] == {"created": 1, "updated": 0, "unchanged": 0, "rejected": 4}
    why = {r["row"]: [(e["field"], e["rule"]) for e in r["errors"]] for r in rep["rejected"]}
    assert why == {3: [("hours", "hours_within_workers_x_duration")],       # 9 person-hours > 2 × 4 h
                   4: [("ended_at", "ended_at_after_started_at")],
                   5: [("approved_at", "approved_at_after_applied_at")],
                   6: [("hours", "minimum")]}                                 # durations are not negative
    assert "2 × 4 h" in _by_row(rep)[3]["errors"][0]["message"]
    [stored] = api.get("/api/v1/hub/work_record", "prod1").json["items"]
    assert stored["ref"] == "W-ok"


def test_load_plausibility_and_other_kinds(hub_platform):
    hub = hub_platform.hub
    runs = hub.upsert("equipment_run", [
        {"equipment_code": "P-1", "started_at": "2026-11-01T00:00:00Z", "hours": 24, "load_pct": 110},   # overload
        {"equipment_code": "P-1", "started_at": "2026-11-02T00:00:00Z", "hours": 24, "load_pct": 180},
        {"equipment_code": "P-1", "started_at": "2026-11-03T00:00:00Z", "hours": 24, "load_pct": -3},
        {"equipment_code": "P-1", "started_at": "2026-11-04T00:00:00Z", "hours": 0, "load_pct": 0, "faults": 2},
    ]).as_dict()
    assert runs["outcomes"]["created"] == 1
    assert [(r["row"], [e["rule"] for e in r["errors"]]) for r in runs["rejected"]] == [
        (2, ["load_in_range"]), (3, ["load_in_range"]), (4, ["faults_need_running"])]
    other = {
        "hazard": {"ref": "H", "found_at": "2026-11-05T00:00:00Z", "area": "a", "closed_at": "2026-11-04T00:00:00Z"},
        "alert": {"ref": "A", "raised_at": "2026-11-05T00:00:00Z", "area": "a", "grade": "red",
                  "handled_at": "2026-11-04T23:00:00Z"},
        "production_stop": {"ref": "S", "area": "a", "cause_kind": "safety", "started_at": "2026-11-05T00:00:00Z",
                            "ended_at": "2026-11-05T00:00:00Z"},
        "escalation": {"ref": "E", "level": 1, "received_at": "2026-11-05T00:00:00Z",
                       "closed_at": "2026-11-01T00:00:00Z"},
        "training": {"person_code": "P1", "course": "c", "completed_on": "2026-11-05", "expires_on": "2025-11-05"},
    }
    for kind, row in other.items():
        rep = hub.upsert(kind, [row]).as_dict()
        assert rep["outcomes"]["rejected"] == 1, (kind, rep)
        assert rep["rejected"][0]["errors"][0]["rule"].endswith("_after_" + {
            "hazard": "found_at", "alert": "raised_at", "production_stop": "started_at",
            "escalation": "received_at", "training": "completed_on"}[kind]), rep


def test_cli_import_names_line_field_and_rule(hub_platform, tmp_path):
    if not hub_platform.db.is_sqlite:
        return
    f = tmp_path / "work.csv"
    f.write_text(WORK_CSV, encoding="utf-8")
    env = {"DATABASE_URL": hub_platform.settings.database_url, "ANJIAN_DATA_DIR": str(hub_platform.settings.data_dir),
           "ANJIAN_SECRET_KEY": hub_platform.settings.secret_key, "PATH": "/usr/bin:/bin"}
    run = subprocess.run([sys.executable, "-m", "api.cli", "hub", "import", str(f), "--kind", "work_record"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert run.returncode == 1, run.stderr
    assert "created 1, updated 0, unchanged 0, rejected 4" in run.stdout, run.stdout
    assert "line 3: hours: " in run.stdout and "[hours_within_workers_x_duration]" in run.stdout


def test_a_malformed_file_is_a_problem_naming_the_file_and_stores_nothing(api, hub_platform):
    for name, data in (("h.json", b'[{"ref": "H-1", "found_at": '), ("h.csv", b"\xff\xferef\n"),
                       ("h.xlsx", b"not a workbook")):
        r = upload(api, "hazard", name, data)
        assert r.status_code == 422, (name, r.json)
        assert r.headers["Content-Type"].startswith("application/problem+json")
        assert r.json["errors"][0]["field"] == "file", name
    assert api.get("/api/v1/hub/hazard", "prod1").json["total"] == 0
