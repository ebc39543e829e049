"""The four fusion analyses. Each reads the hub for a period and returns a result and what to push.

Every function is deterministic in the stored data and its parameters: the
same records give the same result (the stored run keeps a digest of both).

1. ``equipment_load`` — per equipment, fault + hazard rate per running hour by
   load band; flags equipment whose rate in the high band is significantly
   higher than in its other bands: exact one-sided conditional Poisson test,
   Holm-corrected over the fleet at ``alpha`` (default 0.01), and at least
   ``min_events`` (5) events in the high band and a rate ratio ≥
   ``min_rate_ratio`` (1.5). Window: ``window_months`` (12) ending with the period —
   faults and hazards are rare (a few per machine per quarter), so a quarter
   holds too few events to find even a threefold high-load excess among 200
   machines (README, "detection limit").
2. ``violation_hotspots`` — violations per 1,000 worked person-hours per post,
   team and area (hours from work records); a group is a hotspot when its rate
   is significantly higher than the rest of its dimension (same test, Holm per
   dimension, same minimums). Window: ``window_months`` (3).
3. ``supervision`` — share of inspections that found something (precision),
   share of production-interruption hours caused by safety stops
   (interference), per month over the 12 months ending with the period, with
   least-squares trends, and per area for the period.
4. ``permits`` — permits (work records with source ``permit``) started in the
   period: counts, durations, approval times, suspensions and their causes by
   grade and by area.
"""
from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import and_, case, func, select, text
from sqlalchemy.orm import aliased

from engine.analytics.stats import finite, holm, poisson_rate_test, quantile, slope
from engine.hub.models import Equipment, EquipmentRun, Hazard, Inspection, ProductionStop, Violation, WorkRecord
from engine.periods import Period, month, shift_month, window

DEFAULTS = {
    "equipment_load": {"bands": [60.0, 85.0], "alpha": 0.01, "min_events": 5, "min_rate_ratio": 1.5,
                       "window_months": 12},
    "violation_hotspots": {"alpha": 0.01, "min_events": 5, "min_rate_ratio": 1.5, "window_months": 3,
                           "dimensions": ["post", "team", "area"], "top": 10},
    "supervision": {"trend_months": 12},
    "permits": {},
}
ANALYSES = tuple(DEFAULTS)


@dataclass
class Outcome:
    """Result of one analysis, the rows it read (for the input digest) and what to push."""

    result: dict
    inputs: list = field(default_factory=list)
    focus_items: list[dict] = field(default_factory=list)
    recommendations: list[dict] = field(default_factory=list)


def _band_names(edges: list[float]) -> list[str]:
    names, lo = [], 0.0
    for edge in edges:
        names.append(f"{lo:g}-{edge:g}%")
        lo = edge
    names.append(f"≥{lo:g}%")
    return names


# --------------------------------------------------------------------------- 1. load vs hazards/faults

def _band_case(col, edges: list[float]):
    """SQL: the load band index of ``col`` (0 below the first edge … len(edges) at or above the last)."""
    return case(*[(col >= edge, i + 1) for i, edge in reversed(list(enumerate(edges)))], else_=0)


def equipment_load(s, period: Period, params: dict) -> Outcome:
    """Fault and hazard rate per running hour by load band; flag high-load excess per equipment.

    The database does the counting: running hours and faults are summed per
    equipment and band by one GROUP BY, and each hazard is matched to the
    running record it happened in by an index seek on (equipment, start) —
    a year of 200 machines is 73,000 running records but only 600 sums and
    ~5,000 matches for Python to handle. The input digest covers exactly
    those sums and matches.
    """
    edges = sorted(float(x) for x in params["bands"])
    names = _band_names(edges)
    win = window(period, int(params["window_months"]))
    equipment = {e.code: e for e in s.execute(select(Equipment.code, Equipment.area, Equipment.department,
                                                     Equipment.name))}
    band = _band_case(EquipmentRun.load_pct, edges).label("band")
    sums = s.execute(select(EquipmentRun.equipment_code, band, func.sum(EquipmentRun.hours),
                            func.sum(EquipmentRun.faults), func.count())
                     .where(EquipmentRun.started_at >= win.start, EquipmentRun.started_at < win.end)
                     .group_by(EquipmentRun.equipment_code, text("band"))
                     .order_by(EquipmentRun.equipment_code, text("band"))).all()
    # the running record a hazard happened in: the equipment's last record started at or before it
    run = aliased(EquipmentRun)
    last_start = (select(run.started_at)
                  .where(run.equipment_code == Hazard.equipment_code, run.started_at <= Hazard.found_at,
                         run.started_at >= win.start - timedelta(days=1))
                  .order_by(run.started_at.desc()).limit(1).correlate(Hazard).scalar_subquery())
    hazards = s.execute(select(Hazard.ref, Hazard.equipment_code, Hazard.found_at, EquipmentRun.started_at,
                               EquipmentRun.hours, EquipmentRun.load_pct)
                        .select_from(Hazard)
                        .outerjoin(EquipmentRun, and_(EquipmentRun.equipment_code == Hazard.equipment_code,
                                                      EquipmentRun.started_at == last_start))
                        .where(Hazard.equipment_code.is_not(None), Hazard.found_at >= win.start,
                               Hazard.found_at < win.end).order_by(Hazard.ref)).all()
    stats = defaultdict(lambda: [[0.0, 0, 0] for _ in names])  # code -> band -> [hours, faults, hazards]
    for code, b, hours, faults, _ in sums:
        cell = stats[code][int(b)]
        cell[0] += float(hours or 0.0)
        cell[1] += int(faults or 0)

    def band_of(load):
        return bisect.bisect_right(edges, load)

    unassigned = 0
    for h in hazards:
        if h.started_at is None or h.found_at - h.started_at > timedelta(hours=max(h.hours, 24)):
            unassigned += 1
            continue
        stats[h.equipment_code][band_of(h.load_pct)][2] += 1

    high = len(names) - 1
    tests, per_equipment = {}, []
    for code in sorted(stats):
        cells = stats[code]
        e_h = cells[high][1] + cells[high][2]
        t_h = cells[high][0]
        e_o = sum(c[1] + c[2] for c in cells[:high])
        t_o = sum(c[0] for c in cells[:high])
        test = poisson_rate_test(e_h, t_h, e_o, t_o)
        if test["tested"]:
            tests[code] = test["p_value"]
        eq = equipment.get(code)
        per_equipment.append({
            "equipment": code, "area": eq.area if eq else None, "department": eq.department if eq else None,
            "bands": [{"band": names[i], "hours": round(c[0], 3), "faults": c[1], "hazards": c[2],
                       "rate_per_1000h": finite(1000 * (c[1] + c[2]) / c[0]) if c[0] else None}
                      for i, c in enumerate(cells)],
            "high_events": e_h, "high_hours": round(t_h, 3), "other_events": e_o, "other_hours": round(t_o, 3),
            "rate_ratio": finite(test["rate_ratio"]), "p_value": finite(test["p_value"]),
        })
    significant = holm(tests, float(params["alpha"]))
    flagged = []
    for row in per_equipment:
        ratio = row["rate_ratio"]
        ok = row["equipment"] in significant and row["high_events"] >= int(params["min_events"]) and \
            (ratio is None and row["other_events"] == 0 or (ratio or 0) >= float(params["min_rate_ratio"]))
        row["flagged"] = bool(ok)
        if ok:
            flagged.append(row)
    flagged.sort(key=lambda r: (r["p_value"], r["equipment"]))
    fleet = []
    for i, name in enumerate(names):
        hours = sum(stats[c][i][0] for c in stats)
        events = sum(stats[c][i][1] + stats[c][i][2] for c in stats)
        fleet.append({"band": name, "hours": round(hours, 3), "events": events,
                      "rate_per_1000h": finite(1000 * events / hours) if hours else None})
    out = Outcome({
        "window": {"from": win.start.isoformat(), "to": win.end.isoformat()},
        "method": "exact one-sided conditional Poisson rate test (high band vs other bands), Holm-corrected "
                  f"over {len(tests)} equipment at alpha={params['alpha']}; flag needs ≥{params['min_events']} "
                  f"high-band events and rate ratio ≥{params['min_rate_ratio']}",
        "bands": names, "fleet": fleet, "equipment_tested": len(tests), "hazards_unassigned": unassigned,
        "flagged": flagged, "per_equipment": per_equipment,
    }, inputs=[("runs", code, int(b), round(float(hours or 0), 6), int(faults or 0), n)
               for code, b, hours, faults, n in sums]
       + [("hazard", h.ref, h.equipment_code, h.found_at.isoformat(),
           h.started_at.isoformat() if h.started_at else None) for h in hazards])
    for row in flagged:
        evidence = {k: row[k] for k in ("high_events", "high_hours", "other_events", "other_hours", "rate_ratio",
                                        "p_value")}
        ratio = f"{row['rate_ratio']:.1f}×" if row["rate_ratio"] else "远高于"
        out.recommendations.append({
            "kind": "reduce_load", "target_kind": "equipment", "target": row["equipment"],
            "department": row["department"], "area": row["area"], "evidence": evidence,
            "text": f"设备 {row['equipment']} 在高负荷（{names[high]}）下的故障与隐患率是其它负荷下的 {ratio}"
                    f"（p={row['p_value']:.2g}）：请降低负荷或调整排产，并安排检修。"})
        out.focus_items.append({
            "target_kind": "equipment", "target": row["equipment"], "area": row["area"],
            "department": row["department"], "evidence": evidence,
            "reason": f"高负荷运行时故障/隐患显著增多（{row['high_events']} 起 / {row['high_hours']:.0f} h），"
                      f"监督计划应重点检查该设备高负荷时段。"})
    return out


# --------------------------------------------------------------------------- 2. violation hotspots

def _top(counter: Counter):
    """The key with the largest value (ties: the smallest key), None when empty."""
    return min(counter.items(), key=lambda kv: (-kv[1], str(kv[0])))[0] if counter else None


def violation_hotspots(s, period: Period, params: dict) -> Outcome:
    """Violations per 1,000 worked hours by post, team and area; flag significant hotspots."""
    win = window(period, int(params["window_months"]))
    dims = list(params["dimensions"])
    # The database sums: per group of each dimension the worked hours (by department) and the
    # violations (by area); 50,000 work records become a few hundred rows.
    work_in = (WorkRecord.started_at >= win.start, WorkRecord.started_at < win.end)
    viol_in = (Violation.at >= win.start, Violation.at < win.end)
    total_hours = float(s.scalar(select(func.coalesce(func.sum(WorkRecord.hours), 0.0)).where(*work_in)) or 0.0)
    total_violations = int(s.scalar(select(func.count()).select_from(Violation).where(*viol_in)) or 0)
    result = {"window": {"from": win.start.isoformat(), "to": win.end.isoformat()},
              "method": "violations per 1,000 worked person-hours; exact one-sided conditional Poisson test of "
                        f"each group against the rest of its dimension, Holm-corrected per dimension at "
                        f"alpha={params['alpha']}; flag needs ≥{params['min_events']} violations and rate ratio "
                        f"≥{params['min_rate_ratio']}",
              "total_hours": round(total_hours, 3), "total_violations": total_violations,
              "dimensions": {}, "hotspots": []}
    out = Outcome(result, inputs=[("totals", round(total_hours, 6), total_violations)])
    for dim in dims:
        wcol, vcol = getattr(WorkRecord, dim), getattr(Violation, dim)
        hours, depts, events = Counter(), defaultdict(Counter), Counter()
        areas = defaultdict(Counter)
        unattributed = 0
        for key, dept, h, n in s.execute(select(wcol, WorkRecord.department, func.sum(WorkRecord.hours), func.count())
                                         .where(*work_in, wcol.is_not(None), wcol != "")
                                         .group_by(wcol, WorkRecord.department)
                                         .order_by(wcol, WorkRecord.department)):
            hours[key] += float(h or 0.0)
            if dept:
                depts[key][dept] += float(h or 0.0)
            out.inputs.append(("work", dim, key, dept, round(float(h or 0.0), 6), n))
        for key, area, n in s.execute(select(vcol, Violation.area, func.count()).where(*viol_in)
                                      .group_by(vcol, Violation.area).order_by(vcol, Violation.area)):
            out.inputs.append(("violations", dim, key, area, n))
            if not key:
                unattributed += n
                continue
            events[key] += n
            areas[key][area] += n
        unattributed += sum(n for k, n in events.items() if k not in hours)
        total_h, total_e = sum(hours.values()), sum(events[k] for k in hours)
        tests, rows = {}, []
        for key in sorted(set(hours) | set(events)):
            e, t = events[key], hours.get(key, 0.0)
            test = poisson_rate_test(e, t, total_e - e, total_h - t) if t > 0 else {"tested": False,
                                                                                    "p_value": None,
                                                                                    "rate_ratio": None}
            if test["tested"]:
                tests[key] = test["p_value"]
            rows.append({"dimension": dim, "group": key, "violations": e, "hours": round(t, 3),
                         "rate_per_1000h": finite(1000 * e / t) if t else None,
                         "rate_ratio": finite(test["rate_ratio"]), "p_value": finite(test["p_value"]),
                         "department": _top(depts[key]), "top_area": _top(areas[key])})
        significant = holm(tests, float(params["alpha"]))
        for r in rows:
            r["hotspot"] = bool(r["group"] in significant and r["violations"] >= int(params["min_events"])
                                and (r["rate_ratio"] is None or r["rate_ratio"] >= float(params["min_rate_ratio"])))
        rows.sort(key=lambda r: (-(r["rate_per_1000h"] or 0), r["group"]))
        result["dimensions"][dim] = {"groups": len(rows), "unattributed_violations": unattributed,
                                     "ranking": rows[: int(params["top"])],
                                     "hotspots": [r for r in rows if r["hotspot"]]}
        result["hotspots"].extend(r for r in rows if r["hotspot"])
    result["hotspots"].sort(key=lambda r: (r["p_value"], r["dimension"], r["group"]))
    labels = {"post": "岗位", "team": "班组", "area": "区域"}
    for r in result["hotspots"]:
        evidence = {k: r[k] for k in ("violations", "hours", "rate_per_1000h", "rate_ratio", "p_value")}
        area = r["group"] if r["dimension"] == "area" else r["top_area"]
        out.recommendations.append({
            "kind": "training", "target_kind": r["dimension"], "target": r["group"], "department": r["department"],
            "area": area, "evidence": evidence,
            "text": f"{labels.get(r['dimension'], r['dimension'])} {r['group']} 违章率 {r['rate_per_1000h']:.2f} 次/千工时"
                    f"（{r['violations']} 起），显著高于其他：请组织针对性安全培训与班前教育。"})
        out.focus_items.append({
            "target_kind": r["dimension"], "target": r["group"], "area": area, "department": r["department"],
            "evidence": evidence,
            "reason": f"违章热点：{labels.get(r['dimension'], r['dimension'])} {r['group']}，"
                      f"{r['rate_per_1000h']:.2f} 次/千工时，下一期监督计划应加密检查。"})
    return out


# --------------------------------------------------------------------------- 3. precision and interference

def supervision(s, period: Period, params: dict) -> Outcome:
    """Monthly precision of supervision checks and interference of safety stops, with trends."""
    n = int(params["trend_months"])
    y, m = shift_month(period.start.year, period.start.month, -(n - 1))
    first = month(y, m)
    insp = s.execute(select(Inspection.ref, Inspection.at, Inspection.area, Inspection.found_issue)
                     .where(Inspection.at >= first.start, Inspection.at < period.end).order_by(Inspection.ref)).all()
    stops = s.execute(select(ProductionStop.ref, ProductionStop.area, ProductionStop.started_at,
                             ProductionStop.ended_at, ProductionStop.cause_kind)
                      .where(ProductionStop.started_at >= first.start, ProductionStop.started_at < period.end)
                      .order_by(ProductionStop.ref)).all()
    months = []
    for k in range(n):
        mp = month(*shift_month(y, m, k))
        months.append({"period": mp.label, "inspections": 0, "with_findings": 0, "stops": 0, "stop_hours": 0.0,
                       "safety_stops": 0, "safety_stop_hours": 0.0})
    index = {row["period"]: row for row in months}
    areas = defaultdict(lambda: {"inspections": 0, "with_findings": 0, "stop_hours": 0.0, "safety_stop_hours": 0.0})
    for i in insp:
        row = index[f"{i.at.year:04d}-{i.at.month:02d}"]
        row["inspections"] += 1
        row["with_findings"] += int(i.found_issue)
        if i.at >= period.start:
            areas[i.area]["inspections"] += 1
            areas[i.area]["with_findings"] += int(i.found_issue)
    for st in stops:
        end = min(st.ended_at or period.end, period.end)
        hours = max((end - st.started_at).total_seconds() / 3600, 0.0)
        row = index[f"{st.started_at.year:04d}-{st.started_at.month:02d}"]
        row["stops"] += 1
        row["stop_hours"] += hours
        if st.cause_kind == "safety":
            row["safety_stops"] += 1
            row["safety_stop_hours"] += hours
        if st.started_at >= period.start:
            areas[st.area]["stop_hours"] += hours
            if st.cause_kind == "safety":
                areas[st.area]["safety_stop_hours"] += hours
    for row in months:
        row["precision"] = finite(row["with_findings"] / row["inspections"]) if row["inspections"] else None
        row["interference"] = finite(row["safety_stop_hours"] / row["stop_hours"]) if row["stop_hours"] else None
        row["stop_hours"] = round(row["stop_hours"], 3)
        row["safety_stop_hours"] = round(row["safety_stop_hours"], 3)
    current = months[-1]
    by_area = []
    for area in sorted(areas):
        a = areas[area]
        by_area.append({"area": area, **{k: round(v, 3) if isinstance(v, float) else v for k, v in a.items()},
                        "precision": finite(a["with_findings"] / a["inspections"]) if a["inspections"] else None,
                        "interference": finite(a["safety_stop_hours"] / a["stop_hours"]) if a["stop_hours"]
                        else None})
    result = {
        "definitions": {"precision": "inspections that found something ÷ inspections",
                        "interference": "hours of production interruption caused by safety stops ÷ all "
                                        "interruption hours"},
        "period": current, "months": months, "by_area": by_area,
        "trend": {"precision_per_month": finite(slope([r["precision"] for r in months])),
                  "interference_per_month": finite(slope([r["interference"] for r in months]))},
    }
    return Outcome(result, inputs=[("insp", i.ref, i.at.isoformat(), i.found_issue) for i in insp]
                   + [("stop", st.ref, st.started_at.isoformat(), st.ended_at.isoformat() if st.ended_at else None,
                       st.cause_kind) for st in stops])


# --------------------------------------------------------------------------- 4. permits

def permits(s, period: Period, params: dict) -> Outcome:
    """Permit counts, durations, approval times and suspensions by grade and by area."""
    rows = s.execute(select(WorkRecord.ref, WorkRecord.kind, WorkRecord.grade, WorkRecord.area,
                            WorkRecord.started_at, WorkRecord.ended_at, WorkRecord.applied_at,
                            WorkRecord.approved_at, WorkRecord.suspensions, WorkRecord.suspension_causes)
                     .where(WorkRecord.source == "permit", WorkRecord.started_at >= period.start,
                            WorkRecord.started_at < period.end).order_by(WorkRecord.ref)).all()

    def summary(group) -> dict:
        durations = [(r.ended_at - r.started_at).total_seconds() / 3600 for r in group if r.ended_at]
        approvals = [(r.approved_at - r.applied_at).total_seconds() / 3600 for r in group
                     if r.approved_at and r.applied_at]
        causes = Counter()
        for r in group:
            for c in r.suspension_causes or []:
                causes[str(c)] += 1
        return {"count": len(group),
                "duration_h": {"mean": finite(sum(durations) / len(durations)) if durations else None,
                               "median": finite(quantile(durations, 0.5)), "p90": finite(quantile(durations, 0.9))},
                "approval_h": {"mean": finite(sum(approvals) / len(approvals)) if approvals else None,
                               "median": finite(quantile(approvals, 0.5)), "p90": finite(quantile(approvals, 0.9))},
                "suspended": sum(1 for r in group if (r.suspensions or 0) > 0),
                "suspensions": sum(r.suspensions or 0 for r in group),
                "causes": dict(sorted(causes.items(), key=lambda kv: (-kv[1], kv[0])))}

    def grouped(keyf) -> list[dict]:
        groups = defaultdict(list)
        for r in rows:
            groups[keyf(r)].append(r)
        return [{"group": k, **summary(v)} for k, v in sorted(groups.items(), key=lambda kv: str(kv[0]))]

    result = {"total": summary(rows),
              "by_grade": grouped(lambda r: r.grade or "—"),
              "by_area": grouped(lambda r: r.area),
              "by_kind": grouped(lambda r: r.kind),
              "by_kind_grade": grouped(lambda r: f"{r.kind}/{r.grade or '—'}")}
    return Outcome(result, inputs=[(r.ref, r.kind, r.grade, r.area, r.started_at.isoformat(),
                                    r.ended_at.isoformat() if r.ended_at else None,
                                    r.applied_at.isoformat() if r.applied_at else None,
                                    r.approved_at.isoformat() if r.approved_at else None, r.suspensions,
                                    list(r.suspension_causes or [])) for r in rows])


FUNCTIONS = {"equipment_load": equipment_load, "violation_hotspots": violation_hotspots,
             "supervision": supervision, "permits": permits}
