"""What the web app's admin and leadership views read: the organisation's codes, users paged and searched,
and each fusion-report chart as its own SVG image."""
from datetime import datetime, timezone

from lxml import etree

from engine.hub.generate import generate
from engine.roles import ROLES
from tests.hub_support import hub_platform, load  # noqa: F401

SVG = "{http://www.w3.org/2000/svg}"


def test_vocabulary_lists_what_the_forms_accept_and_only_admins_read_it(api):
    r = api.get("/api/v1/org/vocabulary", "admin")
    assert r.status_code == 200, r.json
    assert [x["code"] for x in r.json["roles"]] == list(ROLES)
    assert {"code": "plant_leader", "name": "厂领导"} in r.json["roles"]
    assert "production" in r.json["department_kinds"] and "pipe_rack" in r.json["area_classifications"]
    # every code listed is one the create endpoints accept
    d = api.post("/api/v1/org/departments", "admin", json={"code": "voc-d", "name": "词表部",
                                                           "kind": r.json["department_kinds"][-1]})
    assert d.status_code == 201, d.json
    a = api.post("/api/v1/org/areas", "admin", json={"code": "voc-a", "name": "词表区", "department": "voc-d",
                                                     "classification": r.json["area_classifications"][0]})
    assert a.status_code == 201, a.json
    assert api.get("/api/v1/org/vocabulary", "worker1").status_code == 403


def test_users_are_paged_searched_and_filtered_by_role(api):
    for i in range(3):
        r = api.post("/api/v1/org/users", "admin", json={"username": f"pager_{i}", "password": "pager-password",
                                                         "roles": ["maintenance"], "display_name": f"翻页员 {i}"})
        assert r.status_code == 201, r.json
    page = api.get("/api/v1/org/users?page_size=2&q=pager", "admin").json
    assert (page["total"], page["page"], page["page_size"]) == (3, 1, 2)
    assert [u["username"] for u in page["items"]] == ["pager_0", "pager_1"]
    assert [u["username"] for u in api.get("/api/v1/org/users?page_size=2&page=2&q=pager", "admin").json["items"]] \
        == ["pager_2"]
    assert api.get("/api/v1/org/users?q=翻页员 1", "admin").json["total"] == 1          # display name, Chinese
    assert api.get("/api/v1/org/users?q=PAGER_", "admin").json["total"] == 3            # case-insensitive
    assert api.get("/api/v1/org/users?q=%25", "admin").json["total"] == 0               # % is literal
    maint = api.get("/api/v1/org/users?role=maintenance", "admin").json
    assert {"pager_0", "pager_1", "pager_2", "maint1"} <= {u["username"] for u in maint["items"]}
    assert all("maintenance" in u["roles"] for u in maint["items"]) and maint["total"] == len(maint["items"])
    r = api.get("/api/v1/org/users?role=boss", "admin")
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "role"
    r = api.get("/api/v1/org/users?page_size=501", "admin")
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "page_size"


def test_each_fusion_chart_is_an_svg_image_named_by_the_json_report(api, hub_platform):
    data = generate(seed=5, start=datetime(2026, 10, 1, tzinfo=timezone.utc), days=61, equipment=12, people=60,
                    work_records=800, hazards=200, teams=6, areas=6, planted_load=("EQ-0003",), load_multiplier=5.0)
    load(hub_platform, data)
    before = api.get("/api/v1/reports/fusion?period=2026-11&format=json", "boss1").json
    # analyses not run: the two trends and the hub's hazard counts per area only
    assert before["charts"] == ["trend", "trend_on_time", "area_hazards"]
    r = api.get("/api/v1/reports/fusion/charts/permits?period=2026-11", "boss1")
    assert r.status_code == 404 and "charts: trend, trend_on_time, area_hazards" in r.json["detail"]
    assert api.post("/api/v1/analytics/runs", "safety1", json={"period": "2026-11"}).status_code == 201
    names = api.get("/api/v1/reports/fusion?period=2026-11&format=json", "boss1").json["charts"]
    assert {"trend", "load_bands", "supervision", "permits"} <= set(names)
    for name in names:
        r = api.get(f"/api/v1/reports/fusion/charts/{name}?period=2026-11", "boss1")
        assert r.status_code == 200 and r.mimetype == "image/svg+xml", (name, r.data[:200])
        svg = etree.fromstring(r.data)
        assert svg.tag == f"{SVG}svg" and svg.get("data-chart") == name
        assert not list(svg.iter(f"{SVG}script")) and b"href=\"http" not in r.data   # an image that loads nothing
    r = api.get("/api/v1/reports/fusion/charts/trend?period=2026-13", "boss1")
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "period"
