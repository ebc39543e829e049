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
    assert by_line[3] == [{"field": "rated_load", "message": "could not convert string to float: 'not-a-number'"}]
    assert by_line[4] == [{"field": "code", "message": "required"}]
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
