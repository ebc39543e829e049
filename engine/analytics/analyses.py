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
5. ``area_hotspots`` — hazards per 1,000 worked person-hours by area and by
   shift of the day (hours from work records; a record's hours are split over
   the shifts it overlaps); each area (shift) against the rest, same test, Holm
   per dimension, same minimums. Pushed to the department that owns the area.
6. ``plant_load`` — the plant-wide rate of hazards per running hour by load
   band, and apart from it the rate of equipment faults (faults do not depend on
   who works where and would dilute the hazard question): one test, hazards in
   the high band against the other bands.
7. ``contractor_hotspots`` — violations per 1,000 worked person-hours per
   contractor against the rest of the plant's work (own staff included), Holm
   over the contractors; pushed to the department that manages the contractor.

Every result carries ``verdict`` (one Chinese sentence) and ``verdict_en``: what
was found, with effect size and p-value, and never "nothing significant" when a
plant-wide rate the report charts rises significantly. The default windows of
5–7 come from the detection power measured by ``bench/analytics_power.py``
(README, "Detection power").
"""
from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import and_, case, func, select, text
from sqlalchemy.orm import aliased

from engine.analytics.stats import finite, holm, poisson_rate_test, quantile, slope
from engine.hub.models import (Contractor, Equipment, EquipmentRun, Hazard, Inspection, Person, ProductionStop,
                               Violation, WorkRecord)
from engine.models import Area
from engine.periods import Period, month, shift_month, window

DEFAULTS = {
    "equipment_load": {"bands": [60.0, 85.0], "alpha": 0.01, "min_events": 5, "min_rate_ratio": 1.5,
                       "window_months": 12},
    "violation_hotspots": {"alpha": 0.01, "min_events": 5, "min_rate_ratio": 1.5, "window_months": 3,
                           "dimensions": ["post", "team", "area"], "top": 10},
    "supervision": {"trend_months": 12},
    "permits": {},
    # windows from bench/analytics_power.py (README, "Detection power"): the shortest of 3/6/12 months with
    # ≥ 80 % power for the planted effect at the realistic plant's volumes and ≤ 1 false flag per 10 null
    # plant-years — area ×2: 60/100/100 %; load ×1.94: 55/90/100 %; contractor ×2.5: 10/40/95 %
    "area_hotspots": {"alpha": 0.01, "min_events": 5, "min_rate_ratio": 1.5, "window_months": 6,
                      "dimensions": ["area", "shift"], "shift_starts": [8, 16, 0], "utc_offset_hours": 8},
    "plant_load": {"bands": [60.0, 85.0], "alpha": 0.01, "min_events": 5, "min_rate_ratio": 1.25,
                   "window_months": 6},
    "contractor_hotspots": {"alpha": 0.01, "min_events": 5, "min_rate_ratio": 1.5, "window_months": 12},
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


def _load_cells(s, win, edges: list[float]):
    """Running hours, faults and hazards per equipment and load band in a window.

    The database does the counting: running hours and faults are summed per
    equipment and band by one GROUP BY, and each hazard is matched to the
    running record it happened in by an index seek on (equipment, start) —
    a year of 200 machines is 73,000 running records but only 600 sums and
    ~5,000 matches for Python to handle. Returns ``(cells, sums, hazards,
    unassigned)``: cells ``code -> band -> [hours, faults, hazards]``; sums and
    hazards are the rows read (for the input digest).
    """
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
    stats = defaultdict(lambda: [[0.0, 0, 0] for _ in range(len(edges) + 1)])
    for code, b, hours, faults, _ in sums:
        cell = stats[code][int(b)]
        cell[0] += float(hours or 0.0)
        cell[1] += int(faults or 0)
    unassigned = 0  # hazards of equipment with no running record that day
    for h in hazards:
        if h.started_at is None or h.found_at - h.started_at > timedelta(hours=max(h.hours, 24)):
            unassigned += 1
            continue
        stats[h.equipment_code][bisect.bisect_right(edges, h.load_pct)][2] += 1
    return stats, sums, hazards, unassigned


def equipment_load(s, period: Period, params: dict) -> Outcome:
    """Fault and hazard rate per running hour by load band; flag high-load excess per equipment.

    The counting is :func:`_load_cells`; the input digest covers exactly its
    sums and matches. The fleet's band rates are charted, so the verdict also
    states their test (``fleet_test``): "no machine" must not read as "no load
    effect" when the whole plant's rate rises.
    """
    edges = sorted(float(x) for x in params["bands"])
    names = _band_names(edges)
    win = window(period, int(params["window_months"]))
    equipment = {e.code: e for e in s.execute(select(Equipment.code, Equipment.area, Equipment.department,
                                                     Equipment.name))}
    stats, sums, hazards, unassigned = _load_cells(s, win, edges)

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
    ft = poisson_rate_test(fleet[high]["events"], fleet[high]["hours"], sum(f["events"] for f in fleet[:high]),
                           sum(f["hours"] for f in fleet[:high]))
    fleet_test = {"rate_ratio": finite(ft["rate_ratio"]), "p": finite(ft["p_value"]),
                  "significant": bool(ft["tested"] and ft["p_value"] <= float(params["alpha"]))}
    if flagged:
        zh = "；".join(f"设备 {r['equipment']} 高负荷（{names[high]}）下故障与隐患率为其他负荷的 "
                      f"{fmt_ratio(r['rate_ratio'])} 倍 (p={fmt_p(r['p_value'])})" for r in flagged[:3])
        en = "; ".join(f"equipment {r['equipment']}: fault and hazard rate at high load ({names[high]}) "
                       f"{fmt_ratio(r['rate_ratio'])}× its other loads (p={fmt_p(r['p_value'])})" for r in flagged[:3])
        more = len(flagged) - 3
        verdict = zh + (f"等 {len(flagged)} 台" if more > 0 else "") + "，显著偏高"
        verdict_en = en + (f" and {more} more" if more > 0 else "") + ": significantly higher"
    elif fleet_test["significant"]:
        verdict = (f"未发现单台设备显著偏高；但全厂高负荷（{names[high]}）时段故障与隐患合计率为其他负荷的 "
                   f"{fmt_ratio(fleet_test['rate_ratio'])} 倍 (p={fmt_p(fleet_test['p'])})，显著上升（见全厂负荷分析）")
        verdict_en = (f"No single machine stands out, but the plant-wide fault and hazard rate at high load "
                      f"({names[high]}) is {fmt_ratio(fleet_test['rate_ratio'])}× the other loads "
                      f"(p={fmt_p(fleet_test['p'])}), a significant rise (see plant_load)")
    elif any(r["equipment"] in significant for r in per_equipment):
        r = min((r for r in per_equipment if r["equipment"] in significant),
                key=lambda r: (r["p_value"], r["equipment"]))
        verdict = (f"设备 {r['equipment']} 高负荷下故障与隐患率为其他负荷的 {fmt_ratio(r['rate_ratio'])} 倍 "
                   f"(p={fmt_p(r['p_value'])})，统计上显著，但低于 {params['min_rate_ratio']} 倍的关注阈值或不足 "
                   f"{params['min_events']} 起，未列为重点")
        verdict_en = (f"equipment {r['equipment']}: fault and hazard rate at high load {fmt_ratio(r['rate_ratio'])}× "
                      f"its other loads (p={fmt_p(r['p_value'])}), statistically significant but below the "
                      f"{params['min_rate_ratio']}× threshold or {params['min_events']} events: not flagged")
    else:
        verdict = (f"未发现高负荷下故障与隐患率显著偏高的设备（全厂高负荷时段为其他负荷的 "
                   f"{fmt_ratio(fleet_test['rate_ratio'])} 倍，p={fmt_p(fleet_test['p'])}）")
        verdict_en = (f"No machine with a significantly higher fault and hazard rate at high load (plant-wide "
                      f"{fmt_ratio(fleet_test['rate_ratio'])}× at high load, p={fmt_p(fleet_test['p'])})")
    out = Outcome({
        "window": {"from": win.start.isoformat(), "to": win.end.isoformat()},
        "method": "exact one-sided conditional Poisson rate test (high band vs other bands), Holm-corrected "
                  f"over {len(tests)} equipment at alpha={params['alpha']}; flag needs ≥{params['min_events']} "
                  f"high-band events and rate ratio ≥{params['min_rate_ratio']}",
        "bands": names, "fleet": fleet, "fleet_test": fleet_test, "equipment_tested": len(tests),
        "hazards_unassigned": unassigned, "flagged": flagged, "per_equipment": per_equipment,
        "verdict": verdict, "verdict_en": verdict_en,
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


def fmt_p(p) -> str:
    """A p-value as people read it: 0.03, 0.0012, 3e-8."""
    if p is None:
        return "—"
    if p < 0.001:
        mantissa, exp = f"{p:.0e}".split("e")
        return f"{mantissa}e{int(exp)}"
    return f"{p:.2g}"


def fmt_ratio(r) -> str:
    """A rate ratio to one decimal (∞ when the rest had no events)."""
    return "∞" if r is None else f"{r:.1f}"


def area_owners(s, areas) -> dict:
    """``area -> (department, source)``: the department that owns each area.

    The organisation's areas say who owns them (``areas.department``); an area
    the organisation does not know is owned by the department most of its hub
    equipment belongs to. Hours worked are no owner: a shared area is worked in
    by several departments, and the most hours is near a coin-flip between them
    (used only when nothing else names one, with source ``hours``).
    """
    areas = sorted({a for a in areas if a})
    if not areas:
        return {}
    org = {code: dept for code, dept in s.execute(select(Area.code, Area.department).where(Area.code.in_(areas)))
           if dept}
    eq = defaultdict(Counter)
    for area, dept, n in s.execute(select(Equipment.area, Equipment.department, func.count())
                                   .where(Equipment.area.in_(areas), Equipment.department.is_not(None))
                                   .group_by(Equipment.area, Equipment.department)):
        eq[area][dept] += n
    out = {a: (org[a], "organisation") if a in org else (_top(eq[a]), "equipment") if eq[a] else (None, None)
           for a in areas}
    unknown = [a for a, (dept, _) in out.items() if dept is None]
    if unknown:  # last resort, so that a finding still reaches someone: the department that worked most there
        hours = defaultdict(Counter)
        for area, dept, h in s.execute(select(WorkRecord.area, WorkRecord.department, func.sum(WorkRecord.hours))
                                       .where(WorkRecord.area.in_(unknown), WorkRecord.department.is_not(None))
                                       .group_by(WorkRecord.area, WorkRecord.department)):
            hours[area][dept] += float(h or 0.0)
        for a in unknown:
            if hours[a]:
                out[a] = (_top(hours[a]), "hours")
    return out


def team_departments(s, teams) -> dict:
    """``team -> department`` by the hub's people (a crew belongs to the department most of its members do)."""
    out = defaultdict(Counter)
    for team, dept, n in s.execute(select(Person.team, Person.department, func.count())
                                   .where(Person.team.in_(sorted(t for t in teams if t)))
                                   .group_by(Person.team, Person.department)):
        out[team][dept] += n
    return {t: _top(c) for t, c in out.items()}


def violation_hotspots(s, period: Period, params: dict) -> Outcome:
    """Violations per 1,000 worked hours by post, team and area; flag significant hotspots.

    A hotspot goes to the department responsible for it: an area to the one that
    owns it (:func:`area_owners`), a team to its members' department, a post to
    the department that worked most of its hours.
    """
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
    below = []  # significant, but under the minimum events or rate ratio: the verdict must not deny them
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
            r["significant"] = r["group"] in significant
            r["hotspot"] = bool(r["group"] in significant and r["violations"] >= int(params["min_events"])
                                and (r["rate_ratio"] is None or r["rate_ratio"] >= float(params["min_rate_ratio"])))
        rows.sort(key=lambda r: (-(r["rate_per_1000h"] or 0), r["group"]))
        below.extend(r for r in rows if r["significant"] and not r["hotspot"])
        result["dimensions"][dim] = {"groups": len(rows), "unattributed_violations": unattributed,
                                     "ranking": rows[: int(params["top"])],
                                     "hotspots": [r for r in rows if r["hotspot"]]}
        result["hotspots"].extend(r for r in rows if r["hotspot"])
    result["hotspots"].sort(key=lambda r: (r["p_value"], r["dimension"], r["group"]))
    labels = {"post": "岗位", "team": "班组", "area": "区域"}
    owners = area_owners(s, [r["group"] for r in result["hotspots"] if r["dimension"] == "area"])
    crews = team_departments(s, [r["group"] for r in result["hotspots"] if r["dimension"] == "team"])
    for r in result["hotspots"]:
        if r["dimension"] == "area" and owners.get(r["group"], (None,))[0]:
            r["department"] = owners[r["group"]][0]
        elif r["dimension"] == "team" and crews.get(r["group"]):
            r["department"] = crews[r["group"]]
    hot = result["hotspots"]
    if hot:
        result["verdict"] = "；".join(
            f"{labels.get(r['dimension'], r['dimension'])} {r['group']} 违章率为同类其余的 "
            f"{fmt_ratio(r['rate_ratio'])} 倍 (p={fmt_p(r['p_value'])})" for r in hot[:3]) + \
            (f" 等 {len(hot)} 处" if len(hot) > 3 else "") + "，显著偏高"
        result["verdict_en"] = "; ".join(
            f"{r['dimension']} {r['group']}: violation rate {fmt_ratio(r['rate_ratio'])}× the rest "
            f"(p={fmt_p(r['p_value'])})" for r in hot[:3]) + \
            (f" and {len(hot) - 3} more" if len(hot) > 3 else "") + ": significantly higher"
    elif below:
        r = min(below, key=lambda r: (r["p_value"], r["dimension"], r["group"]))
        result["verdict"] = (f"{labels.get(r['dimension'], r['dimension'])} {r['group']} 违章率为同类其余的 "
                             f"{fmt_ratio(r['rate_ratio'])} 倍 (p={fmt_p(r['p_value'])})，统计上显著，但低于 "
                             f"{params['min_rate_ratio']} 倍的关注阈值或不足 {params['min_events']} 起，未列为热点")
        result["verdict_en"] = (f"{r['dimension']} {r['group']}: violation rate {fmt_ratio(r['rate_ratio'])}× the rest "
                                f"(p={fmt_p(r['p_value'])}), statistically significant but below the "
                                f"{params['min_rate_ratio']}× threshold or {params['min_events']} events: "
                                "not a hotspot")
    else:
        result["verdict"] = "未发现违章率显著偏高的" + "、".join(labels.get(d, d) for d in dims)
        result["verdict_en"] = "No " + ", ".join(dims) + " with a significantly higher violation rate"
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
    pct = (lambda v: "—" if v is None else f"{100 * v:.0f}%")
    pp = (lambda v: "—" if v is None else f"{100 * v:+.1f}")
    tr = result["trend"]
    result["verdict"] = (f"本期检查发现问题率 {pct(current['precision'])}，安全停产占中断工时 "
                         f"{pct(current['interference'])}；近 {n} 个月发现率每月变化 {pp(tr['precision_per_month'])} "
                         f"个百分点、干扰每月变化 {pp(tr['interference_per_month'])} 个百分点（描述性趋势，未做显著性检验）")
    result["verdict_en"] = (f"This period {pct(current['precision'])} of inspections found something and safety "
                            f"stops were {pct(current['interference'])} of interruption hours; over {n} months "
                            f"precision moved {pp(tr['precision_per_month'])} and interference "
                            f"{pp(tr['interference_per_month'])} percentage points a month (descriptive trend, "
                            f"not tested)")
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
    tot = result["total"]
    med = tot["approval_h"]["median"]
    med_text = "—" if med is None else f"{med:.1f}"
    result["verdict"] = (f"本期开始作业许可 {tot['count']} 件，审批用时中位数 {med_text} 小时，"
                         f"{tot['suspended']} 件曾暂停（共 {tot['suspensions']} 次）（描述性统计）")
    result["verdict_en"] = (f"{tot['count']} permits started this period, median approval {med_text} h, "
                            f"{tot['suspended']} suspended ({tot['suspensions']} suspensions) (descriptive)")
    return Outcome(result, inputs=[(r.ref, r.kind, r.grade, r.area, r.started_at.isoformat(),
                                    r.ended_at.isoformat() if r.ended_at else None,
                                    r.applied_at.isoformat() if r.applied_at else None,
                                    r.approved_at.isoformat() if r.approved_at else None, r.suspensions,
                                    list(r.suspension_causes or [])) for r in rows])


# --------------------------------------------------------------------------- 5–7. families of groups

def rate_family(events: dict, exposure: dict, params: dict, per: float = 1000.0) -> list[dict]:
    """Each group's event rate against the rest of its family, flagged when significantly higher.

    Rows ``{key, events, exposure, rate (per ``per`` exposure), rate_ratio, p, flagged}`` sorted by key.
    The test is the exact one-sided conditional Poisson test of the group against all other groups
    with exposure; Holm over the family at ``alpha``; a flag needs ``min_events`` events and a rate
    ratio ≥ ``min_rate_ratio`` (so a tiny excess on a huge exposure is not a finding). A group with
    events but no exposure is reported, never tested (its rate is unknown).
    """
    keys = sorted(set(exposure) | set(events), key=str)
    total_e = sum(events.get(k, 0) for k in keys if exposure.get(k, 0) > 0)
    total_t = sum(t for t in exposure.values() if t > 0)
    tests, rows = {}, []
    for k in keys:
        e, t = int(events.get(k, 0)), float(exposure.get(k, 0.0))
        test = poisson_rate_test(e, t, total_e - e, total_t - t) if t > 0 else {"tested": False, "p_value": None,
                                                                                "rate_ratio": None}
        if test["tested"]:
            tests[k] = test["p_value"]
        rows.append({"key": k, "events": e, "exposure": round(t, 3), "rate": finite(per * e / t) if t else None,
                     "rate_ratio": finite(test["rate_ratio"]), "p": finite(test["p_value"]),
                     "tested": bool(test["tested"])})
    significant = holm(tests, float(params["alpha"]))
    for r in rows:
        r["significant"] = r["key"] in significant
        r["flagged"] = bool(r["key"] in significant and r["events"] >= int(params["min_events"])
                            and (r["rate_ratio"] is None or r["rate_ratio"] >= float(params["min_rate_ratio"])))
    return rows


def _family_verdict(rows: list[dict], noun_zh: str, noun_en: str, what_zh: str, what_en: str, params: dict,
                    rest_zh: str | None = None, rest_en: str | None = None) -> tuple[str, str]:
    """One sentence per family: the flagged groups with effect and p; else a group that is significant
    but below the minimums (never "nothing significant" then); else the group with the smallest p."""
    rest_zh = rest_zh or f"其余{noun_zh}"
    rest_en = rest_en or f"the other {noun_en}s"
    flagged = sorted((r for r in rows if r["flagged"]), key=lambda r: (r["p"], str(r["key"])))
    if flagged:
        zh = "；".join(f"{noun_zh} {r['key']} {what_zh}为{rest_zh}的 {fmt_ratio(r['rate_ratio'])} 倍 "
                      f"(p={fmt_p(r['p'])})" for r in flagged)
        en = "; ".join(f"{noun_en} {r['key']}: {what_en} {fmt_ratio(r['rate_ratio'])}× {rest_en} "
                       f"(p={fmt_p(r['p'])})" for r in flagged)
        return zh + "，显著偏高", en + ", significantly higher"
    tested = [r for r in rows if r["tested"]]
    if not tested:
        return f"无可比较的{noun_zh}数据（没有工时或没有记录）", f"No {noun_en} data to compare (no hours or records)"
    top = min(tested, key=lambda r: (r["p"], str(r["key"])))
    if top.get("significant"):
        return (f"{noun_zh} {top['key']} {what_zh}为{rest_zh}的 {fmt_ratio(top['rate_ratio'])} 倍 (p={fmt_p(top['p'])})，"
                f"统计上显著，但低于 {params['min_rate_ratio']} 倍的关注阈值或不足 {params['min_events']} 起，未列为热点",
                f"{noun_en} {top['key']}: {what_en} {fmt_ratio(top['rate_ratio'])}× {rest_en} (p={fmt_p(top['p'])}), "
                f"statistically significant but below the {params['min_rate_ratio']}× threshold or "
                f"{params['min_events']} events: not a hotspot")
    return (f"未发现{what_zh}显著偏高的{noun_zh}（p 值最小者 {noun_zh} {top['key']}：{fmt_ratio(top['rate_ratio'])} 倍，"
            f"p={fmt_p(top['p'])}）",
            f"No {noun_en} with a significantly higher {what_en} (smallest p: {top['key']}, "
            f"{fmt_ratio(top['rate_ratio'])}×, p={fmt_p(top['p'])})")


def _shift_names(starts: list[int]) -> list[str]:
    out = []
    for i, a in enumerate(starts):
        b = starts[(i + 1) % len(starts)]
        out.append(f"{a:02d}-{b if b > a or b else 24:02d}")  # 16-24, 22-06
    return out


def _shift_of(local_hour: float, starts: list[int]) -> int:
    """Index of the shift a local hour of day falls in (the last shift wraps over midnight)."""
    return (bisect.bisect_right(starts, local_hour) - 1) % len(starts)


def _split_over_shifts(start, end, starts: list[int], offset: float) -> list[float]:
    """Hours of ``[start, end)`` in each shift of the day (plant time = UTC + ``offset`` h)."""
    shares = [0.0] * len(starts)
    if end is None or end <= start:
        return shares
    total = (end - start).total_seconds() / 3600
    if total > 24 * 7:  # weeks-long records: every shift its length's share
        lengths = [((starts[(i + 1) % len(starts)] - a) % 24) or 24 for i, a in enumerate(starts)]
        return [total * n / 24 for n in lengths]
    t = (start.hour + start.minute / 60 + start.second / 3600 + offset) % 24
    left = total
    while left > 1e-9:
        i = _shift_of(t, starts)
        nxt = starts[(i + 1) % len(starts)]
        step = min((nxt - t) % 24 or 24, left)
        shares[i] += step
        left -= step
        t = (t + step) % 24
    return shares


def area_hotspots(s, period: Period, params: dict) -> Outcome:
    """Hazards per 1,000 worked person-hours by area and by shift of the day; flag significant hotspots.

    Exposure is person-hours from work records (the same measure as the violation rates): it is
    recorded for every area and every hour of the day, and it grows with what the area does, so an
    area where twice as many people work finds more hazards without being more hazardous. Area-shifts
    would count a three-person tank-farm shift like a forty-person unit shift. A work record's hours
    go to the shifts it overlaps in proportion; a hazard to the shift it was found in.
    """
    win = window(period, int(params["window_months"]))
    dims = list(params["dimensions"])
    starts = sorted({int(h) % 24 for h in params["shift_starts"]})
    offset = float(params["utc_offset_hours"])
    names = _shift_names(starts)
    area_hours, shift_hours = Counter(), [0.0] * len(starts)
    for area, started, ended, hours in s.execute(
            select(WorkRecord.area, WorkRecord.started_at, WorkRecord.ended_at, WorkRecord.hours)
            .where(WorkRecord.started_at >= win.start, WorkRecord.started_at < win.end)):
        hours = float(hours or 0.0)
        if hours <= 0:
            continue
        area_hours[area] += hours
        if "shift" in dims:
            split = _split_over_shifts(started, ended, starts, offset)
            span = sum(split)
            if span > 0:
                for i, h in enumerate(split):
                    shift_hours[i] += hours * h / span
            else:  # no end: all of it in the shift it started in
                t = (started.hour + started.minute / 60 + offset) % 24
                shift_hours[_shift_of(t, starts)] += hours
    area_events, shift_events = Counter(), Counter()
    for area, found in s.execute(select(Hazard.area, Hazard.found_at)
                                 .where(Hazard.found_at >= win.start, Hazard.found_at < win.end)):
        area_events[area] += 1
        t = (found.hour + found.minute / 60 + found.second / 3600 + offset) % 24
        shift_events[names[_shift_of(t, starts)]] += 1
    total_h, total_e = sum(area_hours.values()), sum(area_events.values())
    result = {"window": {"from": win.start.isoformat(), "to": win.end.isoformat()},
              "method": "hazards per 1,000 worked person-hours (work records); exact one-sided conditional Poisson "
                        "test of each area (shift) against the rest, Holm-corrected per dimension at "
                        f"alpha={params['alpha']}; flag needs ≥{params['min_events']} hazards and rate ratio "
                        f"≥{params['min_rate_ratio']}",
              "exposure_unit": "person-hours", "rate_unit": "hazards per 1,000 person-hours", "shifts": names,
              "utc_offset_hours": offset,
              "hazards": total_e, "exposure": round(total_h, 3),
              "plant_rate": finite(1000 * total_e / total_h) if total_h else None,
              "by_area": [], "by_shift": []}
    out = Outcome(result, inputs=[("area", a, round(area_hours[a], 6), area_events[a])
                                  for a in sorted(set(area_hours) | set(area_events))]
                  + [("shift", n, round(shift_hours[i], 6), shift_events[n]) for i, n in enumerate(names)])
    sentences_zh, sentences_en = [], []
    if "area" in dims:
        rows = rate_family(area_events, area_hours, params)
        result["by_area"] = [{"area": r["key"], "hazards": r["events"], "exposure": r["exposure"], "rate": r["rate"],
                              "rate_ratio": r["rate_ratio"], "p": r["p"], "flagged": r["flagged"]} for r in rows]
        result["hazards_without_hours"] = sum(r["events"] for r in rows if not r["tested"])
        zh, en = _family_verdict(rows, "区域", "area", "隐患率", "hazard rate", params)
        sentences_zh.append(zh)
        sentences_en.append(en)
    if "shift" in dims:
        rows = rate_family(shift_events, dict(zip(names, shift_hours)), params)
        result["by_shift"] = [{"shift": r["key"], "hazards": r["events"], "exposure": r["exposure"],
                               "rate": r["rate"], "rate_ratio": r["rate_ratio"], "p": r["p"],
                               "flagged": r["flagged"]} for r in rows]
        zh, en = _family_verdict(rows, "班次", "shift", "隐患率", "hazard rate", params)
        sentences_zh.append(zh)
        sentences_en.append(en)
    result["verdict"] = "；".join(sentences_zh)
    result["verdict_en"] = "; ".join(sentences_en)
    owners = area_owners(s, [r["area"] for r in result["by_area"] if r["flagged"]])
    for r in result["by_area"]:
        r["department"], r["department_from"] = owners.get(r["area"], (None, None)) if r["flagged"] else (None, None)
        if not r["flagged"]:
            continue
        evidence = {"hazards": r["hazards"], "person_hours": r["exposure"], "rate_per_1000h": r["rate"],
                    "rate_ratio": r["rate_ratio"], "p_value": r["p"], "owner_from": r["department_from"]}
        out.recommendations.append({
            "kind": "hazard_hotspot", "target_kind": "area", "target": r["area"], "department": r["department"],
            "area": r["area"], "evidence": evidence,
            "text": f"区域 {r['area']} 隐患率 {r['rate']:.2f} 起/千工时，为其余区域的 {fmt_ratio(r['rate_ratio'])} 倍"
                    f"（p={fmt_p(r['p'])}）：请排查该区域的设备与作业条件，制定整治计划。"})
        out.focus_items.append({
            "target_kind": "area", "target": r["area"], "area": r["area"], "department": r["department"],
            "evidence": evidence,
            "reason": f"隐患热点区域：{r['rate']:.2f} 起/千工时（{r['hazards']} 起），下一期监督计划应加密检查。"})
    for r in result["by_shift"]:
        if r["flagged"]:
            evidence = {"hazards": r["hazards"], "person_hours": r["exposure"], "rate_per_1000h": r["rate"],
                        "rate_ratio": r["rate_ratio"], "p_value": r["p"]}
            out.focus_items.append({
                "target_kind": "shift", "target": r["shift"], "area": None, "department": None, "evidence": evidence,
                "reason": f"隐患高发班次 {r['shift']}（厂区时间）：{r['rate']:.2f} 起/千工时，"
                          f"为其余班次的 {fmt_ratio(r['rate_ratio'])} 倍，应安排该班次的监督检查。"})
    return out


def plant_load(s, period: Period, params: dict) -> Outcome:
    """The plant-wide hazard rate per running hour by load band, faults apart; tests high band vs the rest.

    Hazards are the question (does production load make the plant less safe?); equipment faults are
    counted and tested apart, because added to hazards they dilute a load effect with events that
    do not depend on it (a 1.94× hazard effect read as 1.41× with faults). One test, no family.
    """
    edges = sorted(float(x) for x in params["bands"])
    names = _band_names(edges)
    win = window(period, int(params["window_months"]))
    stats, sums, hazards, unassigned = _load_cells(s, win, edges)
    high = len(names) - 1
    bands = []
    for i, name in enumerate(names):
        hours = sum(stats[c][i][0] for c in stats)
        faults = sum(stats[c][i][1] for c in stats)
        hz = sum(stats[c][i][2] for c in stats)
        bands.append({"band": name, "hazards": hz, "faults": faults, "exposure_hours": round(hours, 3),
                      "hazard_rate": finite(1000 * hz / hours) if hours else None,
                      "fault_rate": finite(1000 * faults / hours) if hours else None})

    def test(key):
        t = poisson_rate_test(bands[high][key], bands[high]["exposure_hours"],
                              sum(b[key] for b in bands[:high]), sum(b["exposure_hours"] for b in bands[:high]))
        ratio = finite(t["rate_ratio"])
        significant = bool(t["tested"] and t["p_value"] <= float(params["alpha"]))
        return {"events_high": bands[high][key], "hours_high": bands[high]["exposure_hours"],
                "events_other": sum(b[key] for b in bands[:high]),
                "hours_other": round(sum(b["exposure_hours"] for b in bands[:high]), 3),
                "rate_ratio": ratio, "p": finite(t["p_value"]), "significant": significant,
                "flagged": significant and bands[high][key] >= int(params["min_events"])
                and (ratio is None or ratio >= float(params["min_rate_ratio"]))}

    hazard_test, fault_test = test("hazards"), test("faults")
    hi = names[high]

    def said(t, zh, en):
        r, p = fmt_ratio(t["rate_ratio"]), fmt_p(t["p"])
        if t["flagged"]:
            return f"高负荷（{hi}）时全厂{zh}为其他负荷的 {r} 倍 (p={p})，显著偏高", \
                f"plant-wide {en} at high load ({hi}) is {r}× the other loads (p={p}), significantly higher"
        if t["significant"]:
            return (f"高负荷（{hi}）时全厂{zh}为其他负荷的 {r} 倍 (p={p})，统计上显著，但低于 "
                    f"{params['min_rate_ratio']} 倍的关注阈值或事件过少",
                    f"plant-wide {en} at high load ({hi}) is {r}× the other loads (p={p}): significant, but below "
                    f"the {params['min_rate_ratio']}× threshold or too few events")
        return f"未发现高负荷（{hi}）时全厂{zh}显著升高（{r} 倍，p={p}）", \
            f"no significant rise of the plant-wide {en} at high load ({hi}) ({r}×, p={p})"

    hz_zh, hz_en = said(hazard_test, "隐患率", "hazard rate")
    ft_zh, ft_en = said(fault_test, "设备故障率", "equipment fault rate")
    result = {"window": {"from": win.start.isoformat(), "to": win.end.isoformat()},
              "method": "plant-wide hazards (and, apart, equipment faults) per 1,000 running hours by load band; "
                        "exact one-sided conditional Poisson test of the high band against the other bands at "
                        f"alpha={params['alpha']}; flag needs ≥{params['min_events']} high-band hazards and rate "
                        f"ratio ≥{params['min_rate_ratio']}",
              "exposure_unit": "running hours", "rate_unit": "per 1,000 running hours", "bands": bands,
              "hazard_test": hazard_test,
              "fault_test": fault_test, "hazards_unassigned": unassigned,
              "verdict": f"{hz_zh}；{ft_zh}（故障另行统计，不计入隐患）",
              "verdict_en": f"{hz_en[0].upper()}{hz_en[1:]}; {ft_en} (faults counted apart from hazards)"}
    out = Outcome(result, inputs=[("runs", code, int(b), round(float(hours or 0), 6), int(faults or 0), n)
                                  for code, b, hours, faults, n in sums]
                  + [("hazard", h.ref, h.equipment_code, h.found_at.isoformat(),
                      h.started_at.isoformat() if h.started_at else None) for h in hazards])
    if hazard_test["flagged"]:
        evidence = {k: hazard_test[k] for k in ("events_high", "hours_high", "events_other", "hours_other",
                                                "rate_ratio", "p")}
        out.focus_items.append({
            "target_kind": "plant", "target": f"load{hi}", "area": None, "department": None, "evidence": evidence,
            "reason": f"全厂高负荷（{hi}）运行时隐患率为其他负荷的 {fmt_ratio(hazard_test['rate_ratio'])} 倍"
                      f"（p={fmt_p(hazard_test['p'])}），高负荷时段应加密监督检查。"})
    return out


def contractor_hotspots(s, period: Period, params: dict) -> Outcome:
    """Violations per 1,000 worked person-hours per contractor against the rest of the plant's work.

    Contractors are their own family: tested among 24 shift crews as "teams" a
    contractor paid the Holm price of 30 groups, and its finding went wherever it
    worked most. Here Holm runs over the contractors only, the reference is all
    other work (own staff and the other contractors), and a flagged contractor is
    pushed to the department that manages it (the contractor master, kind
    ``contractor``; without a master row, the department it worked most hours for).
    """
    win = window(period, int(params["window_months"]))
    work_in = (WorkRecord.started_at >= win.start, WorkRecord.started_at < win.end)
    viol_in = (Violation.at >= win.start, Violation.at < win.end)
    hours, depts, areas = Counter(), defaultdict(Counter), defaultdict(Counter)
    own_hours = 0.0
    rows_read = []
    for c, area, dept, h, n in s.execute(select(WorkRecord.contractor, WorkRecord.area, WorkRecord.department,
                                                func.sum(WorkRecord.hours), func.count()).where(*work_in)
                                         .group_by(WorkRecord.contractor, WorkRecord.area, WorkRecord.department)
                                         .order_by(WorkRecord.contractor, WorkRecord.area, WorkRecord.department)):
        h = float(h or 0.0)
        rows_read.append(("work", c, area, dept, round(h, 6), n))
        if c:
            hours[c] += h
            areas[c][area] += h
            if dept:
                depts[c][dept] += h
        else:
            own_hours += h
    violations, own_violations = Counter(), 0
    for c, n in s.execute(select(Violation.contractor, func.count()).where(*viol_in)
                          .group_by(Violation.contractor).order_by(Violation.contractor)):
        rows_read.append(("violations", c, n))
        if c:
            violations[c] += n
        else:
            own_violations += n
    hazards = Counter()
    for c, n in s.execute(select(Hazard.contractor, func.count())
                          .where(Hazard.found_at >= win.start, Hazard.found_at < win.end,
                                 Hazard.contractor.is_not(None)).group_by(Hazard.contractor)
                          .order_by(Hazard.contractor)):
        rows_read.append(("hazards", c, n))
        hazards[c] += n
    own = "\x00own"  # the plant's own staff: part of the reference, never a group to flag
    rows = rate_family({**violations, own: own_violations}, {**hours, own: own_hours}, params)
    # Holm over the contractors only: re-run the correction without the own-staff test
    tests = {r["key"]: r["p"] for r in rows if r["tested"] and r["key"] != own}
    significant = holm(tests, float(params["alpha"]))
    master = {c.code: c for c in s.scalars(select(Contractor).where(Contractor.code.in_(sorted(hours | violations))))}
    by = []
    for r in rows:
        if r["key"] == own:
            continue
        c = r["key"]
        flagged = bool(c in significant and r["events"] >= int(params["min_events"])
                       and (r["rate_ratio"] is None or r["rate_ratio"] >= float(params["min_rate_ratio"])))
        m = master.get(c)
        dept, src = (m.managing_department, "contractor") if m else (_top(depts[c]), "hours" if depts[c] else None)
        by.append({"contractor": c, "name": m.name if m else None, "violations": r["events"],
                   "hazards": hazards.get(c, 0), "exposure": r["exposure"], "rate": r["rate"],
                   "rate_ratio": r["rate_ratio"], "p": r["p"], "flagged": flagged, "department": dept,
                   "department_from": src, "top_area": _top(areas[c])})
    total_h = own_hours + sum(hours.values())
    total_v = own_violations + sum(violations.values())
    result = {"window": {"from": win.start.isoformat(), "to": win.end.isoformat()},
              "method": "violations per 1,000 worked person-hours; exact one-sided conditional Poisson test of each "
                        "contractor against all other work (own staff included), Holm-corrected over the "
                        f"contractors at alpha={params['alpha']}; flag needs ≥{params['min_events']} violations and "
                        f"rate ratio ≥{params['min_rate_ratio']}",
              "exposure_unit": "person-hours", "rate_unit": "violations per 1,000 person-hours",
              "plant_rate": finite(1000 * total_v / total_h) if total_h else None,
              "own_staff": {"violations": own_violations, "exposure": round(own_hours, 3),
                            "rate": finite(1000 * own_violations / own_hours) if own_hours else None},
              "by_contractor": by}
    fam = [{**r, "key": r["contractor"], "events": r["violations"], "tested": r["p"] is not None,
            "significant": r["contractor"] in significant} for r in by]
    result["verdict"], result["verdict_en"] = _family_verdict(fam, "承包商", "contractor", "违章率", "violation rate",
                                                              params, "全厂其余作业", "the rest of the plant's work")
    if not by:
        result["verdict"], result["verdict_en"] = "本期没有承包商作业记录", "No contractor work in the window"
    out = Outcome(result, inputs=rows_read)
    for r in by:
        if not r["flagged"]:
            continue
        evidence = {"violations": r["violations"], "person_hours": r["exposure"], "rate_per_1000h": r["rate"],
                    "rate_ratio": r["rate_ratio"], "p_value": r["p"], "department_from": r["department_from"]}
        out.recommendations.append({
            "kind": "contractor_management", "target_kind": "contractor", "target": r["contractor"],
            "department": r["department"], "area": r["top_area"], "evidence": evidence,
            "text": f"承包商 {r['name'] or r['contractor']} 违章率 {r['rate']:.2f} 次/千工时，为全厂其余作业的 "
                    f"{fmt_ratio(r['rate_ratio'])} 倍（p={fmt_p(r['p'])}）：请约谈承包商，核查其人员资质与培训，"
                    f"加强作业现场监护。"})
        out.focus_items.append({
            "target_kind": "contractor", "target": r["contractor"], "area": r["top_area"],
            "department": r["department"], "evidence": evidence,
            "reason": f"违章率偏高的承包商 {r['contractor']}：{r['rate']:.2f} 次/千工时，下一期监督计划应检查其作业现场。"})
    return out


FUNCTIONS = {"equipment_load": equipment_load, "violation_hotspots": violation_hotspots,
             "supervision": supervision, "permits": permits, "area_hotspots": area_hotspots,
             "plant_load": plant_load, "contractor_hotspots": contractor_hotspots}
