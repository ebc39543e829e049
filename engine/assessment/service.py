"""Integrated assessment (综合考核) per department or person per period.

Indicators (each with numerator, denominator and the records behind it):

* ``plan_completion`` — Σ actual output ÷ Σ planned output of the MES work
  records started in the period (score: the ratio, at most 1);
* ``on_time_rectification`` — hazards closed on time ÷ hazards due in the period
  (deadline inside the period; "closed on time" = closed_at ≤ deadline);
* ``violation_rate`` — violations per 1,000 worked person-hours (score 1 at 0,
  falling linearly to 0 at ``violation_rate_zero``);
* ``escalations`` — escalations received at each level (三级督办); points per
  level, score 1 at 0 points falling to 0 at ``escalation_zero``;
* ``supervision_cooperation`` — tasks completed before their due time ÷ tasks
  due in the period (cancelled tasks excluded);
* ``alert_response`` — alerts (四色预警) owned by the department and raised in
  the period whose handling started (acknowledged or closed) by their
  deadline ÷ those alerts; department level only (the hub keeps the owning
  department, not the person), alerts without a deadline are not scored.

Total = Σ weight × score ÷ Σ weight over the indicators that have data
(an indicator without a denominator is shown as ``null`` and left out, so a
department is not rewarded or punished for what it does not do), × 100.
Department level attributes records by their department; person level by
user name (hazard ``rectified_by``, task ``completed_by``/``assignee``,
escalation ``closed_by``) or hub person code (violations, work records) mapped
to a user through ``hub_people.username``.
"""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select

from engine.assessment.config import AssessmentConfig
from engine.db import Database
from engine.errors import Invalid, NotFound
from engine.hub.models import Alert, Escalation, Hazard, Person, Violation, WorkRecord
from engine.models import TaskRecord, utcnow
from engine.periods import parse_period

LEVELS = ("department", "person")
INDICATORS = ("plan_completion", "on_time_rectification", "violation_rate", "escalations", "supervision_cooperation",
              "alert_response")


class _Acc:
    def __init__(self):
        self.planned = self.actual = 0.0
        self.plan_refs = []
        self.due = self.on_time = 0
        self.hazard_refs = []
        self.hours = 0.0
        self.violations = 0
        self.violation_refs = []
        self.esc = {1: 0, 2: 0, 3: 0}
        self.esc_refs = []
        self.tasks_due = self.tasks_before = 0
        self.task_refs = []
        self.alerts = self.alerts_in_time = 0
        self.alert_refs = []


class AssessmentService:
    """Computes the assessment from hub records and task rows; nothing is estimated."""

    def __init__(self, db: Database, config: AssessmentConfig | None = None):
        self.db = db
        self.config = config or AssessmentConfig()

    def _collect(self, period, level: str) -> dict[str, _Acc]:
        acc: dict[str, _Acc] = defaultdict(_Acc)
        person = level == "person"
        with self.db.session(write=False) as s:
            code_to_user = {c: u for c, u in s.execute(select(Person.code, Person.username)
                                                       .where(Person.username.is_not(None)))}

            def subject_of_code(code):
                return code_to_user.get(code) if code else None

            for r in s.execute(select(WorkRecord.ref, WorkRecord.department, WorkRecord.person_code,
                                      WorkRecord.hours, WorkRecord.planned_output, WorkRecord.actual_output)
                               .where(WorkRecord.started_at >= period.start, WorkRecord.started_at < period.end)):
                subj = subject_of_code(r.person_code) if person else r.department
                if not subj:
                    continue
                a = acc[subj]
                a.hours += r.hours or 0.0
                if r.planned_output:
                    a.planned += r.planned_output
                    a.actual += r.actual_output or 0.0
                    a.plan_refs.append({"kind": "work_record", "ref": r.ref, "planned": r.planned_output,
                                        "actual": r.actual_output})
            for h in s.execute(select(Hazard.ref, Hazard.department, Hazard.rectified_by, Hazard.deadline,
                                      Hazard.closed_at)
                               .where(Hazard.deadline >= period.start, Hazard.deadline < period.end)):
                subj = h.rectified_by if person else h.department
                if not subj:
                    continue
                ok = h.closed_at is not None and h.closed_at <= h.deadline
                a = acc[subj]
                a.due += 1
                a.on_time += int(ok)
                a.hazard_refs.append({"kind": "hazard", "ref": h.ref, "deadline": h.deadline.isoformat(),
                                      "closed_at": h.closed_at.isoformat() if h.closed_at else None, "on_time": ok})
            for v in s.execute(select(Violation.ref, Violation.department, Violation.person_code, Violation.at)
                               .where(Violation.at >= period.start, Violation.at < period.end)):
                subj = subject_of_code(v.person_code) if person else v.department
                if not subj:
                    continue
                acc[subj].violations += 1
                acc[subj].violation_refs.append({"kind": "violation", "ref": v.ref, "at": v.at.isoformat()})
            for e in s.execute(select(Escalation.ref, Escalation.department, Escalation.closed_by, Escalation.level,
                                      Escalation.received_at)
                               .where(Escalation.received_at >= period.start, Escalation.received_at < period.end)):
                subj = e.closed_by if person else e.department
                if not subj or e.level not in (1, 2, 3):
                    continue
                acc[subj].esc[e.level] += 1
                acc[subj].esc_refs.append({"kind": "escalation", "ref": e.ref, "level": e.level,
                                           "received_at": e.received_at.isoformat()})
            for t in s.execute(select(TaskRecord.id, TaskRecord.department, TaskRecord.completed_by,
                                      TaskRecord.assignee, TaskRecord.state, TaskRecord.due_at,
                                      TaskRecord.completed_at, TaskRecord.name, TaskRecord.process_key)
                               .where(TaskRecord.due_at >= period.start, TaskRecord.due_at < period.end,
                                      TaskRecord.state != "cancelled")):
                subj = (t.completed_by or t.assignee) if person else t.department
                if not subj:
                    continue
                ok = t.state == "completed" and t.completed_at is not None and t.completed_at <= t.due_at
                a = acc[subj]
                a.tasks_due += 1
                a.tasks_before += int(ok)
                a.task_refs.append({"kind": "task", "ref": t.id, "name": t.name, "process_key": t.process_key,
                                    "due_at": t.due_at.isoformat(),
                                    "completed_at": t.completed_at.isoformat() if t.completed_at else None,
                                    "before_due": ok})
            if not person:
                now = utcnow()
                for al in s.execute(select(Alert.ref, Alert.owner_department, Alert.grade, Alert.raised_at,
                                           Alert.deadline_at, Alert.handled_at)
                                    .where(Alert.raised_at >= period.start, Alert.raised_at < period.end,
                                           Alert.deadline_at.is_not(None), Alert.owner_department.is_not(None))):
                    if al.handled_at is None and al.deadline_at > now:
                        continue  # still within its deadline: not yet late, not yet in time
                    ok = al.handled_at is not None and al.handled_at <= al.deadline_at
                    a = acc[al.owner_department]
                    a.alerts += 1
                    a.alerts_in_time += int(ok)
                    a.alert_refs.append({"kind": "alert", "ref": al.ref, "grade": al.grade,
                                         "deadline_at": al.deadline_at.isoformat(),
                                         "handled_at": al.handled_at.isoformat() if al.handled_at else None,
                                         "in_time": ok})
        return acc

    def _indicators(self, a: _Acc) -> dict:
        c = self.config
        out = {}
        out["plan_completion"] = _ind(a.actual / a.planned if a.planned else None, a.actual, a.planned,
                                      lambda v: min(v, 1.0), "actual ÷ planned output (MES)", a.plan_refs)
        out["on_time_rectification"] = _ind(a.on_time / a.due if a.due else None, a.on_time, a.due, lambda v: v,
                                            "hazards closed on time ÷ hazards due in period", a.hazard_refs)
        rate = 1000 * a.violations / a.hours if a.hours else None
        out["violation_rate"] = _ind(rate, a.violations, a.hours, lambda v: max(0.0, 1 - v / c.violation_rate_zero),
                                     "violations per 1,000 worked person-hours", a.violation_refs)
        points = sum(c.escalation_points[str(k)] * n for k, n in a.esc.items())
        has_activity = a.due or a.tasks_due or a.hours or a.esc_refs
        esc = _ind(points if has_activity else None, points, None, lambda v: max(0.0, 1 - v / c.escalation_zero),
                   "escalation points (level 1/2/3 × " + "/".join(f"{c.escalation_points[k]:g}" for k in "123") + ")",
                   a.esc_refs)
        esc["by_level"] = {str(k): n for k, n in a.esc.items()}
        out["escalations"] = esc
        out["supervision_cooperation"] = _ind(a.tasks_before / a.tasks_due if a.tasks_due else None, a.tasks_before,
                                              a.tasks_due, lambda v: v, "tasks completed before due ÷ tasks due",
                                              a.task_refs)
        out["alert_response"] = _ind(a.alerts_in_time / a.alerts if a.alerts else None, a.alerts_in_time, a.alerts,
                                     lambda v: v, "alerts handled by their deadline ÷ alerts due", a.alert_refs)
        out["output"] = {"value": round(a.actual, 3), "note": "Σ actual output from MES (reported, not scored)"}
        return out

    def assess(self, period_text: str, level: str = "department") -> dict:
        """Scores, ranking and the numbers behind them for every department (or person) in the period."""
        period = parse_period(period_text)
        if level not in LEVELS:
            raise Invalid("invalid level", errors=[{"field": "level", "message": f"one of {list(LEVELS)}"}])
        acc = self._collect(period, level)
        weights = self.config.weights
        rows = []
        for subj in sorted(acc):
            ind = self._indicators(acc[subj])
            used = {k: weights[k] for k in INDICATORS if ind[k]["score"] is not None and weights.get(k, 0) > 0}
            if not used:
                continue
            total = 100 * sum(w * ind[k]["score"] for k, w in used.items()) / sum(used.values())
            for k in INDICATORS:
                ind[k]["weight"] = weights.get(k, 0)
                ind[k]["records"] = (f"/api/v1/assessments/records?period={period.label}&level={level}"
                                     f"&subject={subj}&indicator={k}")
                ind[k].pop("_refs", None)
            rows.append({"subject": subj, "score": round(total, 2), "indicators": ind,
                         "weights_used": used})
        rows.sort(key=lambda r: (-r["score"], r["subject"]))
        rank, last = 0, None
        for i, r in enumerate(rows, start=1):
            if r["score"] != last:
                rank, last = i, r["score"]
            r["rank"] = rank
        return {"period": period.label, "from": period.start.isoformat(), "to": period.end.isoformat(),
                "level": level, "weights": weights,
                "scales": {"violation_rate_zero": self.config.violation_rate_zero,
                           "escalation_points": self.config.escalation_points,
                           "escalation_zero": self.config.escalation_zero},
                "method": "score = 100 × Σ weight·indicator score ÷ Σ weight over indicators with data",
                "items": rows}

    def records(self, period_text: str, level: str, subject: str, indicator: str) -> dict:
        """The records behind one indicator of one subject (traceability)."""
        period = parse_period(period_text)
        errors = []
        if level not in LEVELS:
            errors.append({"field": "level", "message": f"one of {list(LEVELS)}"})
        if indicator not in INDICATORS:
            errors.append({"field": "indicator", "message": f"one of {list(INDICATORS)}"})
        if not subject:
            errors.append({"field": "subject", "message": "required"})
        if errors:
            raise Invalid("invalid trace request", errors=errors)
        acc = self._collect(period, level)
        if subject not in acc:
            raise NotFound(f"no records of {level} '{subject}' in {period.label}")
        ind = self._indicators(acc[subject])[indicator]
        return {"period": period.label, "level": level, "subject": subject, "indicator": indicator,
                "value": ind["value"], "numerator": ind["numerator"], "denominator": ind["denominator"],
                "definition": ind["definition"], "records": ind["_refs"]}


def _ind(value, num, den, score_fn, definition, refs) -> dict:
    return {"value": None if value is None else round(value, 4),
            "score": None if value is None else round(score_fn(value), 4),
            "numerator": round(num, 3) if isinstance(num, float) else num,
            "denominator": round(den, 3) if isinstance(den, float) else den,
            "definition": definition, "_refs": refs}
