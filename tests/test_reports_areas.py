"""The report a safety manager acts on (issue 15): hazards per area with the flagged area red against the
plant average, one measure per chart axis, and each analysis' own verdict under its charts (none invented)."""
from datetime import datetime, timezone

from lxml import html

from engine.hub.generate import generate
from engine.reports import fusion
from tests.hub_support import hub_platform, load  # noqa: F401

SMALL = dict(start=datetime(2026, 9, 1, tzinfo=timezone.utc), days=91, equipment=12, people=80, work_records=900,
             hazards=300, teams=6, areas=5)
AREA_RUN = {"run_id": 99, "run_at": "2026-12-01T02:00:00+00:00", "params": {}, "input_digest": "0" * 64,
            "result_digest": "1" * 64, "result": {
                "method": "hazards per 1,000 worked person-hours", "exposure_unit": "1,000 person-hours",
                "plant_rate": 20.0, "hazards": 700, "exposure": 35000.0,
                "by_area": [{"area": "unit-1", "hazards": 400, "exposure": 10000.0, "rate": 40.0, "rate_ratio": 2.9,
                             "p": 3e-37, "flagged": True, "department": "workshop-1"},
                            {"area": "warehouse", "hazards": 300, "exposure": 25000.0, "rate": 12.0, "rate_ratio": 0.34,
                             "p": 1.0, "flagged": False}],
                "by_shift": [],
                "verdict": "区域 unit-1 隐患率为其余区域的 2.9 倍 (p=3e-37)，显著偏高",
                "verdict_en": "area unit-1: hazard rate 2.9× the other areas (p=3e-37), significantly higher"}}


def _report(platform, **changes) -> dict:
    data = fusion.build(platform, "2026-11")
    data.update(changes)
    data["charts"] = fusion.chart_names(data)
    data["sections"] = fusion.sections(data)
    return data


def test_without_an_area_run_the_report_shows_hazard_counts_per_area_said_untested(api, hub_platform):
    load(hub_platform, generate(seed=3, **SMALL))
    j = api.get("/api/v1/reports/fusion?period=2026-11&format=json", "boss1").json
    ah = j["area_hazards"]
    assert ah["source"] == "hub" and ah["verdict"] is None
    assert sum(r["hazards"] for r in ah["rows"]) == j["indicators"]["hazards_found"]
    assert [r["hazards"] for r in ah["rows"]] == sorted((r["hazards"] for r in ah["rows"]), reverse=True)
    assert "area_hazards" in j["charts"]
    assert [s["key"] for s in j["sections"]][:2] == ["trend", "area_hotspots"]
    doc = html.fromstring(api.get("/api/v1/reports/fusion?period=2026-11", "boss1").data)
    note = doc.xpath("string(//p[@data-missing='area_hotspots'])")
    assert "未按暴露折算、未检验" in note
    head = doc.xpath("//h2[@id='area_hotspots']/following::table[1]//th/text()")
    assert head == ["区域", "名称", "主管部门", "隐患"]                   # no empty rate/p columns
    assert not doc.xpath("//p[@data-verdict]")                           # nothing concluded for the reader


def test_flagged_area_is_red_against_the_plant_average_with_its_verdict(hub_platform):
    load(hub_platform, generate(seed=3, **SMALL))
    hub_platform.users.ensure_area("unit-1", "合成装置区", "workshop-1", "fire_explosion")
    analyses = dict(fusion.build(hub_platform, "2026-11")["analyses"], area_hotspots=AREA_RUN)
    ah = fusion.area_hazards(AREA_RUN, [], {"unit-1": "合成装置区"}, {"warehouse": "maintenance"})
    assert [(r["area"], r["name"], r["department"], r["flagged"]) for r in ah["rows"]] == [
        ("unit-1", "合成装置区", "workshop-1", True), ("warehouse", None, "maintenance", False)]
    data = _report(hub_platform, analyses=analyses, area_hazards=ah)
    svg = fusion.chart_image(data, "area_hazards")
    assert svg.count(fusion.charts.FLAG.lower()) + svg.count(fusion.charts.FLAG.upper()) >= 1   # the red bar
    assert "plant average" in svg and "flagged (significant)" in svg and "stroke-dasharray" in svg
    # the plant's name of the area on its bar (the code when it has none), the title in Chinese first
    assert ">合成装置区<" in svg and ">warehouse<" in svg and ">unit-1<" not in svg
    assert "各区域隐患率" in svg and "全厂平均" in svg and "显著偏高" in svg
    doc = html.fromstring(fusion.to_html(data))
    verdict = doc.xpath("//p[@data-verdict='area_hotspots']")[0]
    assert "unit-1 隐患率为其余区域的 2.9 倍 (p=3e-37)" in verdict.text_content()
    assert "significantly higher" in verdict.text_content() and "flagged" in verdict.get("class")
    # the verdict comes after the area chart, before the table
    order = [el.get("data-chart") or el.get("data-verdict") or el.tag for el in
             doc.xpath("//h2[@id='area_hotspots']/following-sibling::*[position() < 5]//*[@data-chart] | "
                       "//h2[@id='area_hotspots']/following-sibling::*[position() < 5][@data-verdict]")]
    assert order.index("area_hazards") < order.index("area_hotspots")
    row = doc.xpath("//tr[@class='flagged']")[0].xpath("string(.)")
    assert "unit-1" in row and "10,000" in row and "3e-37" in row      # numbers as people read them
    # the PDF says the same: the area table and the verdict under the chart
    import io

    from pypdf import PdfReader

    from engine.reports.pdf import to_pdf

    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(to_pdf(data))).pages)
    assert "隐患热点" in text and "合成装置区" in text and "10,000" in text
    assert "2.9 倍 (p=3e-37)" in text


def test_one_measure_per_axis_and_verdicts_only_where_the_analysis_wrote_one(api, hub_platform):
    load(hub_platform, generate(seed=3, **SMALL))
    assert api.post("/api/v1/analytics/runs", "safety1", json={"period": "2026-11"}).status_code == 201
    data = _report(hub_platform)
    trend = fusion.chart_image(data, "trend")
    on_time = fusion.chart_image(data, "trend_on_time")
    assert "Hazards found per month" in trend and "on-time" not in trend  # a count and a share: two charts
    assert "%" in on_time
    permits = fusion.chart_image(data, "permits")
    assert "permits started" in permits and "median approval time" in permits
    # the groups by the register's names and the kind's own grades, not the codes of the hub
    groups = {r["group"] for r in data["analyses"]["permits"]["result"]["by_kind_grade"]}
    assert "hot_work/first" in groups and "confined_space/—" in groups
    assert ">动火 一级<" in permits and ">受限空间<" in permits and "hot_work" not in permits
    assert "每月发现的隐患" in trend and "每月隐患按期整改率" in on_time
    assert permits.count('id="axes_') >= 2                                  # two panels, each its own axis
    # equipment_load states no verdict in this version: the report writes none in its place
    res = data["analyses"]["equipment_load"]["result"]
    doc = html.fromstring(fusion.to_html(data))
    if not res.get("verdict"):
        assert not doc.xpath("//p[@data-verdict='equipment_load']")
        assert "无显著设备" not in fusion.to_html(data)
    res["verdict"], res["verdict_en"] = "设备 X 高负荷下故障与隐患率为其他负荷的 3.0 倍 (p=1e-5)，显著偏高", "equipment X …"
    data["sections"] = fusion.sections(data)
    doc = html.fromstring(fusion.to_html(data))
    assert "3.0 倍 (p=1e-5)" in doc.xpath("string(//p[@data-verdict='equipment_load'])")
