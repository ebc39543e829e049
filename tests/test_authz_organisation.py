"""Issue 12 §2: organisation management (departments, areas, users) through REST, CLI and import."""
import io
import json

import pytest
from click.testing import CliRunner
from openpyxl import Workbook

from tests.conftest import DEMO_PASSWORD


def _audit(api, kind):
    r = api.get(f"/api/v1/audit?kind={kind}&page_size=500", "admin")
    assert r.status_code == 200, r.json
    return r.json["items"]


@pytest.fixture
def cli(platform, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", platform.settings.database_url)
    monkeypatch.setenv("ANJIAN_DATA_DIR", str(platform.settings.data_dir))
    monkeypatch.setenv("ANJIAN_SECRET_KEY", platform.settings.secret_key)
    from api.cli import main

    return lambda *args: CliRunner().invoke(main, list(args))


def test_cli_creates_a_department_then_a_user_in_it(cli, api):
    r = cli("user", "add", "hq_clerk", "--password", "clerk-password", "--role", "worker", "--department", "hq")
    assert r.exit_code == 2 and "no department 'hq'" in r.output
    r = cli("department", "add", "hq", "--name", "总部", "--kind", "leadership", "--as", "cli:ops")
    assert r.exit_code == 0, r.output
    r = cli("user", "add", "hq_clerk", "--password", "clerk-password", "--role", "worker", "--department", "hq")
    assert r.exit_code == 0, r.output
    login = api.client.post("/api/v1/auth/login", json={"username": "hq_clerk", "password": "clerk-password"})
    assert login.status_code == 200
    me = api.client.get("/api/v1/me", headers={"Authorization": f"Bearer {login.json['access_token']}"}).json
    assert me["department"] == "hq" and me["roles"] == ["worker"]
    [dept_event] = _audit(api, "org_department_created")
    assert dept_event["actor"] == "cli:ops" and dept_event["data"]["department"]["code"] == "hq"
    [user_event] = _audit(api, "org_user_created")
    assert user_event["data"]["user"]["username"] == "hq_clerk" and "password" not in json.dumps(user_event["data"])
    r = cli("area", "add", "hq-office", "--name", "办公楼", "--classification", "general", "--department", "hq")
    assert r.exit_code == 0, r.output
    assert cli("user", "set", "hq_clerk", "--role", "worker", "--role", "team_leader").exit_code == 0
    assert cli("user", "deactivate", "hq_clerk").exit_code == 0
    assert "(inactive)" in cli("user", "list", "--department", "hq").output
    assert api.client.post("/api/v1/auth/login", json={"username": "hq_clerk", "password": "clerk-password"}
                           ).status_code == 401
    r = cli("area", "add", "bad area", "--name", "x", "--classification", "volcano")
    assert r.exit_code == 2 and "code" in r.output and "classification" in r.output


def test_rest_organisation_is_admin_only_and_validates_every_field(api, platform):
    for path in ("/api/v1/org/departments", "/api/v1/org/areas", "/api/v1/org/users"):
        r = api.get(path, "head1")
        assert r.status_code == 403 and r.headers["Content-Type"] == "application/problem+json"
    # A non-admin gets 403 whatever the body holds.
    assert api.post("/api/v1/org/departments", "safety1", json={"code": "x"}).status_code == 403
    assert api.post("/api/v1/org/departments", "safety1", json={"code": "lab", "name": "化验室"}).status_code == 403
    r = api.post("/api/v1/org/areas", "admin", json={"code": "lab-1", "name": "化验室",
                                                      "department": "nowhere", "classification": "general"})
    assert r.status_code == 422 and [e["field"] for e in r.json["errors"]] == ["department"]
    r = api.post("/api/v1/org/areas", "admin", json={"code": "lab 1", "name": "", "classification": "volcano"})
    assert r.status_code == 422 and {e["field"] for e in r.json["errors"]} == {"code", "name", "classification"}
    assert "lab-1" not in {a["code"] for a in api.get("/api/v1/org/areas", "admin").json["items"]}
    assert _audit(api, "org_area_created") == []

    r = api.post("/api/v1/org/departments", "admin", json={"code": "lab", "name": "化验室", "kind": "supervision"})
    assert r.status_code == 201 and r.json == {"code": "lab", "name": "化验室", "kind": "supervision"}
    assert api.post("/api/v1/org/departments", "admin", json={"code": "lab", "name": "x"}).status_code == 409
    r = api.post("/api/v1/org/areas", "admin", json={"code": "lab-1", "name": "化验室", "department": "lab",
                                                      "classification": "fire_explosion"})
    assert r.status_code == 201
    r = api.client.patch("/api/v1/org/areas/lab-1", json={"classification": "general"},
                         headers={"Authorization": f"Bearer {api.token('admin')}"})
    assert r.status_code == 200 and r.json["classification"] == "general"
    [changed] = _audit(api, "org_area_updated")
    assert changed["actor"] == "admin"
    assert changed["data"]["changes"] == {"classification": {"old": "fire_explosion", "new": "general"}}
    r = api.post("/api/v1/org/users", "admin", json={"username": "lab_tech", "password": "short",
                                                      "roles": ["chemist"], "department": "lab"})
    assert r.status_code == 422 and {e["field"] for e in r.json["errors"]} == {"password", "roles.0"}
    assert api.get("/api/v1/org/users/lab_tech", "admin").status_code == 404
    r = api.post("/api/v1/org/users", "admin", json={"username": "lab_tech", "password": DEMO_PASSWORD,
                                                      "roles": ["worker"], "department": "lab"})
    assert r.status_code == 201 and r.json["active"] is True and "password" not in r.json
    assert api.get("/api/v1/org/departments/lab", "admin").json["kind"] == "supervision"
    assert api.get("/api/v1/audit/verify", "admin").json["ok"] is True


def test_rest_role_change_deactivation_and_password_reset_take_effect_at_once(api, platform):
    admin = {"Authorization": f"Bearer {api.token('admin')}"}
    assert api.post("/api/v1/org/users", "admin", json={
        "username": "shift_sup", "password": DEMO_PASSWORD, "roles": ["supervision"], "department": "safety"}
    ).status_code in (201, 409)

    def login(password=DEMO_PASSWORD):
        r = api.client.post("/api/v1/auth/login", json={"username": "shift_sup", "password": password})
        assert r.status_code == 200, r.json
        return {"Authorization": f"Bearer {r.json['access_token']}"}

    token = login()
    r = api.client.patch("/api/v1/org/users/shift_sup", json={"roles": ["worker"]}, headers=admin)
    assert r.status_code == 200 and r.json["roles"] == ["worker"]
    assert api.client.get("/api/v1/me", headers=token).json["roles"] == ["worker"]
    r = api.post("/api/v1/org/users/shift_sup/password", "admin", json={"password": "fresh-password-1"})
    assert r.status_code == 200
    assert api.client.get("/api/v1/me", headers=token).status_code == 401
    token = login("fresh-password-1")
    assert api.client.get("/api/v1/me", headers=token).status_code == 200
    r = api.client.patch("/api/v1/org/users/shift_sup", json={"active": False}, headers=admin)
    assert r.status_code == 200 and r.json["active"] is False
    assert api.client.get("/api/v1/me", headers=token).status_code == 401
    events = _audit(api, "org_user_updated") + _audit(api, "org_user_password_reset")
    text = json.dumps([e["data"] for e in events], ensure_ascii=False)
    assert "argon2" not in text and "fresh-password-1" not in text
    assert {e["actor"] for e in events} == {"admin"}
    # Put the user back for the other backend's run of this test.
    api.client.patch("/api/v1/org/users/shift_sup", json={"active": True, "roles": ["supervision"]}, headers=admin)
    api.post("/api/v1/org/users/shift_sup/password", "admin", json={"password": DEMO_PASSWORD})


ORG_CSV = """record,code,name,kind,department,classification,roles,active,password
user,imp_op,导入操作工,,imp-plant,,worker;team_leader,true,imp-password-1
department,imp-plant,导入车间,production,,,,,
area,imp-unit,导入装置区,,imp-plant,fire_explosion,,,
user,imp_bad,坏行,,imp-plant,,wizard,,imp-password-1
area,imp-odd,怪区域,,nowhere,volcano,,,
department,imp-plant,重复,production,,,,,
user,imp_nopw,无密码,,imp-plant,,worker,,
widget,w1,x,,,,,,
"""


def _upload(api, name, data, user="admin"):
    return api.post("/api/v1/org/import", user, data={"file": (io.BytesIO(data), name)},
                    content_type="multipart/form-data")


def test_import_reports_each_row_stores_only_good_rows_and_is_idempotent(api, platform):
    r = _upload(api, "org.csv", ORG_CSV.encode())
    assert r.status_code == 200, r.json
    rows = {row["row"]: row for row in r.json["rows"]}
    assert (r.json["created"], r.json["rejected"]) == (3, 5)
    assert rows[2]["result"] == "created" and rows[2]["code"] == "imp_op"  # after its department (row 3)
    assert rows[3]["result"] == rows[4]["result"] == "created"
    assert rows[5]["errors"] == [{"field": "roles", "message": rows[5]["errors"][0]["message"]}]
    assert {e["field"] for e in rows[6]["errors"]} == {"classification", "department"}
    assert rows[7]["errors"][0]["field"] == "code" and "row 3" in rows[7]["errors"][0]["message"]
    assert rows[8]["errors"][0]["field"] == "password"
    assert rows[9]["errors"][0]["field"] == "record"
    users = {u["username"]: u for u in api.get("/api/v1/org/users?department=imp-plant", "admin").json["items"]}
    assert list(users) == ["imp_op"] and users["imp_op"]["roles"] == ["team_leader", "worker"]
    assert "imp-odd" not in {a["code"] for a in api.get("/api/v1/org/areas", "admin").json["items"]}
    events = api.get("/api/v1/audit?page_size=500", "admin").json["total"]

    again = _upload(api, "org.csv", ORG_CSV.encode()).json
    assert (again["created"], again["updated"], again["unchanged"], again["rejected"]) == (0, 0, 3, 5)
    assert api.get("/api/v1/audit?page_size=500", "admin").json["total"] == events

    changed = ORG_CSV.replace("worker;team_leader,true", "worker,false")
    third = _upload(api, "org.csv", changed.encode()).json
    assert third["updated"] == 1 and {r["row"]: r for r in third["rows"]}[2]["changes"] == ["active", "roles"]
    assert api.client.post("/api/v1/auth/login", json={"username": "imp_op", "password": "imp-password-1"}
                           ).status_code == 401
    assert api.get("/api/v1/audit/verify", "admin").json["ok"] is True


def test_import_from_excel_and_its_limits(api, platform, monkeypatch):
    wb = Workbook()
    ws = wb.active
    ws.append(["record", "code", "name", "kind", "department", "classification"])
    ws.append(["department", "xl-dept", "表格部门", "maintenance", None, None])
    ws.append(["area", "xl-area", "表格区域", None, "xl-dept", "pipe_rack"])
    buf = io.BytesIO()
    wb.save(buf)
    r = _upload(api, "org.xlsx", buf.getvalue())
    assert r.status_code == 200 and r.json["created"] + r.json["unchanged"] == 2 and r.json["rejected"] == 0
    assert api.get("/api/v1/org/areas/xl-area", "admin").json["department"] == "xl-dept"

    assert _upload(api, "org.csv", ORG_CSV.encode(), user="safety1").status_code == 403
    r = _upload(api, "org.pdf", b"%PDF")
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "file"
    r = _upload(api, "org.csv", b"record,code,colour\ndepartment,d1,red\n")
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "colour"
    monkeypatch.setattr(platform.organisation, "max_import_new_users", 1)
    two_new = b"record,code,name,roles,password\nuser,xl_a,a,worker,xl-password\nuser,xl_b,b,worker,xl-password\n"
    r = _upload(api, "org.csv", two_new)
    assert r.status_code == 422 and "ANJIAN_ORG_IMPORT_MAX_NEW_USERS" in r.json["errors"][0]["message"]
    assert api.get("/api/v1/org/users/xl_a", "admin").status_code == 404
    monkeypatch.setattr(platform.organisation, "max_import_rows", 3)
    r = _upload(api, "org.csv", ORG_CSV.encode())
    assert r.status_code == 422 and "ANJIAN_ORG_IMPORT_MAX_ROWS" in r.json["errors"][0]["message"]
    monkeypatch.setattr(platform.organisation, "max_import_bytes", 100)
    r = _upload(api, "org.csv", ORG_CSV.encode())
    assert r.status_code == 422 and "ANJIAN_ORG_IMPORT_MAX_BYTES" in r.json["errors"][0]["message"]
    r = api.post("/api/v1/org/import", "admin", data={}, content_type="multipart/form-data")
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "file"


def test_the_last_active_admin_cannot_be_removed(api):
    admin = {"Authorization": f"Bearer {api.token('admin')}"}
    for change in ({"active": False}, {"roles": ["worker"]}):
        r = api.client.patch("/api/v1/org/users/admin", json=change, headers=admin)
        assert r.status_code == 409 and "last active admin" in r.json["detail"]
    assert api.get("/api/v1/org/users/admin", "admin").json == {
        "username": "admin", "display_name": "系统管理员", "department": None, "roles": ["admin"], "active": True}
    r = _upload(api, "org.csv", b"record,code,name,roles,active\nuser,admin,x,admin,false\n")
    assert r.status_code == 200 and r.json["rows"][0]["result"] == "rejected"
    assert api.get("/api/v1/me", "admin").status_code == 200


def test_cli_import_and_password_reset(cli, api, tmp_path):
    f = tmp_path / "org.csv"
    f.write_text("record,code,name,kind,department,classification,roles,password\n"
                 "department,cli-dept,命令行部门,maintenance,,,,\n"
                 "user,cli_fitter,钳工,,cli-dept,,maintenance,fitter-password\n"
                 "user,cli_bad,坏,,cli-dept,,plumber,fitter-password\n", encoding="utf-8")
    r = cli("org", "import", str(f), "--as", "cli:hr")
    assert r.exit_code == 1 and "rejected 1" in r.output and "roles" in r.output
    r = cli("org", "import", str(f), "--json")
    report = json.loads(r.output[:r.output.rindex("}") + 1])
    assert [row["result"] for row in report["rows"]] == ["unchanged", "unchanged", "rejected"]
    old = api.client.post("/api/v1/auth/login", json={"username": "cli_fitter", "password": "fitter-password"})
    assert old.status_code == 200
    r = cli("user", "reset-password", "cli_fitter", "--password", "new-fitter-password")
    assert r.exit_code == 0, r.output
    assert api.client.get("/api/v1/me", headers={"Authorization": f"Bearer {old.json['access_token']}"}
                          ).status_code == 401
    [reset] = _audit(api, "org_user_password_reset")
    assert reset["data"] == {"username": "cli_fitter"}
    assert {e["actor"] for e in _audit(api, "org_user_created")} == {"cli:hr"}
