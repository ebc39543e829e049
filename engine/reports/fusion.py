"""The fusion report of a period: indicators, trends, the four analyses with charts, findings and pushes.

``build(platform, period)`` returns the data (the JSON answer);
``to_html(data)`` renders the same data as one self-contained HTML page whose
charts are inline SVG (matplotlib). The analyses are the stored runs of the
period (``anjian analytics run --period``); a missing one is said so, not
recomputed behind the reader's back.
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from html import escape

from sqlalchemy import func, select

from engine.analytics.analyses import ANALYSES
from engine.errors import NotFound
from engine.hub.models import Alert, Hazard, Inspection, Violation, WorkRecord
from engine.periods import month, parse_period, shift_month
from engine.reports import charts

TITLES = {"equipment_load": "设备负荷与隐患/故障 (Equipment load vs faults & hazards)",
          "violation_hotspots": "违章热点 (Violation hotspots per worked hour)",
          "supervision": "监督精准度与干扰 (Supervision precision & interference)",
          "permits": "作业许可统计 (Permits by grade and area)",
          "area_hotspots": "隐患热点：区域与班次 (Hazards per worked hour by area and shift)",
          "plant_load": "全厂负荷与隐患 (Plant-wide load vs hazards, faults apart)",
          "contractor_hotspots": "承包商违章 (Violations per worked hour by contractor)"}


def _indicators(s, start, end) -> dict:
    def count(model, col, *conds):
        return s.scalar(select(func.count()).select_from(model).where(col >= start, col < end, *conds))

    due = s.execute(select(Hazard.deadline, Hazard.closed_at).where(Hazard.deadline >= start,
                                                                    Hazard.deadline < end)).all()
    on_time = sum(1 for d, c in due if c is not None and c <= d)
    hours = s.scalar(select(func.coalesce(func.sum(WorkRecord.hours), 0.0))
                     .where(WorkRecord.started_at >= start, WorkRecord.started_at < end)) or 0.0
    violations = count(Violation, Violation.at)
    alerts = Counter(dict(s.execute(select(Alert.grade, func.count()).where(Alert.raised_at >= start,
                                                                            Alert.raised_at < end)
                                    .group_by(Alert.grade)).all()))
    return {"hazards_found": count(Hazard, Hazard.found_at),
            "major_hazards_found": count(Hazard, Hazard.found_at, Hazard.level == "major"),
            "hazards_due": len(due), "hazards_closed_on_time": on_time,
            "on_time_rectification_rate": round(on_time / len(due), 4) if due else None,
            "inspections": count(Inspection, Inspection.at),
            "violations": violations, "worked_hours": round(float(hours), 1),
            "violations_per_1000h": round(1000 * violations / hours, 3) if hours else None,
            "permits": count(WorkRecord, WorkRecord.started_at, WorkRecord.source == "permit"),
            "alerts": {g: alerts.get(g, 0) for g in ("red", "orange", "yellow", "blue")}}


def build(platform, period_text: str) -> dict:
    """All figures of the report for a month, as JSON-ready data."""
    period = parse_period(period_text, allow_quarter=False)
    with platform.db.session(write=False) as s:
        indicators = _indicators(s, period.start, period.end)
        trend = []
        for k in range(-11, 1):
            mp = month(*shift_month(period.start.year, period.start.month, k))
            row = _indicators(s, mp.start, mp.end)
            trend.append({"period": mp.label, **{x: row[x] for x in ("hazards_found", "on_time_rectification_rate",
                                                                     "violations_per_1000h", "inspections")}})
    analyses = {}
    for name in ANALYSES:
        try:
            run = platform.analytics.latest(name, period.label)
            analyses[name] = {"run_id": run["id"], "run_at": run["started_at"], "params": run["params"],
                              "input_digest": run["input_digest"], "result_digest": run["result_digest"],
                              "result": run["result"]}
        except NotFound:
            analyses[name] = None
    findings = []
    load = (analyses.get("equipment_load") or {}).get("result") or {}
    for r in load.get("flagged", [])[:10]:
        findings.append({"analysis": "equipment_load", "target": r["equipment"], "area": r["area"],
                         "summary": f"high-load events {r['high_events']} in {r['high_hours']:.0f} h, "
                                    f"rate ratio {r['rate_ratio'] or '∞'}, p={r['p_value']:.2g}"})
    hot = (analyses.get("violation_hotspots") or {}).get("result") or {}
    for r in hot.get("hotspots", [])[:10]:
        findings.append({"analysis": "violation_hotspots", "target": f"{r['dimension']}:{r['group']}",
                         "area": r.get("top_area"),
                         "summary": f"{r['rate_per_1000h']:.2f} violations/1000 h ({r['violations']}), "
                                    f"ratio {r['rate_ratio'] or '∞'}, p={r['p_value']:.2g}"})
    data = {"period": period.label, "generated_at": datetime.now(timezone.utc).isoformat(),
            "indicators": indicators, "trend": trend, "analyses": analyses, "findings": findings,
            "recommendations": platform.analytics.recommendations(period=period.label, status=None),
            "focus_items": platform.analytics.focus_items(period=period.label, status=None)}
    data["charts"] = chart_names(data)  # each is GET /api/v1/reports/fusion/charts/<name>?period=
    return data


def chart_svgs(data: dict) -> dict[str, str]:
    """The charts of the report (name → inline SVG)."""
    return chart_images(data, "svg")


def chart_images(data: dict, fmt: str) -> dict:
    """The charts of the report (name → SVG text, or PNG bytes with ``fmt="png"``), in reading order."""
    return {name: draw(fmt) for name, draw in _chart_specs(data).items()}


def chart_names(data: dict) -> list[str]:
    """The names of the charts the report of ``data`` has, in reading order (nothing is drawn)."""
    return list(_chart_specs(data))


def chart_image(data: dict, name: str, fmt: str = "svg") -> str | bytes:
    """One chart of the report (SVG text, or PNG bytes with ``fmt="png"``); NotFound naming the charts
    the report has when it has no chart of that name (an analysis not run for the period draws none)."""
    specs = _chart_specs(data)
    if name not in specs:
        raise NotFound(f"the fusion report of {data['period']} has no chart '{name}' "
                       f"(charts: {', '.join(specs) or 'none'})")
    return specs[name](fmt)


def _chart_specs(data: dict) -> dict:
    """name → draw(fmt) for every chart the data has: which charts exist is known without drawing any
    (the web app asks for each chart as its own image; drawing one costs ~0.1 s of matplotlib).
    Each draw binds its inputs as default arguments: the branches below rebind ``res`` and ``rows``."""
    out = {}
    t = data["trend"]
    labels = [r["period"] for r in t]
    out["trend"] = lambda fmt: charts.lines(
        "trend", "Hazards found and on-time rectification (12 months)", labels,
        {"hazards found / 100": [r["hazards_found"] / 100 for r in t],
         "on-time rate": [r["on_time_rectification_rate"] for r in t]}, fmt=fmt)
    a = data["analyses"]
    if a.get("equipment_load"):
        res = a["equipment_load"]["result"]
        out["load_bands"] = lambda fmt, res=res: charts.bar(
            "load_bands", "Fleet: faults + hazards per 1000 running hours by load band", res["bands"],
            {"rate": [b["rate_per_1000h"] for b in res["fleet"]]}, "events / 1000 h", fmt=fmt)
        flagged = res["flagged"][:6]
        if flagged:
            out["flagged_equipment"] = lambda fmt, res=res, flagged=flagged: charts.bar(
                "flagged_equipment", "Flagged equipment: rate by load band", [f["equipment"] for f in flagged],
                {band: [f["bands"][i]["rate_per_1000h"] for f in flagged] for i, band in enumerate(res["bands"])},
                "events / 1000 h", fmt=fmt)
    if a.get("violation_hotspots"):
        res = a["violation_hotspots"]["result"]
        for dim, block in res["dimensions"].items():
            rows = block["ranking"][:10]
            if rows:
                out[f"hotspots_{dim}"] = lambda fmt, dim=dim, rows=rows: charts.bar(
                    f"hotspots_{dim}", f"Violations per 1000 worked hours by {dim}", [r["group"] for r in rows],
                    {"rate": [r["rate_per_1000h"] for r in rows]}, "violations / 1000 h", horizontal=True, fmt=fmt)
    if a.get("supervision"):
        months = a["supervision"]["result"]["months"]
        out["supervision"] = lambda fmt, months=months: charts.lines(
            "supervision", "Supervision precision and interference", [m["period"] for m in months],
            {"precision": [m["precision"] for m in months], "interference": [m["interference"] for m in months]},
            "share", fmt=fmt)
    if a.get("permits"):
        rows = a["permits"]["result"]["by_grade"]
        if rows:
            out["permits"] = lambda fmt, rows=rows: charts.bar(
                "permits", "Permits by grade: count and median approval hours", [r["group"] for r in rows],
                {"count": [r["count"] for r in rows],
                 "median approval h": [r["approval_h"]["median"] for r in rows]}, fmt=fmt)
    return out


def _table(rows: list[dict], cols: list[tuple[str, str]]) -> str:
    head = "".join(f"<th>{escape(label)}</th>" for _, label in cols)
    body = "".join("<tr>" + "".join(f"<td>{escape(_fmt(r.get(k)))}</td>" for k, _ in cols) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _fmt(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, dict):
        return ", ".join(f"{k}: {_fmt(x)}" for k, x in v.items())
    return str(v)


CSS = """body{font-family:sans-serif;margin:24px;color:#222;max-width:1100px}h1{font-size:22px}
h2{border-bottom:2px solid #1677ff;padding-bottom:4px;font-size:18px;margin-top:32px}
table{border-collapse:collapse;margin:8px 0;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px}
th{background:#f0f5ff}.kpis{display:flex;flex-wrap:wrap;gap:12px}.kpi{border:1px solid #d9d9d9;border-radius:6px;
padding:8px 14px;min-width:140px}.kpi b{display:block;font-size:20px}figure{margin:12px 0}.note{color:#666;font-size:12px}"""


def to_html(data: dict) -> str:
    """The report as one self-contained HTML page with inline SVG charts."""
    svgs = chart_svgs(data)
    ind = data["indicators"]
    kpi_names = [("hazards_found", "发现隐患"), ("major_hazards_found", "重大隐患"),
                 ("on_time_rectification_rate", "按期整改率"), ("inspections", "监督检查"),
                 ("violations", "违章"), ("violations_per_1000h", "违章/千工时"), ("permits", "作业许可")]
    kpis = "".join(f'<div class="kpi" data-kpi="{k}">{escape(label)}<b>{escape(_fmt(ind.get(k)))}</b></div>'
                   for k, label in kpi_names)
    alerts = ", ".join(f"{g}: {n}" for g, n in ind["alerts"].items())

    def fig(name):
        return f'<figure class="chart" data-chart="{name}">{svgs[name]}</figure>' if name in svgs else ""

    parts = [f"<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'><title>融合分析报告 {escape(data['period'])}"
             f"</title><style>{CSS}</style></head><body>",
             f"<h1>安全生产融合分析报告 · {escape(data['period'])}</h1>",
             f"<p class='note'>生成于 {escape(data['generated_at'])}；JSON: ?format=json</p>",
             f"<h2>指标 Indicators</h2><div class='kpis'>{kpis}</div><p>预警 alerts: {escape(alerts)}</p>",
             f"<h2>趋势 Trends</h2>{fig('trend')}"]
    for name in ANALYSES:
        run = data["analyses"].get(name)
        parts.append(f"<h2 id='{name}'>{escape(TITLES[name])}</h2>")
        if run is None:
            parts.append(f'<p class="note" data-missing="{name}">' f"本期尚未运行（`anjian analytics run --period "
                         f"{escape(data['period'])}`）。</p>")
            continue
        res = run["result"]
        parts.append(f"<p class='note'>run #{run['run_id']} · input {run['input_digest'][:12]} · "
                     f"result {run['result_digest'][:12]}</p>")
        if name == "equipment_load":
            parts.append(f"<p>{escape(res['method'])}</p>{fig('load_bands')}{fig('flagged_equipment')}")
            parts.append(_table(res["flagged"], [("equipment", "设备"), ("area", "区域"), ("high_events", "高负荷事件"),
                                                 ("high_hours", "高负荷小时"), ("rate_ratio", "率比"),
                                                 ("p_value", "p")]) if res["flagged"] else "<p>无显著设备。</p>")
        elif name == "violation_hotspots":
            parts.append(f"<p>{escape(res['method'])}</p>")
            for dim in res["dimensions"]:
                parts.append(fig(f"hotspots_{dim}"))
            parts.append(_table(res["hotspots"], [("dimension", "维度"), ("group", "对象"), ("violations", "违章"),
                                                  ("hours", "工时"), ("rate_per_1000h", "次/千工时"),
                                                  ("rate_ratio", "率比"), ("p_value", "p")])
                         if res["hotspots"] else "<p>无显著热点。</p>")
        elif name == "supervision":
            cur = res["period"]
            parts.append(f"<p>本期检查 {cur['inspections']} 次，发现问题 {cur['with_findings']} 次，精准度 "
                         f"{_fmt(cur['precision'])}；生产中断 {cur['stop_hours']} h，其中安全停工 "
                         f"{cur['safety_stop_hours']} h，干扰度 {_fmt(cur['interference'])}。趋势（每月）：精准度 "
                         f"{_fmt(res['trend']['precision_per_month'])}，干扰度 "
                         f"{_fmt(res['trend']['interference_per_month'])}。</p>{fig('supervision')}")
            parts.append(_table(res["by_area"], [("area", "区域"), ("inspections", "检查"), ("precision", "精准度"),
                                                 ("stop_hours", "中断 h"), ("interference", "干扰度")]))
        elif name == "permits":
            parts.append(fig("permits"))
            rows = [{"group": r["group"], "count": r["count"], "dur": r["duration_h"]["median"],
                     "appr": r["approval_h"]["median"], "susp": r["suspensions"], "causes": r["causes"]}
                    for r in res["by_grade"] + res["by_area"]]
            parts.append(_table(rows, [("group", "等级/区域"), ("count", "数量"), ("dur", "时长中位 h"),
                                       ("appr", "审批中位 h"), ("susp", "中止"), ("causes", "中止原因")]))
    parts.append("<h2>主要发现 Top findings</h2>")
    parts.append(_table(data["findings"], [("analysis", "分析"), ("target", "对象"), ("area", "区域"),
                                           ("summary", "说明")]) if data["findings"] else "<p>本期无显著发现。</p>")
    parts.append("<h2>已推送建议 Recommendations pushed</h2>")
    parts.append(_table(data["recommendations"], [("kind", "类型"), ("target", "对象"), ("department", "部门"),
                                                  ("text", "建议"), ("instance_id", "流程实例"), ("status", "状态")])
                 if data["recommendations"] else "<p>无。</p>")
    parts.append("<h2>监督重点 Focus items</h2>")
    parts.append(_table(data["focus_items"], [("target_kind", "类型"), ("target", "对象"), ("area", "区域"),
                                              ("reason", "原因"), ("status", "状态")])
                 if data["focus_items"] else "<p>无。</p>")
    parts.append("</body></html>")
    return "\n".join(parts)
