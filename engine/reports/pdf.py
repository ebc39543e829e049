"""The fusion report as a PDF: the same data and charts as the HTML page, for printing and filing.

reportlab (pure-Python wheel, no system libraries) lays it out; the charts
are the report's matplotlib figures rendered to PNG. Chinese text uses
reportlab's built-in CID font ``STSong-Light`` (Adobe-GB1): nothing to ship or
install, every PDF viewer supplies the glyphs. (WeasyPrint would render the
HTML page itself but needs Pango and Cairo from the operating system, which a
machine with only Python does not have.)
"""
from __future__ import annotations

import io
from html import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Image, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from engine.analytics.analyses import ANALYSES
from engine.reports.fusion import (AREA_SECTION, KPI_NAMES, TITLES, _fmt, area_columns, area_rows, chart_images,
                                   kpi_text, no_pushes, sections)

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

_BASE = ParagraphStyle("body", fontName=FONT, fontSize=9.5, leading=13)
_CELL = ParagraphStyle("cell", parent=_BASE, fontSize=8, leading=10)
_NOTE = ParagraphStyle("note", parent=_BASE, fontSize=8, textColor=colors.HexColor("#666666"))
_H1 = ParagraphStyle("h1", parent=_BASE, fontSize=17, leading=22, spaceAfter=4)
_H2 = ParagraphStyle("h2", parent=_BASE, fontSize=12.5, leading=16, spaceBefore=10, spaceAfter=4,
                     textColor=colors.HexColor("#0b4fb3"))
_WIDTH = A4[0] - 36 * mm


def _p(text, style=_BASE) -> Paragraph:
    return Paragraph(escape(str(text)), style)


_VERDICT = ParagraphStyle("verdict", parent=_BASE, backColor=colors.HexColor("#f5f9ff"), borderPadding=4,
                          leftIndent=4, spaceBefore=4, spaceAfter=6)
_VERDICT_EN = ParagraphStyle("verdict_en", parent=_VERDICT, fontSize=8.5, textColor=colors.HexColor("#555555"))


def _table(rows: list[dict], cols: list[tuple[str, str]], widths: list[float] | None = None,
           flag: str | None = None) -> Table:
    head = [_p(label, _CELL) for _, label in cols]
    body = [[_p(_fmt(r.get(k)), _CELL) for k, _ in cols] for r in rows]
    t = Table([head] + body, colWidths=widths, repeatRows=1, hAlign="LEFT")
    style = [("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#bbbbbb")),
             ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f0f5ff")),
             ("VALIGN", (0, 0), (-1, -1), "TOP")]
    for i, r in enumerate(rows, start=1):
        if flag and r.get(flag):
            style.append(("BACKGROUND", (0, i), (-1, i), colors.HexColor("#fff1ec")))
    t.setStyle(TableStyle(style))
    return t


def _verdict(section: dict) -> list:
    """The analysis' verdict under its charts (nothing when it stated none)."""
    out = []
    if section.get("verdict"):
        out.append(_p(section["verdict"], _VERDICT))
    if section.get("verdict_en"):
        out.append(_p(section["verdict_en"], _VERDICT_EN))
    return out


def _chart(png: bytes) -> Image:
    img = Image(io.BytesIO(png))
    # 150-dpi pixels taken as points would be twice the drawn size: fit to 80 % of the text width
    scale = min(1.0, (_WIDTH * 0.8) / img.imageWidth)
    img.drawWidth, img.drawHeight = img.imageWidth * scale, img.imageHeight * scale
    return img


def to_pdf(data: dict) -> bytes:
    """The report built by :func:`engine.reports.fusion.build` as PDF bytes (A4, page numbers)."""
    pngs = chart_images(data, "png")
    period = data["period"]
    story: list = []

    by_key = {sec["key"]: sec for sec in data.get("sections") or sections(data)}

    def fig(name):
        if name in pngs:
            story.append(_chart(pngs[name]))

    def figs(key):
        for name in by_key[key]["charts"]:
            fig(name)
        story.extend(_verdict(by_key[key]))

    # No middle dot (U+00B7) in the PDF: viewers that stand in their own font for STSong-Light (poppler,
    # pdfium) draw it as a box.
    story += [_p(f"安全生产融合分析报告（{period}）", _H1),
              _p(f"Anjian fusion report {period}, generated {data['generated_at']}", _NOTE), Spacer(1, 4 * mm)]
    ind = data["indicators"]
    kpis = KPI_NAMES
    story += [_p("指标 Indicators", _H2),
              _table([{label: kpi_text(k, ind.get(k)) for k, label in kpis}], [(label, label) for _, label in kpis]),
              Spacer(1, 2 * mm),
              _p("预警 alerts: " + ", ".join(f"{g}: {n}" for g, n in ind["alerts"].items())),
              _p("趋势 Trends", _H2)]
    figs("trend")
    ah = data["area_hazards"]
    story.append(_p(TITLES[AREA_SECTION], _H2))
    if ah["source"] != "analysis":
        story.append(_p(f"本期尚未运行区域隐患分析：下表为本月各区域发现的隐患数，未按暴露折算、未检验"
                        f"（anjian analytics run --period {period}）。", _NOTE))
    figs(AREA_SECTION)
    if ah["rows"]:
        story.append(_table(area_rows(ah), area_columns(ah), flag="_flagged"))
    for name in ANALYSES:
        if name == AREA_SECTION:
            continue
        run = data["analyses"].get(name)
        story.append(_p(TITLES.get(name, name), _H2))
        if run is None:
            story.append(_p(f"本期尚未运行（anjian analytics run --period {period}）。", _NOTE))
            continue
        res = run["result"]
        story.append(_p(f"run #{run['run_id']}, input {run['input_digest'][:12]}, "
                        f"result {run['result_digest'][:12]}", _NOTE))
        if res.get("method"):
            story.append(_p(res["method"], _NOTE))
        figs(name)
        if name == "equipment_load":
            if res["flagged"]:
                story.append(_table(res["flagged"], [("equipment", "设备"), ("area", "区域"),
                                                     ("high_events", "高负荷事件"), ("high_hours", "高负荷小时"),
                                                     ("rate_ratio", "率比"), ("p_value", "p")]))
        elif name == "violation_hotspots":
            if res["hotspots"]:
                story.append(_table(res["hotspots"], [("dimension", "维度"), ("group", "对象"), ("violations", "违章"),
                                                      ("hours", "工时"), ("rate_per_1000h", "次/千工时"),
                                                      ("rate_ratio", "率比"), ("p_value", "p")]))
        elif name == "plant_load":
            story.append(_table(res.get("bands") or [], [("band", "负荷段"), ("exposure_hours", "运行小时"),
                                                          ("hazards", "隐患"), ("hazard_rate", "隐患/千小时"),
                                                          ("faults", "故障"), ("fault_rate", "故障/千小时")]))
        elif name == "contractor_hotspots":
            rows = [{**r, "_flagged": bool(r.get("flagged")), "flagged": "是" if r.get("flagged") else "否"}
                    for r in res.get("by_contractor") or []]
            if rows:
                story.append(_table(rows, [("contractor", "承包商"), ("name", "名称"), ("department", "管理部门"),
                                           ("violations", "违章"), ("exposure", "工时"), ("rate", "违章率"),
                                           ("rate_ratio", "率比"), ("p", "p"), ("flagged", "显著")], flag="_flagged"))
        elif name == "supervision":
            cur = res["period"]
            if not res.get("verdict"):
                story.append(_p(f"本期检查 {cur['inspections']} 次，发现问题 {cur['with_findings']} 次，精准度 "
                                f"{_fmt(cur['precision'])}；生产中断 {cur['stop_hours']} h，其中安全停工 "
                                f"{cur['safety_stop_hours']} h，干扰度 {_fmt(cur['interference'])}。"))
            story.append(_table(res["by_area"], [("area", "区域"), ("inspections", "检查"), ("precision", "精准度"),
                                                 ("stop_hours", "中断 h"), ("interference", "干扰度")]))
        elif name == "permits":
            rows = [{"group": r["group"], "count": r["count"], "dur": r["duration_h"]["median"],
                     "appr": r["approval_h"]["median"], "susp": r["suspensions"], "causes": r["causes"]}
                    for r in (res.get("by_kind_grade") or res["by_grade"]) + res["by_area"]]
            story.append(_table(rows, [("group", "类别/等级 或 区域"), ("count", "数量"), ("dur", "时长中位 h"),
                                       ("appr", "审批中位 h"), ("susp", "中止"), ("causes", "中止原因")],
                                [28 * mm, 16 * mm, 22 * mm, 22 * mm, 14 * mm, _WIDTH - 102 * mm]))
    for title, rows, cols, widths, empty in (
            ("主要发现 Top findings", data["findings"],
             [("analysis", "分析"), ("target", "对象"), ("area", "区域"), ("summary", "说明")],
             [32 * mm, 30 * mm, 22 * mm, _WIDTH - 84 * mm], "本期无显著发现。"),
            ("已推送建议 Recommendations pushed", data["recommendations"],
             [("kind", "类型"), ("target", "对象"), ("department", "部门"), ("text", "建议"),
              ("instance_id", "流程实例"), ("status", "状态")],
             [20 * mm, 22 * mm, 22 * mm, _WIDTH - 100 * mm, 18 * mm, 18 * mm], no_pushes(data)),
            ("监督重点 Focus items", data["focus_items"],
             [("target_kind", "类型"), ("target", "对象"), ("area", "区域"), ("reason", "原因"), ("status", "状态")],
             [20 * mm, 22 * mm, 22 * mm, _WIDTH - 82 * mm, 18 * mm], "无。")):
        block = [_p(title, _H2), _table(rows, cols, widths) if rows else _p(empty)]
        story.append(KeepTogether(block) if len(rows) < 8 else block[0])
        if len(rows) >= 8:
            story.append(block[1])

    def footer(canvas, doc):
        canvas.saveState()
        canvas.setFont(FONT, 7.5)
        canvas.drawString(18 * mm, 10 * mm, f"Anjian 融合分析报告 {period}")
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, f"{doc.page}")
        canvas.restoreState()

    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                            bottomMargin=18 * mm, title=f"融合分析报告 {period} (Anjian fusion report {period})",
                            author="Anjian", subject=f"fusion analytics {period}", creator="Anjian",
                            invariant=1)
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()
