"""Generated plant data for tests, benchmarks and demos (deterministic for a seed).

A year (or ``days``) of a plant: equipment with daily running records (load
%, faults), hazards (mostly tied to equipment and the load it ran at),
people, MES work orders, permits, production shifts with plan and output,
violations, inspections, production stops, alerts, escalations, material flows
and risk points. Effects can be *planted* so an analysis has a known answer:

* ``planted_load``: equipment codes whose fault and hazard rate is multiplied
  by ``load_multiplier`` when running at or above ``high_load`` %; they run at
  or above ``high_load`` on ``planted_high_share`` of their days (an ordinary
  working point, mean load about 80 %), because an effect of high load that
  the equipment is rarely exposed to is not in the data at all;
* ``planted_team``: a team whose violation rate per worked hour is multiplied
  by ``team_multiplier``;
* ``planted_area``: an area whose hazard rate is multiplied by ``area_multiplier``
  (equipment hazards and the others alike);
* ``load_effect``: the plant-wide hazard rate of every machine is multiplied by it
  on the days the machine runs at or above ``high_load`` (faults are not: they are
  load-independent noise for the hazard question);
* ``planted_contractor``: one of ``contractors`` contractors (codes ``C01``…, each
  managed by a department, doing ``contractor_share`` of the work orders and
  permits) whose violation rate per worked hour is multiplied by
  ``contractor_multiplier``.

``balanced`` spreads equipment evenly over the areas and the production shifts
over each department's areas, so that hazards per worked hour are the same in
every area unless one is planted (drawn at random, an area with more machines
has more hazards per worked hour: a true difference the area analysis rightly
finds, which a null plant must not contain). :data:`REALISTIC` holds the volumes
of the plant of issue 15 (six areas, ~600 hazards and 24 shift crews a year).

Without plants every rate is homogeneous, so a correct analysis flags nothing.
"""
from __future__ import annotations

import math
import random
from statistics import NormalDist
from datetime import datetime, timedelta, timezone

POSTS = ["operator", "welder", "electrician", "fitter", "crane_operator", "warehouse_keeper", "lab_analyst", "driver"]
DEPARTMENTS = ["workshop-1", "workshop-2", "workshop-3", "storage", "maintenance"]
PERMIT_KINDS = {"hot_work": ["special", "first", "second"], "confined_space": [None], "work_at_height": ["I", "II", "III", "IV"],
                "lifting": ["first", "second", "third"], "temporary_power": [None], "blind_plate": [None]}
LOAD_SD = 14.0  # day-to-day spread of an equipment's load around its working point (%)
# A mid-size plant a year (issue 15): ~176 hazards in an area with twice the rate against ~428 in the
# other five; 24 shift crews; 6 contractors doing 30 % of the work orders and permits.
REALISTIC = dict(days=365, equipment=30, people=600, work_records=20_000, hazards=520, areas=6, teams=24,
                 violation_rate=0.001, contractors=6, contractor_share=0.3, balanced=True)
SUSPENSION_CAUSES = ["gas_alarm", "monitor_left", "weather", "simops_conflict", "equipment_fault"]


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, int(round(rng.gauss(lam, math.sqrt(lam)))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def generate(*, seed: int = 1, start: datetime | None = None, days: int = 365, equipment: int = 200,
             people: int = 2000, work_records: int = 50_000, hazards: int = 5_000, areas: int = 10, teams: int = 40,
             high_load: float = 85.0, planted_load: tuple = (), load_multiplier: float = 4.0,
             planted_high_share: float = 0.35,
             planted_team: str | None = None, team_multiplier: float = 4.0, violation_rate: float = 0.004,
             fault_share: float = 1.0, planted_area: str | None = None, area_multiplier: float = 2.0,
             load_effect: float = 1.0, contractors: int = 0, contractor_share: float = 0.3,
             planted_contractor: str | None = None, contractor_multiplier: float = 2.5,
             balanced: bool = False) -> dict[str, list[dict]]:
    """Rows per hub kind (dicts ready for :meth:`HubService.upsert`)."""
    rng = random.Random(seed)
    start = start or datetime(2026, 1, 1, tzinfo=timezone.utc)
    area_codes = [f"area-{i:02d}" for i in range(1, areas + 1)]
    area_dept = {a: DEPARTMENTS[i % len(DEPARTMENTS)] for i, a in enumerate(area_codes)}
    team_codes = [f"T{i:02d}" for i in range(1, teams + 1)]
    team_area = {t: area_codes[i % len(area_codes)] for i, t in enumerate(team_codes)}
    out: dict[str, list[dict]] = {k: [] for k in ("equipment", "equipment_run", "hazard", "person", "training",
                                                  "work_record", "violation", "inspection", "production_stop",
                                                  "alert", "escalation", "material_flow", "risk_point",
                                                  "contractor")}
    contractor_codes = [f"C{i:02d}" for i in range(1, contractors + 1)]
    for i, c in enumerate(contractor_codes):
        # managed by a department that is not the one whose areas it mostly works in: pushes must follow
        # the master, not the hours
        out["contractor"].append({"code": c, "name": f"承包商 {c}",
                                  "managing_department": DEPARTMENTS[(i + 3) % len(DEPARTMENTS)]})
    # ---------------------------------------------------------------- equipment and running records
    eq_codes = [f"EQ-{i:04d}" for i in range(1, equipment + 1)]
    eq_area = {}
    for n, code in enumerate(eq_codes):
        area = area_codes[n % len(area_codes)] if balanced else rng.choice(area_codes)
        eq_area[code] = area
        out["equipment"].append({"code": code, "name": f"设备 {code}", "area": area,
                                 "type": rng.choice(["pump", "compressor", "reactor", "tank", "heat_exchanger"]),
                                 "rated_load": float(rng.choice([45, 120, 1200, 5000])), "rated_unit": "unit",
                                 "department": area_dept[area], "status": "running"})
    equipment_hazards = int(hazards * 0.7)
    rate = equipment_hazards / max(equipment * days * 24, 1)  # per running hour, baseline
    hazard_no = 0

    def hazard_row(found_at, area, code=None):
        nonlocal hazard_no
        hazard_no += 1
        deadline = found_at + timedelta(days=rng.choice([3, 5, 7, 14]))
        r = rng.random()
        closed = None if r < 0.05 else (deadline - timedelta(hours=rng.uniform(1, 48)) if r < 0.87
                                        else deadline + timedelta(hours=rng.uniform(1, 96)))
        return {"ref": f"HZ-{seed}-{hazard_no:06d}", "found_at": found_at.isoformat(), "area": area,
                "equipment_code": code, "level": "major" if rng.random() < 0.05 else "general",
                "department": area_dept[area], "description": "generated", "deadline": deadline.isoformat(),
                "closed_at": closed.isoformat() if closed else None, "status": "closed" if closed else "open",
                "rectified_by": None}

    for code in eq_codes:
        mean = rng.uniform(55, 80)
        planted = code in planted_load
        if planted:
            # Drawn like the others, the planted machine ran at high load on 1.6 %-36 % of its days by
            # chance (seed 7: 14 days in the 3-month window, 4 events), too few for any test to find.
            mean = high_load - LOAD_SD * NormalDist().inv_cdf(1 - planted_high_share)
        for d in range(days):
            day = start + timedelta(days=d)
            load = min(max(rng.gauss(mean, LOAD_SD), 0.0), 120.0)
            hours = 24.0
            mult = load_multiplier if planted and load >= high_load else 1.0
            faults = _poisson(rng, rate * fault_share * hours * mult)
            out["equipment_run"].append({"equipment_code": code, "started_at": day.isoformat(), "hours": hours,
                                         "load_pct": round(load, 2), "faults": faults,
                                         "maintenance": rng.random() < 0.01})
            hz = mult * (load_effect if load >= high_load else 1.0) * \
                (area_multiplier if eq_area[code] == planted_area else 1.0)
            for _ in range(_poisson(rng, rate * hours * hz)):
                out["hazard"].append(hazard_row(day + timedelta(hours=rng.uniform(0, 23.9)), eq_area[code], code))
    for _ in range(hazards - equipment_hazards):
        out["hazard"].append(hazard_row(start + timedelta(seconds=rng.uniform(0, days * 86400)),
                                        rng.choice(area_codes)))
    if planted_area:
        for _ in range(_poisson(rng, (hazards - equipment_hazards) / len(area_codes) * (area_multiplier - 1))):
            out["hazard"].append(hazard_row(start + timedelta(seconds=rng.uniform(0, days * 86400)), planted_area))
    # ---------------------------------------------------------------- people
    team_people: dict[str, list[str]] = {t: [] for t in team_codes}
    demo = ["worker1", "leader1", "prod1", "prod2", "maint1"]
    for i in range(1, people + 1):
        code = f"P{i:05d}"
        team = team_codes[i % len(team_codes)]
        team_people[team].append(code)
        out["person"].append({"code": code, "name": f"员工{i}", "username": demo[i - 1] if i <= len(demo) else None,
                              "department": area_dept[team_area[team]], "post": POSTS[i % len(POSTS)], "team": team,
                              "qualifications": ["特种作业证"] if i % 5 == 0 else []})
        done = start - timedelta(days=rng.randint(0, 700))
        out["training"].append({"person_code": code, "course": "三级安全教育", "completed_on": done.date().isoformat(),
                                "expires_on": (done + timedelta(days=730)).date().isoformat()})
    # ---------------------------------------------------------------- work: shifts, work orders, permits
    shifts = []
    for d in range(days):
        for dept in DEPARTMENTS:
            for s in range(3):
                shifts.append((d, dept, s))
    n_shift = min(len(shifts), work_records // 6)
    n_permit = work_records // 12
    n_orders = work_records - n_shift - n_permit
    for i, (d, dept, s) in enumerate(shifts[:n_shift]):
        t0 = start + timedelta(days=d, hours=8 * s)
        plan = round(rng.uniform(80, 120), 1)
        dept_areas = [a for a in area_codes if area_dept[a] == dept] or area_codes
        area = dept_areas[(d * 3 + s) % len(dept_areas)] if balanced else dept_areas[0]
        out["work_record"].append({"ref": f"SH-{seed}-{i:06d}", "source": "mes", "kind": "production_shift",
                                   "area": area, "department": dept,
                                   "started_at": t0.isoformat(), "ended_at": (t0 + timedelta(hours=8)).isoformat(),
                                   "workers": 1, "hours": 0.0, "planned_output": plan,
                                   "actual_output": round(plan * rng.uniform(0.85, 1.05), 1)})
    viol_no = 0

    def work(i, source, kind, grade=None):
        nonlocal viol_no
        team = rng.choice(team_codes)
        area = team_area[team] if rng.random() < 0.8 else rng.choice(area_codes)
        person = rng.choice(team_people[team]) if team_people[team] else None
        post = POSTS[int(person[1:]) % len(POSTS)] if person else None
        t0 = start + timedelta(seconds=rng.uniform(0, days * 86400 - 12 * 3600))
        dur = rng.uniform(2, 8)
        workers = rng.randint(2, 6)
        row = {"ref": f"{'PM' if source == 'permit' else 'WO'}-{seed}-{i:06d}", "source": source, "kind": kind,
               "grade": grade, "area": area, "department": area_dept[area], "team": team, "post": post,
               "person_code": person, "started_at": t0.isoformat(), "ended_at": (t0 + timedelta(hours=dur)).isoformat(),
               "workers": workers, "hours": round(dur * workers, 3)}
        if source == "permit":
            applied = t0 - timedelta(hours=rng.uniform(2, 30))
            row["applied_at"] = applied.isoformat()
            row["approved_at"] = (applied + timedelta(hours=rng.uniform(0.5, 1.5 if grade != "special" else 6))).isoformat()
            n = _poisson(rng, 0.15)
            row["suspensions"] = n
            row["suspension_causes"] = [rng.choice(SUSPENSION_CAUSES) for _ in range(n)]
        contractor = rng.choice(contractor_codes) if contractor_codes and rng.random() < contractor_share else None
        if contractor:
            row["contractor"] = contractor
        mult = team_multiplier if planted_team and team == planted_team else 1.0
        mult *= contractor_multiplier if planted_contractor and contractor == planted_contractor else 1.0
        for _ in range(_poisson(rng, violation_rate * row["hours"] * mult)):
            viol_no += 1
            out["violation"].append({"ref": f"VI-{seed}-{viol_no:06d}",
                                     "at": (t0 + timedelta(hours=rng.uniform(0, dur))).isoformat(),
                                     "person_code": person, "post": post, "team": team, "area": area,
                                     "contractor": contractor,
                                     "department": area_dept[area], "kind": rng.choice(["no_ppe", "no_permit",
                                                                                         "unsafe_act"]),
                                     "description": "generated"})
        return row

    for i in range(n_orders):
        out["work_record"].append(work(i, "mes", rng.choice(["maintenance", "repair", "inspection", "cleaning"])))
    for i in range(n_permit):
        kind = rng.choice(list(PERMIT_KINDS))
        out["work_record"].append(work(i, "permit", kind, rng.choice(PERMIT_KINDS[kind])))
    # ---------------------------------------------------------------- supervision side
    for i in range(max(days * 16, 1)):
        at = start + timedelta(seconds=rng.uniform(0, days * 86400))
        area = rng.choice(area_codes)
        found = rng.random() < 0.25 + 0.1 * (at - start).days / max(days, 1)
        out["inspection"].append({"ref": f"IN-{seed}-{i:06d}", "at": at.isoformat(), "area": area,
                                  "department": area_dept[area], "inspector": f"S{rng.randint(1, 20):02d}",
                                  "kind": rng.choice(["supervision_check", "round", "workshop", "plant"]),
                                  "found_issue": found, "findings": ["generated"] if found else []})
    for i in range(max(days, 1)):
        t0 = start + timedelta(seconds=rng.uniform(0, days * 86400))
        area = rng.choice(area_codes)
        out["production_stop"].append({"ref": f"ST-{seed}-{i:05d}", "area": area, "department": area_dept[area],
                                       "started_at": t0.isoformat(),
                                       "ended_at": (t0 + timedelta(hours=rng.uniform(0.5, 12))).isoformat(),
                                       "cause_kind": rng.choices(["safety", "equipment", "material", "planned",
                                                                  "other"], [4, 3, 1, 1, 1])[0], "cause": "generated"})
    for i in range(max(days * 3, 1)):
        t0 = start + timedelta(seconds=rng.uniform(0, days * 86400))
        area = rng.choice(area_codes)
        out["alert"].append({"ref": f"AL-{seed}-{i:05d}", "raised_at": t0.isoformat(), "area": area,
                             "grade": rng.choices(["red", "orange", "yellow", "blue"], [1, 3, 8, 12])[0],
                             "owner_department": area_dept[area],
                             "handled_at": (t0 + timedelta(minutes=rng.uniform(2, 90))).isoformat(),
                             "closed_at": (t0 + timedelta(hours=rng.uniform(1, 24))).isoformat(),
                             "disposal": "generated", "status": "closed"})
    for h in out["hazard"]:
        if h["closed_at"] and h["closed_at"] > h["deadline"] or h["closed_at"] is None:
            deadline = datetime.fromisoformat(h["deadline"])
            for level in (1, 2, 3)[: rng.randint(1, 3)]:
                out["escalation"].append({"ref": f"ES-{h['ref']}-{level}", "level": level,
                                          "department": h["department"], "duty_type": "hazard_rectification",
                                          "received_at": (deadline + timedelta(hours=24 * (level - 1) + 1)).isoformat()})
    for i in range(max(days * 5, 1)):
        out["material_flow"].append({"ref": f"MF-{seed}-{i:06d}", "material": rng.choice(["甲醇", "甲苯", "液氨", "氮气"]),
                                     "hazardous": True, "flow": rng.choice(["storage", "transport", "use"]),
                                     "quantity": round(rng.uniform(1, 50), 2), "unit": "t",
                                     "area": rng.choice(area_codes),
                                     "at": (start + timedelta(seconds=rng.uniform(0, days * 86400))).isoformat()})
    for i, code in enumerate(eq_codes[: min(300, len(eq_codes))]):
        out["risk_point"].append({"code": f"RP-{i:04d}", "name": f"风险点 {code}", "area": eq_area[code],
                                  "grade": rng.choice(["major", "significant", "general", "low"]),
                                  "equipment_code": code, "department": area_dept[eq_area[code]]})
    return out
