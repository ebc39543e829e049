"""The fusion report of a period: indicators, trends, hazards per area, the analyses with charts and
their verdicts, findings and pushes.

``build(platform, period)`` returns the data (the JSON answer);
``to_html(data)`` renders the same data as one self-contained HTML page whose
charts are inline SVG (matplotlib). The analyses are the stored runs of the
period (``anjian analytics run --period``); a missing one is said so, not
recomputed behind the reader's back.

What a safety manager reads (issue 15): each chart has one measure on its axis
(a count and a share, or a count and hours, are two charts or two panels);
groups an analysis flagged are red against a dashed plant-average line; under
each analysis its verdict, the sentence the analysis wrote with effect size
and p-value (``result["verdict"]``, ``verdict_en``), and nothing where a result
has none: the report does not write its own conclusions. ``data["sections"]``
lists the sections in reading order with their charts and verdicts, so the
workspace draws what the report has without knowing each analysis.
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from html import escape

from sqlalchemy import func, select

from engine.analytics.analyses import ANALYSES
from engine.errors import NotFound
from engine.hub.models import Alert, Hazard, Inspection, Violation, WorkRecord
from engine.models import Area
from engine.periods import month, parse_period, shift_month
from engine.permits import PERMIT_TYPES
from engine.reports import charts

# The per-area hazards lead the analyses: where the plant's problems are is the first question.
AREA_SECTION = "area_hotspots"

TITLES = {"equipment_load": "设备负荷与隐患/故障 (Equipment load vs faults & hazards)",
          "violation_hotspots": "违章热点 (Violation hotspots per worked hour)",
          "supervision": "监督精准度与干扰 (Supervision precision & interference)",
          "permits": "作业许可统计 (Permits by kind, grade and area)",
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
        org = {a.code: a for a in s.execute(select(Area.code, Area.name, Area.department))}
        area_names = {code: a.name for code, a in org.items()}
        area_departments = {code: a.department for code, a in org.items()}
        hub_areas = _hazards_by_area(s, period.start, period.end)
    analyses = {}
    for name in ANALYSES:
        try:
            run = platform.analytics.latest(name, period.label)
            analyses[name] = {"run_id": run["id"], "run_at": run["started_at"], "params": run["params"],
                              "input_digest": run["input_digest"], "result_digest": run["result_digest"],
                              "result": run["result"]}
        except NotFound:
            analyses[name] = None
    data = {"period": period.label, "generated_at": datetime.now(timezone.utc).isoformat(),
            "indicators": indicators, "trend": trend, "analyses": analyses, "areas": area_names,
            "area_hazards": area_hazards(analyses.get(AREA_SECTION), hub_areas, area_names, area_departments),
            "findings": _findings(analyses),
            "recommendations": platform.analytics.recommendations(period=period.label, status=None),
            "focus_items": platform.analytics.focus_items(period=period.label, status=None)}
    data["charts"] = chart_names(data)  # each is GET /api/v1/reports/fusion/charts/<name>?period=
    data["sections"] = sections(data)
    return data


def _hazards_by_area(s, start, end) -> list[dict]:
    rows = s.execute(select(Hazard.area, Hazard.department, func.count()).where(Hazard.found_at >= start,
                                                                                Hazard.found_at < end)
                     .group_by(Hazard.area, Hazard.department)).all()
    by: dict[str, dict] = {}
    for area, dept, n in rows:
        r = by.setdefault(area, {"area": area, "hazards": 0, "departments": Counter()})
        r["hazards"] += n
        if dept:
            r["departments"][dept] += n
    return [{"area": r["area"], "hazards": r["hazards"],
             "department": r["departments"].most_common(1)[0][0] if r["departments"] else None}
            for r in sorted(by.values(), key=lambda r: (-r["hazards"], r["area"]))]


def area_hazards(run: dict | None, hub_rows: list[dict], names: dict[str, str],
                 departments: dict[str, str | None] | None = None) -> dict:
    """The per-area hazard table: the ``area_hotspots`` run's rates and flags when it ran for the period,
    else the hub's plain hazard counts of the month per area (said to be untested, no verdict)."""
    res = (run or {}).get("result") or {}
    if run and res.get("by_area") is not None:
        rows = [{"area": r["area"], "name": names.get(r["area"]), "hazards": r.get("hazards"),
                 "exposure": r.get("exposure"), "rate": r.get("rate"), "rate_ratio": r.get("rate_ratio"),
                 "p": r.get("p"), "flagged": bool(r.get("flagged")),
                 # the owner the finding went to; for the other areas the organisation's owner
                 "department": r.get("department") or (departments or {}).get(r["area"])}
                for r in res["by_area"]]
        rows.sort(key=lambda r: (-(r["rate"] or 0), r["area"]))
        return {"source": "analysis", "run_id": run.get("run_id"), "rows": rows, "plant_rate": res.get("plant_rate"),
                "exposure_unit": res.get("exposure_unit"), "rate_unit": rate_unit(res, "hazards"),
                "window": res.get("window"),
                "verdict": res.get("verdict"), "verdict_en": res.get("verdict_en")}
    rows = [{**r, "name": names.get(r["area"]),
             "department": (departments or {}).get(r["area"]) or r.get("department"),
             "exposure": None, "rate": None, "rate_ratio": None, "p": None, "flagged": False} for r in hub_rows]
    mean = sum(r["hazards"] for r in rows) / len(rows) if rows else None
    return {"source": "hub", "run_id": None, "rows": rows, "plant_rate": mean, "exposure_unit": None,
            "rate_unit": None, "window": None, "verdict": None, "verdict_en": None}


def _findings(analyses: dict) -> list[dict]:
    """The flagged groups of every analysis, one line each with effect size and p."""
    findings = []
    load = (analyses.get("equipment_load") or {}).get("result") or {}
    for r in load.get("flagged", [])[:10]:
        findings.append({"analysis": "equipment_load", "target": r["equipment"], "area": r["area"],
                         "summary": f"high-load events {r['high_events']} in {r['high_hours']:.0f} h, "
                                    f"rate ratio {_ratio(r['rate_ratio'])}, p={r['p_value']:.2g}"})
    hot = (analyses.get("violation_hotspots") or {}).get("result") or {}
    for r in hot.get("hotspots", [])[:10]:
        findings.append({"analysis": "violation_hotspots", "target": f"{r['dimension']}:{r['group']}",
                         "area": r.get("top_area"),
                         "summary": f"{r['rate_per_1000h']:.2f} violations/1000 h ({r['violations']}), "
                                    f"ratio {_ratio(r['rate_ratio'])}, p={r['p_value']:.2g}"})
    areas = (analyses.get("area_hotspots") or {}).get("result") or {}
    for dim, key in (("by_area", "area"), ("by_shift", "shift")):
        for r in [x for x in areas.get(dim) or [] if x.get("flagged")][:10]:
            findings.append({"analysis": "area_hotspots", "target": f"{key}:{r[key]}",
                             "area": r[key] if key == "area" else None,
                             "summary": f"{_num(r.get('rate'))} hazards/1000 h ({r.get('hazards')}), "
                                        f"ratio {_ratio(r.get('rate_ratio'))}, p={_p(r.get('p'))}"})
    plant = (analyses.get("plant_load") or {}).get("result") or {}
    test = plant.get("hazard_test") or {}
    if test.get("flagged"):
        high = (plant.get("bands") or [{}])[-1].get("band")
        findings.append({"analysis": "plant_load", "target": f"load {high}", "area": None,
                         "summary": f"plant-wide hazard rate at high load {_ratio(test.get('rate_ratio'))}× the other "
                                    f"loads, p={_p(test.get('p'))}"})
    cont = (analyses.get("contractor_hotspots") or {}).get("result") or {}
    for r in [x for x in cont.get("by_contractor") or [] if x.get("flagged")][:10]:
        findings.append({"analysis": "contractor_hotspots", "target": f"contractor:{r['contractor']}",
                         "area": r.get("top_area"),
                         "summary": f"{_num(r.get('rate'))} violations/1000 h ({r.get('violations')}), "
                                    f"ratio {_ratio(r.get('rate_ratio'))}, p={_p(r.get('p'))}"})
    return findings


def _num(v) -> str:
    return "—" if v is None else f"{v:.2f}"


def _ratio(v) -> str:
    return "∞" if v is None else f"{v:.1f}"


def _p(v) -> str:
    return "—" if v is None else f"{v:.2g}"


def sections(data: dict) -> list[dict]:
    """The report's sections in reading order: ``{key, title, charts, verdict, verdict_en, run_id, missing}``.
    ``verdict`` is the analysis' own sentence (None when the result has none: nothing is made up here)."""
    names = set(data["charts"])
    out = [{"key": "trend", "title": "趋势 (Trends)", "charts": [c for c in ("trend", "trend_on_time") if c in names],
            "verdict": None, "verdict_en": None, "run_id": None, "missing": False}]
    ah = data["area_hazards"]
    out.append({"key": AREA_SECTION, "title": TITLES[AREA_SECTION],
                "charts": [c for c in ("area_hazards", "shift_hazards") if c in names],
                "verdict": ah["verdict"], "verdict_en": ah["verdict_en"], "run_id": ah["run_id"],
                "missing": ah["source"] != "analysis"})
    for name in ANALYSES:
        if name == AREA_SECTION:
            continue
        run = data["analyses"].get(name)
        res = (run or {}).get("result") or {}
        out.append({"key": name, "title": TITLES.get(name, name),
                    "charts": [c for c in data["charts"] if _chart_section(c) == name],
                    "verdict": res.get("verdict"), "verdict_en": res.get("verdict_en"),
                    "run_id": (run or {}).get("run_id"), "missing": run is None})
    return out


_CHART_SECTION = {"load_bands": "equipment_load", "flagged_equipment": "equipment_load",
                  "supervision": "supervision", "permits": "permits", "plant_load_hazards": "plant_load",
                  "plant_load_faults": "plant_load", "contractors": "contractor_hotspots"}


def _chart_section(name: str) -> str | None:
    return "violation_hotspots" if name.startswith("hotspots_") else _CHART_SECTION.get(name)


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
    Each draw binds its inputs as default arguments: the branches below rebind ``res`` and ``rows``.
    One measure per axis: a count and a share are two charts, a count and hours two panels."""
    out = {}
    names = {r["area"]: r.get("name") for r in (data.get("area_hazards") or {}).get("rows") or []}
    t = data["trend"]
    labels = [r["period"] for r in t]
    out["trend"] = lambda fmt: charts.lines(
        "trend", _t("每月发现的隐患（近 12 个月）", "Hazards found per month (12 months)"), labels,
        {"发现隐患 hazards found": [r["hazards_found"] for r in t]}, "隐患（起）hazards", fmt=fmt)
    out["trend_on_time"] = lambda fmt: charts.lines(
        "trend_on_time", _t("每月隐患按期整改率（当月到期的隐患）",
                            "On-time rectification rate per month (hazards due in the month)"), labels,
        {"按期整改率 on-time rate": [r["on_time_rectification_rate"] for r in t]}, "按期关闭 closed by the deadline",
        fmt=fmt,
        percent=True)
    ah = data.get("area_hazards") or {}
    rows = ah.get("rows") or []
    if rows:
        if ah.get("source") == "analysis":
            out["area_hazards"] = lambda fmt, rows=rows, ah=ah: charts.bar(
                "area_hazards", _t("各区域隐患率", _cap(ah["rate_unit"]) + " by area"),
                [_area_label(r) for r in rows], {"隐患率 hazard rate": [r["rate"] for r in rows]},
                ah["rate_unit"], horizontal=True, fmt=fmt,
                highlight=[r["flagged"] for r in rows], reference=(ah.get("plant_rate"), PLANT_AVERAGE))
        else:
            out["area_hazards"] = lambda fmt, rows=rows, ah=ah: charts.bar(
                "area_hazards", _t("本月各区域发现的隐患（计数；未做区域热点分析，未检验）",
                                   "Hazards found by area this month (counts; not tested: no area_hotspots run)"),
                [_area_label(r) for r in rows], {"隐患 hazards": [r["hazards"] for r in rows]}, "隐患（起）hazards",
                horizontal=True, fmt=fmt, reference=(ah.get("plant_rate"), "区域平均 mean per area"))
    a = data["analyses"]
    shifts = (((a.get(AREA_SECTION) or {}).get("result") or {}).get("by_shift")) or []
    if shifts:
        res = a[AREA_SECTION]["result"]
        out["shift_hazards"] = lambda fmt, shifts=shifts, res=res: charts.bar(
            "shift_hazards", _t("各班次隐患率（工厂时间）", _cap(rate_unit(res, "hazards")) + " by shift (plant time)"),
            [r["shift"] for r in shifts], {"隐患率 hazard rate": [r["rate"] for r in shifts]},
            rate_unit(res, "hazards"), fmt=fmt,
            highlight=[bool(r.get("flagged")) for r in shifts], reference=(res.get("plant_rate"), PLANT_AVERAGE))
    if a.get("equipment_load"):
        res = a["equipment_load"]["result"]
        out["load_bands"] = lambda fmt, res=res: charts.bar(
            "load_bands", _t("全部设备：各负荷段每千运行小时的故障与隐患",
                             "Fleet: faults + hazards per 1000 running hours by load band"), res["bands"],
            {"发生率 rate": [b["rate_per_1000h"] for b in res["fleet"]]}, "起 / 千小时 events / 1000 h", fmt=fmt)
        flagged = res["flagged"][:6]
        if flagged:
            out["flagged_equipment"] = lambda fmt, res=res, flagged=flagged: charts.bar(
                "flagged_equipment", _t("被标记的设备：各负荷段发生率", "Flagged equipment: rate by load band"),
                [f["equipment"] for f in flagged],
                {band: [f["bands"][i]["rate_per_1000h"] for f in flagged] for i, band in enumerate(res["bands"])},
                "起 / 千小时 events / 1000 h", fmt=fmt)
    if a.get("violation_hotspots"):
        res = a["violation_hotspots"]["result"]
        plant = (1000 * res["total_violations"] / res["total_hours"]) if res.get("total_hours") else None
        for dim, block in res["dimensions"].items():
            rows = block["ranking"][:10]
            if rows:
                out[f"hotspots_{dim}"] = lambda fmt, dim=dim, rows=rows, plant=plant, names=names: charts.bar(
                    f"hotspots_{dim}", _t(f"各{DIMENSION_NAMES.get(dim, dim)}每千工时违章（前 10）",
                                          f"Violations per 1000 worked hours by {dim} (top 10)"),
                    [_group_label(dim, r["group"], names) for r in rows],
                    {"违章率 rate": [r["rate_per_1000h"] for r in rows]}, "起 / 千工时 violations / 1000 h",
                    horizontal=True, fmt=fmt, highlight=[bool(r.get("hotspot")) for r in rows],
                    reference=(plant, PLANT_AVERAGE))
    if a.get("plant_load"):
        res = a["plant_load"]["result"]
        bands = res.get("bands") or []
        if bands:
            hz_flag = bool((res.get("hazard_test") or {}).get("flagged"))
            ft_flag = bool((res.get("fault_test") or {}).get("flagged"))

            def overall(key, bands=bands):
                hours = sum(b["exposure_hours"] or 0 for b in bands)
                return 1000 * sum(b[key] or 0 for b in bands) / hours if hours else None
            out["plant_load_hazards"] = lambda fmt, bands=bands, f=hz_flag, ref=overall("hazards"): charts.bar(
                "plant_load_hazards", _t("全厂：各负荷段每千运行小时的隐患",
                                         "Plant-wide hazards per 1000 running hours by load band"),
                [b["band"] for b in bands], {"隐患率 hazard rate": [b["hazard_rate"] for b in bands]},
                "起 / 千小时 hazards / 1000 h",
                fmt=fmt, highlight=[f and i == len(bands) - 1 for i in range(len(bands))],
                reference=(ref, "全部负荷 all loads"))
            out["plant_load_faults"] = lambda fmt, bands=bands, f=ft_flag, ref=overall("faults"): charts.bar(
                "plant_load_faults", _t("全厂：各负荷段每千运行小时的设备故障（与隐患分开）",
                                        "Equipment faults per 1000 running hours by load band (apart from hazards)"),
                [b["band"] for b in bands], {"故障率 fault rate": [b["fault_rate"] for b in bands]},
                "起 / 千小时 faults / 1000 h",
                fmt=fmt, highlight=[f and i == len(bands) - 1 for i in range(len(bands))],
                reference=(ref, "全部负荷 all loads"))
    if a.get("supervision"):
        months = a["supervision"]["result"]["months"]
        out["supervision"] = lambda fmt, months=months: charts.lines(
            "supervision", _t("监督精准度与干扰（均为比例）", "Supervision precision and interference (both shares)"),
            [m["period"] for m in months],
            {"精准度 precision": [m["precision"] for m in months],
             "干扰 interference": [m["interference"] for m in months]},
            "比例 share", fmt=fmt, percent=True)
    if a.get("contractor_hotspots"):
        res = a["contractor_hotspots"]["result"]
        rows = sorted(res.get("by_contractor") or [], key=lambda r: -(r.get("rate") or 0))[:12]
        if rows:
            out["contractors"] = lambda fmt, rows=rows, res=res: charts.bar(
                "contractors", _t("各承包商违章率", _cap(rate_unit(res, "violations")) + " by contractor"),
                [r["contractor"] for r in rows], {"违章率 rate": [r.get("rate") for r in rows]},
                rate_unit(res, "violations"), horizontal=True, fmt=fmt,
                highlight=[bool(r.get("flagged")) for r in rows], reference=(res.get("plant_rate"), PLANT_AVERAGE))
    if a.get("permits"):
        rows = sorted(_permit_groups(a["permits"]["result"]), key=lambda r: _permit_group_rank(r["group"]))
        if rows:
            out["permits"] = lambda fmt, rows=rows: charts.panels(
                "permits", _t("各类作业许可（按类别与级别）", "Permits by kind and grade"),
                [permit_group_label(r["group"]) for r in rows],
                [("开始作业 permits started", [r["count"] for r in rows], "件 permits"),
                 ("审批用时中位数 median approval time", [r["approval_h"]["median"] for r in rows], "小时 hours")], fmt=fmt)
    return out


def _permit_groups(res: dict) -> list[dict]:
    # Grades are the kind's own (hot work 一级, height Ⅰ, lifting 三级): grouped by grade alone they would
    # mix kinds, so the report groups by kind and grade (older runs have only by_grade).
    return res.get("by_kind_grade") or res.get("by_grade") or []


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def rate_unit(res: dict, noun: str) -> str:
    """What a group's rate is per, as the analysis says it (``rate_unit``: "hazards per 1,000 person-hours"),
    else built from its ``exposure_unit`` (an exposure in thousands: "1,000 person-hours")."""
    if res.get("rate_unit"):
        return res["rate_unit"]
    return f"{noun} per {res.get('exposure_unit') or 'unit of exposure'}"


def _area_label(r: dict) -> str:
    # the plant's name of the area (the charts carry their own CJK font: engine/reports/fonts); the code
    # when the area has no name
    return r.get("name") or r["area"]


# What a chart says in both languages, as the section titles do: the Chinese first, for the plant's
# readers, the English under it.
PLANT_AVERAGE = "全厂平均 plant average"
DIMENSION_NAMES = {"area": "区域", "team": "班组", "post": "岗位", "department": "部门", "contractor": "承包商",
                   "shift": "班次"}
# Permit kinds as the register names them, and as production systems feeding the hub spell them.
KIND_NAMES = {**{t.type: t.name for t in PERMIT_TYPES},
              "work_at_height": "高处", "temporary_power": "临时用电", "blind_plate": "盲板抽堵"}
GRADE_NAMES = {"special": "特级", "first": "一级", "second": "二级", "third": "三级",
               "I": "Ⅰ级", "II": "Ⅱ级", "III": "Ⅲ级", "IV": "Ⅳ级"}


def _t(zh: str, en: str) -> str:
    return f"{zh}\n{en}"


def permit_group_label(group: str) -> str:
    """``hot_work/first`` → 动火 一级; an ungraded kind (``confined_space/—``) is its name alone; what is not
    known is shown as it is."""
    kind, slash, grade = group.partition("/")
    if not slash:  # an older run grouped by grade alone
        return GRADE_NAMES.get(group) or KIND_NAMES.get(group, group)
    label = KIND_NAMES.get(kind, kind)
    if grade and grade != "—":
        label += " " + GRADE_NAMES.get(grade, grade)
    return label


def _permit_group_rank(group: str) -> tuple:
    # a kind's grades in their own order (特级, 一级, 二级; Ⅰ–Ⅳ级), not in the alphabetical order of their codes
    kind, _, grade = group.partition("/")
    order = list(GRADE_NAMES)
    return (kind, order.index(grade) if grade in order else len(order), grade)


def _group_label(dimension: str, group: str, area_names: dict) -> str:
    return (area_names.get(group) or group) if dimension == "area" else group


def _table(rows: list[dict], cols: list[tuple[str, str]], flag: str | None = None) -> str:
    head = "".join(f"<th>{escape(label)}</th>" for _, label in cols)

    def cell(v):
        return f"<td class='num'>{escape(_fmt(v))}</td>" if isinstance(v, (int, float)) and not isinstance(v, bool) \
            else f"<td>{escape(_fmt(v))}</td>"
    body = "".join(("<tr class='flagged'>" if flag and r.get(flag) else "<tr>")
                   + "".join(cell(r.get(k)) for k, _ in cols) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _fmt(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        if abs(v) >= 1000:
            return f"{v:,.0f}"        # 10,640 person-hours, not 1.064e+04
        if v != 0 and abs(v) < 0.001:
            return f"{v:.2g}"         # a p-value: 3e-37
        return f"{v:.4g}"
    if isinstance(v, dict):
        return ", ".join(f"{k}: {_fmt(x)}" for k, x in v.items())
    return str(v)


CSS = """body{font-family:sans-serif;margin:24px;color:#222;max-width:1100px}h1{font-size:22px}
h2{border-bottom:2px solid #1677ff;padding-bottom:4px;font-size:18px;margin-top:32px}
table{border-collapse:collapse;margin:8px 0;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px}
th{background:#f0f5ff}.kpis{display:flex;flex-wrap:wrap;gap:12px}.kpi{border:1px solid #d9d9d9;border-radius:6px;
padding:8px 14px;min-width:140px}.kpi b{display:block;font-size:20px}figure{margin:12px 0}.note{color:#666;font-size:12px}
.charts{display:flex;flex-wrap:wrap;gap:8px 24px;align-items:flex-start}.charts figure{margin:8px 0}
.verdict{border-left:4px solid #1677ff;background:#f5f9ff;padding:6px 12px;margin:8px 0}
.verdict .en{display:block;color:#555;font-size:13px}.verdict.flagged{border-color:#d4380d;background:#fff4f0}
tr.flagged td{background:#fff1ec;font-weight:600}td.num{text-align:right}
figure.chart{max-width:100%}figure.chart svg{max-width:100%;height:auto}
table{display:block;overflow-x:auto;max-width:100%}"""

KPI_NAMES = [("hazards_found", "发现隐患"), ("major_hazards_found", "重大隐患"),
             ("on_time_rectification_rate", "按期整改率"), ("inspections", "监督检查"),
             ("violations", "违章"), ("violations_per_1000h", "违章/千工时"), ("permits", "作业许可")]
AREA_COLUMNS = [("area", "区域"), ("name", "名称"), ("department", "主管部门"), ("hazards", "隐患"),
                ("exposure", "暴露（工时）"), ("rate", "隐患率"), ("rate_ratio", "率比"), ("p", "p"),
                ("flagged", "显著")]


def area_columns(ah: dict) -> list[tuple[str, str]]:
    """The per-area table's columns: rates, ratio, p and the flag only when an analysis computed them."""
    if ah.get("source") == "analysis":
        unit = ah.get("rate_unit") or ""
        per = "（起/千工时）" if "1,000 person-hours" in unit else (f"（{unit}）" if unit else "")
        return [(k, label + per if k == "rate" else label) for k, label in AREA_COLUMNS]
    return [c for c in AREA_COLUMNS if c[0] in ("area", "name", "department", "hazards")]


def no_pushes(data: dict) -> str:
    """What the empty recommendations section says: with findings, that they were not pushed (not that
    nothing was found)."""
    if data["findings"]:
        return ("无：本期的发现未推送（分析运行时未选择推送，例如演示数据；`anjian analytics run --period "
                f"{data['period']}` 会推送）。")
    return "无。"


def kpi_text(key: str, value) -> str:
    """An indicator as people read it (the on-time rate as a percentage)."""
    if key == "on_time_rectification_rate" and value is not None:
        return f"{100 * value:.1f}%"
    return _fmt(value)


def verdict_html(section: dict) -> str:
    """The analysis' verdict under its charts, Chinese then English; nothing when it stated none."""
    if not section.get("verdict") and not section.get("verdict_en"):
        return ""
    flagged = "显著偏高" in (section.get("verdict") or "") or "significantly higher" in (section.get("verdict_en") or "")
    en = f"<span class='en'>{escape(section['verdict_en'])}</span>" if section.get("verdict_en") else ""
    return (f"<p class='verdict{' flagged' if flagged else ''}' data-verdict='{escape(section['key'])}'>"
            f"{escape(section.get('verdict') or '')}{en}</p>")


def area_rows(ah: dict) -> list[dict]:
    """The per-area table's rows, formatted (exposure in the analysis' unit, the flag as a word)."""
    out = []
    for r in ah.get("rows") or []:
        out.append({**r, "flagged": "是 ▲" if r.get("flagged") else ("—" if ah.get("source") != "analysis" else "否"),
                    "exposure": r.get("exposure"), "_flagged": bool(r.get("flagged"))})
    return out


def to_html(data: dict) -> str:
    """The report as one self-contained HTML page with inline SVG charts."""
    svgs = chart_svgs(data)
    ind = data["indicators"]
    kpis = "".join(f'<div class="kpi" data-kpi="{k}">{escape(label)}<b>{escape(kpi_text(k, ind.get(k)))}</b></div>'
                   for k, label in KPI_NAMES)
    alerts = ", ".join(f"{g}: {n}" for g, n in ind["alerts"].items())
    by_key = {sec["key"]: sec for sec in data.get("sections") or sections(data)}

    def fig(name):
        return f'<figure class="chart" data-chart="{name}">{svgs[name]}</figure>' if name in svgs else ""

    def figs(key):
        return "<div class='charts'>" + "".join(fig(c) for c in by_key[key]["charts"]) + "</div>"

    parts = [f"<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>"
             "<meta name='viewport' content='width=device-width,initial-scale=1'>"
             f"<title>融合分析报告 {escape(data['period'])}"
             f"</title><style>{CSS}</style></head><body>",
             f"<h1>安全生产融合分析报告 · {escape(data['period'])}</h1>",
             f"<p class='note'>生成于 {escape(data['generated_at'])}；JSON: ?format=json</p>",
             f"<h2>指标 Indicators</h2><div class='kpis'>{kpis}</div><p>预警 alerts: {escape(alerts)}</p>",
             f"<h2>趋势 Trends</h2>{figs('trend')}"]
    ah = data["area_hazards"]
    parts.append(f"<h2 id='{AREA_SECTION}'>{escape(TITLES[AREA_SECTION])}</h2>")
    if ah["source"] == "analysis":
        res = (data["analyses"].get(AREA_SECTION) or {}).get("result") or {}
        parts.append(f"<p class='note'>run #{ah['run_id']} · {escape(res.get('method') or '')}</p>")
    else:
        parts.append(f'<p class="note" data-missing="{AREA_SECTION}">本期尚未运行区域隐患分析：下表为本月各区域发现的'
                     f"隐患数，未按暴露折算、未检验（`anjian analytics run --period {escape(data['period'])}`）。</p>")
    parts.append(figs(AREA_SECTION) + verdict_html(by_key[AREA_SECTION]))
    parts.append(_table(area_rows(ah), area_columns(ah), flag="_flagged") if ah["rows"] else "<p>本月无隐患记录。</p>")
    shifts = ((data["analyses"].get(AREA_SECTION) or {}).get("result") or {}).get("by_shift") or []
    if shifts:
        parts.append(_table([{**r, "_flagged": bool(r.get("flagged")), "flagged": "是 ▲" if r.get("flagged") else "否"}
                             for r in shifts],
                            [("shift", "班次"), ("hazards", "隐患"), ("exposure", "暴露（工时）"), ("rate", "隐患率"),
                             ("rate_ratio", "率比"), ("p", "p"), ("flagged", "显著")], flag="_flagged"))
    for name in ANALYSES:
        if name == AREA_SECTION:
            continue
        run = data["analyses"].get(name)
        parts.append(f"<h2 id='{name}'>{escape(TITLES.get(name, name))}</h2>")
        if run is None:
            parts.append(f'<p class="note" data-missing="{name}">' f"本期尚未运行（`anjian analytics run --period "
                         f"{escape(data['period'])}`）。</p>")
            continue
        res = run["result"]
        method = f" · {escape(res['method'])}" if res.get("method") else ""
        parts.append(f"<p class='note'>run #{run['run_id']} · input {run['input_digest'][:12]} · "
                     f"result {run['result_digest'][:12]}{method}</p>")
        parts.append(figs(name) + verdict_html(by_key[name]))
        if name == "equipment_load":
            parts.append(_table(res["flagged"], [("equipment", "设备"), ("area", "区域"), ("high_events", "高负荷事件"),
                                                 ("high_hours", "高负荷小时"), ("rate_ratio", "率比"),
                                                 ("p_value", "p")]) if res["flagged"] else "")
        elif name == "violation_hotspots":
            parts.append(_table(res["hotspots"], [("dimension", "维度"), ("group", "对象"), ("violations", "违章"),
                                                  ("hours", "工时"), ("rate_per_1000h", "次/千工时"),
                                                  ("rate_ratio", "率比"), ("p_value", "p")])
                         if res["hotspots"] else "")
        elif name == "plant_load":
            parts.append(_table(res.get("bands") or [], [("band", "负荷段"), ("exposure_hours", "运行小时"),
                                                          ("hazards", "隐患"), ("hazard_rate", "隐患/千小时"),
                                                          ("faults", "故障"), ("fault_rate", "故障/千小时")]))
        elif name == "contractor_hotspots":
            rows = [{**r, "_flagged": bool(r.get("flagged")), "flagged": "是 ▲" if r.get("flagged") else "否"}
                    for r in res.get("by_contractor") or []]
            parts.append(_table(rows, [("contractor", "承包商"), ("name", "名称"), ("department", "管理部门"),
                                       ("violations", "违章"), ("exposure", "工时"), ("rate", "违章率"),
                                       ("rate_ratio", "率比"), ("p", "p"), ("flagged", "显著")], flag="_flagged")
                         if rows else "")
        elif name == "supervision":
            cur = res["period"]
            if not res.get("verdict"):
                parts.append(f"<p>本期检查 {cur['inspections']} 次，发现问题 {cur['with_findings']} 次，精准度 "
                             f"{_fmt(cur['precision'])}；生产中断 {cur['stop_hours']} h，其中安全停工 "
                             f"{cur['safety_stop_hours']} h，干扰度 {_fmt(cur['interference'])}。</p>")
            parts.append(_table(res["by_area"], [("area", "区域"), ("inspections", "检查"), ("precision", "精准度"),
                                                 ("stop_hours", "中断 h"), ("interference", "干扰度")]))
        elif name == "permits":
            rows = [{"group": r["group"], "count": r["count"], "dur": r["duration_h"]["median"],
                     "appr": r["approval_h"]["median"], "susp": r["suspensions"], "causes": r["causes"]}
                    for r in _permit_groups(res) + res["by_area"]]
            parts.append(_table(rows, [("group", "类别/等级 或 区域"), ("count", "数量"), ("dur", "时长中位 h"),
                                       ("appr", "审批中位 h"), ("susp", "中止"), ("causes", "中止原因")]))
    parts.append("<h2>主要发现 Top findings</h2>")
    parts.append(_table(data["findings"], [("analysis", "分析"), ("target", "对象"), ("area", "区域"),
                                           ("summary", "说明")]) if data["findings"] else "<p>本期无显著发现。</p>")
    parts.append("<h2>已推送建议 Recommendations pushed</h2>")
    parts.append(_table(data["recommendations"], [("kind", "类型"), ("target", "对象"), ("department", "部门"),
                                                  ("text", "建议"), ("instance_id", "流程实例"), ("status", "状态")])
                 if data["recommendations"] else f"<p>{escape(no_pushes(data))}</p>")
    parts.append("<h2>监督重点 Focus items</h2>")
    parts.append(_table(data["focus_items"], [("target_kind", "类型"), ("target", "对象"), ("area", "区域"),
                                              ("reason", "原因"), ("status", "状态")])
                 if data["focus_items"] else "<p>无。</p>")
    parts.append("</body></html>")
    return "\n".join(parts)
