"""The pictures as a person would check them: the fusion report's charts and the instance diagram (SVG parsed)."""
from datetime import datetime, timezone
from pathlib import Path

from fontTools.ttLib import TTFont
from lxml import etree, html
from matplotlib import font_manager

from engine.bpmn_builder import ProcessBuilder
from engine.hub.generate import generate
from engine.reports import charts
from engine.reports.fonts.make_font import gb2312
from tests.hub_support import hub_platform, load  # noqa: F401
from tests.processes import permit_files, suspendable_process

SVG = "{http://www.w3.org/2000/svg}"


def svg_shapes(svg_el) -> int:
    return sum(1 for el in svg_el.iter() if isinstance(el.tag, str) and el.tag.split("}")[-1] in
               ("path", "rect", "line", "polyline", "circle", "use"))


def test_fusion_report_html_has_charts_findings_and_json_twin(api, hub_platform):
    data = generate(seed=11, start=datetime(2026, 9, 1, tzinfo=timezone.utc), days=91, equipment=30, people=200,
                    work_records=3000, hazards=900, teams=20, areas=6, planted_load=("EQ-0007",), load_multiplier=5.0)
    load(hub_platform, data)
    r = api.get("/api/v1/reports/fusion?period=2026-11", "boss1")
    assert r.status_code == 200 and r.mimetype == "text/html"
    assert b"data-missing=\"equipment_load\"" in r.data                  # not run yet: said, not invented
    assert api.post("/api/v1/analytics/runs", "safety1", json={"period": "2026-11"}).status_code == 201
    r = api.get("/api/v1/reports/fusion?period=2026-11", "boss1")
    doc = html.fromstring(r.data)
    charts = {f.get("data-chart"): f for f in doc.xpath("//figure[@data-chart]")}
    assert {"trend", "load_bands", "flagged_equipment", "hotspots_team", "supervision", "permits"} <= set(charts)
    for name, fig in charts.items():
        svg = etree.fromstring(etree.tostring(fig[0]))                   # each chart is well-formed inline SVG
        assert svg.tag == f"{SVG}svg", name
        assert svg_shapes(svg) > 5, name
        assert any((t.text or "").strip() for t in svg.iter(f"{SVG}text")), name   # titles and ticks are text
        assert svg.get("viewbox"), name   # (the HTML parser lowercases it) scaled to a phone's width by CSS
    assert doc.xpath("//meta[@name='viewport']/@content") == ["width=device-width,initial-scale=1"]
    assert "figure.chart svg{max-width:100%;height:auto}" in doc.xpath("string(//style)")
    flagged_svg = etree.tostring(charts["flagged_equipment"][0]).decode()
    assert "EQ-0007" in flagged_svg
    assert "EQ-0007" in doc.xpath("string(//h2[starts-with(., '主要发现')]/following-sibling::table[1])")
    kpi = doc.xpath("string(//div[@data-kpi='hazards_found']/b)")
    j = api.get("/api/v1/reports/fusion?period=2026-11", "boss1", headers={"Accept": "application/json"}).json
    assert str(j["indicators"]["hazards_found"]) == kpi
    assert j["analyses"]["equipment_load"]["result"]["flagged"][0]["equipment"] == "EQ-0007"
    assert any(x["target"] == "EQ-0007" for x in j["recommendations"])
    assert api.get("/api/v1/reports/fusion?period=2026-11&format=json", "boss1").json["period"] == "2026-11"
    r = api.get("/api/v1/reports/fusion?period=11-2026", "boss1")
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "period"


def states(api, iid, user="admin") -> dict:
    r = api.get(f"/api/v1/process-instances/{iid}/diagram.svg", user)
    assert r.status_code == 200 and r.mimetype == "image/svg+xml", r.data[:300]
    svg = etree.fromstring(r.data)
    assert svg.tag == f"{SVG}svg"
    return {g.get("data-element-id"): g.get("data-state") for g in svg.iter(f"{SVG}g") if g.get("data-state")}, svg


def test_instance_diagram_colours_completed_active_suspended_and_error(api, hub_platform):
    assert api.deploy(permit_files()).status_code == 201
    iid = api.post("/api/v1/process-instances", "prod1", json={"process_key": "permit", "variables": {}}).json["id"]
    task = api.get(f"/api/v1/tasks?instance_id={iid}", "prod1").json["items"][0]
    api.post(f"/api/v1/tasks/{task['id']}/complete", "prod1", json={"data": {"content": "检修", "workers": 2}})
    st, svg = states(api, iid, "prod1")
    assert (st["start"], st["apply"], st["site_check"], st["review"]) == ("completed", "completed", "active", "none")
    fill = {g.get("data-element-id"): g[0].get("fill") for g in svg.iter(f"{SVG}g") if g.get("data-state")}
    assert fill["apply"] != fill["site_check"] != fill["review"]          # three different colours on screen
    names = "".join(svg.itertext())
    assert "现场确认" in names and "production" in names                 # task names and lanes are drawn
    lanes = [g for g in svg.iter(f"{SVG}g") if (g.get("class") or "") == "lane"]
    assert len(lanes) == 4
    assert len([p for p in svg.iter(f"{SVG}polyline")]) >= 7             # sequence flows with arrows

    assert api.deploy({"s.bpmn": suspendable_process()}).status_code == 201
    sid = api.post("/api/v1/process-instances", "prod1",
                   json={"process_key": "suspendable", "variables": {"area": "unit-1"}}).json["id"]
    api.post("/api/v1/messages", "safety1", json={"name": "stop_work", "correlation": {"area": "unit-1"}})
    handle = api.get(f"/api/v1/tasks?instance_id={sid}&state=ready", "safety1").json["items"][0]
    api.post(f"/api/v1/tasks/{handle['id']}/complete", "safety1", json={"data": {}})
    st, _ = states(api, sid)
    assert st["wait_restart"] == "suspended" and st["handle_stop"] == "completed" and st["work"] == "none"

    b = ProcessBuilder("broken", "脚本出错")
    b.lane("production")
    b.start(variables=["zero"]).user("fill", "填写", lane="production").script("calc", "计算", "ratio = 1 / zero").end()
    b.chain("start", "fill", "calc", "end")
    assert api.deploy({"broken.bpmn": b.to_xml()}).status_code == 201
    bid = api.post("/api/v1/process-instances", "prod1",
                   json={"process_key": "broken", "variables": {"zero": 0}}).json["id"]
    t = api.get(f"/api/v1/tasks?instance_id={bid}", "prod1").json["items"][0]
    api.post(f"/api/v1/tasks/{t['id']}/complete", "prod1", json={"data": {}})
    st, _ = states(api, bid)
    assert st["fill"] == "completed" and st["calc"] == "error"

    assert api.get("/api/v1/process-instances/999999/diagram.svg", "admin").status_code == 404
    assert api.get(f"/api/v1/process-instances/{iid}/diagram.svg", "prod2").status_code == 404   # other department


def test_chinese_in_a_chart_png_is_drawn_with_the_fonts_the_platform_ships(recwarn):
    """The PDF's charts are PNGs: matplotlib draws their Chinese (titles, area and department names) with
    the subset of Noto Sans CJK SC in engine/reports/fonts, found without any font of the machine."""
    png = charts.bar("t", "各区域隐患率\nHazards per 1,000 person-hours by area", ["合成装置区", "罐区（T-01）"],
                     {"隐患率 hazard rate": [1.0, 2.0]}, "起 / 千工时", horizontal=True, fmt="png",
                     reference=(1.5, "全厂平均 plant average"))
    missing = [str(w.message) for w in recwarn if "missing from font" in str(w.message)]
    assert png.startswith(b"\x89PNG") and not missing, missing
    found = font_manager.findfont(font_manager.FontProperties(family="Anjian Sans SC"), fallback_to_default=False)
    assert Path(found) == charts.CJK_FONT
    cmap = TTFont(charts.CJK_FONT)["cmap"].getBestCmap()
    assert all(ord(c) in cmap for c in gb2312())           # every character of GB 2312 (7,445) has a glyph
    assert charts.CJK_FONT.stat().st_size < 2_000_000 and charts.CJK_FONT.with_name("OFL.txt").is_file()
