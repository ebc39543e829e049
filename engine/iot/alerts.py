"""Graded alerts: open, escalate, tell the processes, acknowledge, close with a disposal.

One open alert per (device, rule) — the ``open_key`` column is unique while the
alert is open and NULL once closed — so a condition that persists raises the
grade of its alert instead of opening new ones. A new alert starts the
``alert_response`` process with the message ``alert``; a red alert (and every
permit-pass breach while a permit is active in the area) is delivered as
a message to each live permit of the area the ``alarm_permit_suspension`` table concerns
(``gas_alarm`` to hot work, confined space, and temporary power and blinding in fire/explosion
areas; ``wind_alarm`` to lifting and work at height above the table's wind limit), which
interrupts the permits waiting for it.
"""
from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from engine.db import Database
from engine.errors import AnjianError, Conflict, Forbidden, Invalid, NotFound
from engine.hub.feed import mirror_alert
from engine.iot.evaluator import REFRESH_SECONDS, Finding
from engine.iot.models import Alert, AlertEvent
from engine.iot.permits import PermitWatch
from engine.iot.policy import AlertPolicy
from engine.iot.rules import GRADE_RANK, RuleSet
from engine.iot.suspension import AlarmSuspension
from engine.models import Area, utcnow
from engine.principal import SYSTEM, Principal

log = logging.getLogger(__name__)

HANDLER_ROLES = frozenset({"supervision", "production", "maintenance", "emergency", "team_leader",
                           "department_head", "plant_leader", "admin"})
STATUSES = ("open", "acknowledged", "closed")


def alert_view(a: Alert, events: list[AlertEvent] | None = None) -> dict:
    """An alert as the API shows it."""
    out = {"id": a.id, "grade": a.grade, "status": a.status, "rule": a.rule, "kind": a.kind, "title": a.title,
           "device_id": a.device_id, "area": a.area, "level": a.level, "value": a.value, "peak_value": a.peak_value,
           "unit": a.unit, "owner_department": a.owner_department, "opened_at": _iso(a.opened_at),
           "last_seen_at": _iso(a.last_seen_at), "deadline_at": _iso(a.deadline_at), "escalations": a.escalations,
           "occurrences": a.occurrences, "process_status": a.process_status,
           "process_instance_id": a.process_instance_id, "acknowledged_at": _iso(a.acknowledged_at),
           "acknowledged_by": a.acknowledged_by, "closed_at": _iso(a.closed_at), "closed_by": a.closed_by,
           "disposal": a.disposal, "details": a.details or {}}
    if events is not None:
        out["events"] = [{"at": _iso(e.at), "actor": e.actor, "kind": e.kind, "data": e.data or {}} for e in events]
    return out


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt else None


class AlertService:
    """Turns findings into alerts and alerts into process messages."""

    def __init__(self, db: Database, messages, rules: RuleSet, policy: AlertPolicy,
                 suspension: AlarmSuspension | None = None):
        self.db = db
        self.messages = messages
        self.rules = rules
        self.policy = policy  # deadline and owner by grade: the alert_policy DMN
        # which live permits an alarm suspends, by alarm kind, permit type and area class: the
        # alarm_permit_suspension DMN
        self.suspension = suspension or AlarmSuspension(db)
        p = rules.permits
        self.permits = PermitWatch(db, p["process_key_like"], p.get("confined_space_like"))
        self._lock = threading.Lock()
        self._last_write: dict[str, tuple[float, str]] = {}  # open_key -> (monotonic, grade)
        self._notified: dict[int, set[int]] = {}  # alert id -> permit instance ids told
        self._area_departments: dict[str, str | None] | None = None
        self._area_classes: dict[str, str | None] | None = None
        # None: start alert_response in-line (embedded mode, the HTTP path). `anjian ingest` in production
        # sets it (defer_to_outbox): the process start becomes an urgent job, so that the thread that
        # evaluates readings delivers gas_alarm and goes on with the next batch.
        self.defer = None

    def reset(self) -> None:
        """Forget in-memory throttles (tests)."""
        with self._lock:
            self._last_write.clear()
            self._notified.clear()
            self._area_departments = None
            self._area_classes = None
        self.policy.invalidate()
        self.suspension.invalidate()

    # ------------------------------------------------------------------ findings → alerts

    def apply(self, findings: list[Finding]) -> list[dict]:
        """Open or escalate alerts for ``findings``; returns what was done (one entry per alert touched)."""
        if not findings:
            return []
        # the strongest finding per open alert in this batch
        best: dict[str, Finding] = {}
        for f in findings:
            cur = best.get(f.open_key)
            if cur is None or GRADE_RANK[f.grade] > GRADE_RANK[cur.grade] or (f.onset and not cur.onset):
                best[f.open_key] = f
        chosen = list(best.values())
        permit_areas = {f.area for f in chosen if f.needs_permit}
        active = self.permits.active(permit_areas) if permit_areas else {}
        confined_check = {f.area for f in chosen if f.kind == "threshold" and f.level == 2}
        confined = self.permits.confined_space_areas(confined_check) if confined_check else set()
        results = []
        for f in sorted(chosen, key=lambda f: -GRADE_RANK[f.grade]):  # red first: it stops work
            permits = active.get(f.area, [])
            if f.details.get("alarm_kind") == "wind":
                # wind concerns only the permits the table names at this speed (lifting, height)
                permits = [p for p in permits if self._suspends(p, f)]
            if f.needs_permit and not permits:
                continue
            if f.kind == "threshold" and f.level == 2 and f.area in confined:
                f.grade = self.rules.grades["level2_confined_space"]
                f.details["confined_space"] = True
            if permits:
                f.details["permits"] = [p["id"] for p in permits]
            r = self._upsert(f)
            if r is not None:
                r["permits"] = permits
                self._after(r, f, permits)
                results.append(r)
        return results

    def _upsert(self, f: Finding) -> dict | None:
        key = f.open_key
        now_mono = time.monotonic()
        with self._lock:
            last = self._last_write.get(key)
        # (a grouped data gap comes once per sweep and carries the current list of devices: never skipped)
        if last and not f.onset and now_mono - last[0] < REFRESH_SECONDS \
                and GRADE_RANK[f.grade] <= GRADE_RANK[last[1]] and not f.details.get("grouped"):
            return None
        for _ in range(5):
            try:
                return self._upsert_once(f, now_mono)
            except IntegrityError:
                continue  # another process opened it at the same moment: escalate that one
        raise Conflict(f"alert {key} kept changing; retry", retryable=True)

    def _upsert_once(self, f: Finding, now_mono: float) -> dict:
        now = utcnow()
        previous_grade = None
        if f.area_department is None:
            f.area_department = self._area_department(f.area)
        with self.db.session() as s:
            a = s.scalar(select(Alert).where(Alert.open_key == f.open_key))
            if a is None:
                grade = f.grade
                a = Alert(open_key=f.open_key, rule=f.rule, kind=f.kind, device_id=f.device_id, area=f.area,
                          grade=grade, level=f.level, status="open", title=f.title, value=f.value,
                          peak_value=f.value, unit=f.unit, owner_department=self._owner(grade, f),
                          opened_at=now, last_seen_at=f.ts, deadline_at=self._deadline(grade, now),
                          escalations=0, occurrences=1, details={**f.details, "first_reading_at": f.ts.isoformat()})
                s.add(a)
                s.flush()
                s.add(AlertEvent(alert_id=a.id, at=now, actor="iot", kind="opened",
                                 data={"grade": grade, "value": f.value, "title": f.title}))
                outcome = "opened"
            else:
                outcome = "updated"
                a.occurrences += 1
                if f.details.get("grouped"):  # a grouped data gap: keep the list of silent devices current
                    a.details = {**(a.details or {}), **f.details}
                a.last_seen_at = max(a.last_seen_at, f.ts) if a.last_seen_at else f.ts
                if f.value is not None:
                    a.value = f.value
                    if a.peak_value is None or _worse(f, a.peak_value):
                        a.peak_value = f.value
                if GRADE_RANK[f.grade] > GRADE_RANK[a.grade]:
                    previous = a.grade
                    a.grade = f.grade
                    a.level = max(a.level or 0, f.level or 0) or None
                    a.title = f.title
                    a.escalations += 1
                    a.owner_department = self._owner(f.grade, f)
                    deadline = self._deadline(f.grade, now)
                    a.deadline_at = min(a.deadline_at, deadline) if a.deadline_at else deadline
                    a.details = {**(a.details or {}), **f.details}
                    s.add(AlertEvent(alert_id=a.id, at=now, actor="iot", kind="escalated",
                                     data={"from": previous, "to": f.grade, "value": f.value, "title": f.title}))
                    outcome = "escalated"
                    previous_grade = previous
            if outcome != "updated":  # the hub keeps grade and times, not every reading: same transaction
                mirror_alert(s, a)
            view = {"id": a.id, "outcome": outcome, "grade": a.grade, "area": a.area, "device_id": a.device_id,
                    "rule": a.rule, "title": a.title, "value": a.value, "unit": a.unit,
                    "owner_department": a.owner_department, "deadline_at": _iso(a.deadline_at),
                    "opened_at": _iso(a.opened_at), "kind": a.kind, "previous_grade": previous_grade,
                    "area_department": f.area_department}
        with self._lock:
            self._last_write[f.open_key] = (now_mono, view["grade"])
        return view

    def _after(self, r: dict, f: Finding, permits: list[dict]) -> None:
        """Messages after the alert row is committed: gas_alarm first (it stops work), then the process."""
        if r["grade"] == "red":
            if len(self._notified) > 10_000:  # alerts closed by other processes are never popped here
                self._notified.clear()
            told = self._notified.setdefault(r["id"], set())
            fresh = {p["id"] for p in permits} - told
            if r["outcome"] in ("opened", "escalated") or fresh:
                self._suspend_permits(r, f, permits)
                told.update(p["id"] for p in permits)
        if r["outcome"] in ("opened", "escalated") and self.defer is not None:
            # production ingest: the response process is started by an urgent worker, off the alarm path
            self.defer("start" if r["outcome"] == "opened" else "escalate", r)
        elif r["outcome"] == "opened":
            self._start_response(r)
        elif r["outcome"] == "escalated":
            self._tell_escalation(r)

    def run_deferred(self, action: str, r: dict) -> None:
        """Start the alert's response process (``start``) or tell it of an escalation (``escalate``).

        What :meth:`_after` does in-line unless ``defer`` is set; an urgent worker runs it from
        the outbox (worker/jobs.py, kind ``alert_process``).
        """
        if action == "start":
            self._start_response(r)
        elif action == "escalate":
            self._tell_escalation(r)
        else:
            raise ValueError(f"unknown alert action {action!r}")

    def wind_limit(self) -> float | None:
        """The lowest wind speed (m/s) at which the alarm_permit_suspension table stops any permit."""
        from engine.iot.suspension import AREA_CLASSES, permit_kinds
        return self.suspension.lowest_limit("wind", permit_kinds(), AREA_CLASSES)

    def _suspends(self, permit: dict, f: Finding) -> str | None:
        """The message the alarm of ``f`` sends ``permit`` (the table's answer; None: not concerned)."""
        from engine.iot.suspension import permit_kind
        kind = permit_kind(permit["process_key"])
        alarm_kind = f.details.get("alarm_kind") or "gas"
        if kind is None:
            # a permit process outside GB 30871's eight (a plant's own): gas alarms reach it as before
            return self.rules.permits["message"] if alarm_kind == "gas" else None
        message, limit = self.suspension.decide(alarm_kind, kind, self._area_class(f.area))
        if message and limit and (f.value is None or f.value < limit):
            return None
        return message

    def _suspend_permits(self, r: dict, f: Finding, permits: list[dict]) -> None:
        """Tell each live permit of the area the table concerns (gas_alarm, wind_alarm, …), only them."""
        targets: dict[str, list[int]] = {}
        for p in permits:
            message = self._suspends(p, f)
            if message:
                targets.setdefault(message, []).append(p["id"])
        payload = {"area": r["area"], "reason": r["title"], "alert_id": r["id"], "alert_grade": r["grade"],
                   "device_id": r["device_id"], "reading_value": r["value"], "reading_unit": r["unit"]}
        for name, ids in sorted(targets.items()):
            data = self._deliver(name, correlation={"area": r["area"]}, payload=payload, instances=ids)
            self._event(r["id"], name, {"message": name, **data})

    def _area_class(self, area: str) -> str | None:
        if self._area_classes is None or area not in self._area_classes:
            with self.db.session(write=False) as s:
                self._area_classes = {a.code: a.classification for a in s.scalars(select(Area))}
        return self._area_classes.get(area)

    def _start_response(self, r: dict) -> None:
        name = self.rules.message("alert")
        payload = {"alert_id": r["id"], "grade": r["grade"], "area": r["area"], "device": r["device_id"],
                   "rule": r["rule"], "title": r["title"], "value": r["value"], "unit": r["unit"],
                   # department: whose production people handle it (the area's); owner: accountable by grade
                   "owner_department": r["owner_department"], "area_department": r["area_department"],
                   "department": r["area_department"] or r["owner_department"],
                   "deadline": r["deadline_at"], "opened_at": r["opened_at"],
                   # the names bpmn/alert_response.bpmn reads
                   "alert_grade": r["grade"], "description": r["title"],
                   "reading": {"device": r["device_id"], "value": r["value"], "unit": r["unit"]}}
        # The scope of the response process comes from the correlation values (its declared start
        # variables); the payload lands in the start event's message variable (bpmn/README.md).
        scope = {k: v for k, v in (("area", r["area"]), ("department", payload["department"])) if v}
        data = self._deliver(name, correlation=scope, business_key=f"alert-{r['id']}", payload=payload,
                             message_id=f"alert-{r['id']}")
        started = [i for i in data.get("instances", []) if i.get("started")]
        # started | no_process (no deployed process starts on the message) | failed
        status = "started" if started else ("no_process" if data["status"] == "nothing_waiting" else data["status"])
        with self.db.session() as s:
            s.execute(update(Alert).where(Alert.id == r["id"]).values(
                process_status=status, process_instance_id=started[0]["id"] if started else None))
            s.add(AlertEvent(alert_id=r["id"], at=utcnow(), actor="iot", kind="process", data={"message": name, **data}))

    def _tell_escalation(self, r: dict) -> None:
        name = self.rules.message("escalated")
        data = self._deliver(name, business_key=f"alert-{r['id']}",
                             payload={"alert_id": r["id"], "grade": r["grade"], "escalated_grade": r["grade"],
                                      "previous_grade": r["previous_grade"], "deadline": r["deadline_at"],
                                      "owner_department": r["owner_department"], "escalated_title": r["title"],
                                      "reading": {"device": r["device_id"], "value": r["value"], "unit": r["unit"]}})
        self._event(r["id"], "escalation_message", {"message": name, **data})

    def _deliver(self, name, *, correlation=None, business_key=None, payload=None, message_id=None,
                 instances=None) -> dict:
        """Deliver a message; never raises: the outcome is recorded on the alert."""
        try:
            res = self.messages.deliver(SYSTEM, name, correlation=correlation, business_key=business_key,
                                        payload=payload, message_id=message_id,
                                        **({"instances": instances} if instances is not None else {}))
            return {"status": "delivered", "instances": res.get("instances", [])}
        except NotFound:
            return {"status": "nothing_waiting", "instances": []}
        except AnjianError as exc:
            log.warning("message %s for alert failed: %s", name, exc.detail)
            return {"status": "failed", "error": exc.detail, "instances": []}
        except Exception as exc:  # noqa: BLE001 - an alert must survive a broken process
            log.exception("message %s for alert failed", name)
            return {"status": "failed", "error": f"{exc.__class__.__name__}: {exc}", "instances": []}

    def _event(self, alert_id: int, kind: str, data: dict, actor: str = "iot") -> None:
        with self.db.session() as s:
            s.add(AlertEvent(alert_id=alert_id, at=utcnow(), actor=actor, kind=kind, data=data))

    def _owner(self, grade: str, f: Finding) -> str | None:
        dept = f.area_department
        if dept is None:
            dept = self._area_department(f.area)
        return self.policy.owner(grade, dept)

    def _area_department(self, area: str) -> str | None:
        if self._area_departments is None or area not in self._area_departments:
            with self.db.session(write=False) as s:
                self._area_departments = {a.code: a.department for a in s.scalars(select(Area))}
        return self._area_departments.get(area)

    def _deadline(self, grade: str, now: datetime) -> datetime:
        return now + timedelta(minutes=self.policy.deadline_minutes(grade))

    # ------------------------------------------------------------------ people

    def list(self, principal: Principal, *, grade: str | None = None, area: str | None = None,
             status: str | None = None, device_id: str | None = None, rule: str | None = None,
             since: datetime | None = None,
             until: datetime | None = None, page: int = 1, page_size: int = 50) -> dict:
        """Alerts, newest first, filtered by grade, area, status, device, rule and opening time.

        ``status=active`` means open or acknowledged (not yet closed).
        """
        conds = []
        if grade:
            conds.append(Alert.grade == grade)
        if area:
            conds.append(Alert.area == area)
        if status == "active":
            conds.append(Alert.status.in_(("open", "acknowledged")))
        elif status:
            conds.append(Alert.status == status)
        if device_id:
            conds.append(Alert.device_id == device_id)
        if rule:
            conds.append(Alert.rule == rule)
        if since:
            conds.append(Alert.opened_at >= since)
        if until:
            conds.append(Alert.opened_at < until)
        with self.db.session(write=False) as s:
            total = s.scalar(select(func.count()).select_from(Alert).where(*conds))
            rows = s.scalars(select(Alert).where(*conds).order_by(Alert.opened_at.desc(), Alert.id.desc())
                             .offset((page - 1) * page_size).limit(page_size)).all()
            return {"items": [alert_view(a) for a in rows], "total": total, "page": page, "page_size": page_size}

    def get(self, principal: Principal, alert_id: int) -> dict:
        """One alert with its history."""
        with self.db.session(write=False) as s:
            a = s.get(Alert, alert_id)
            if a is None:
                raise NotFound(f"no alert {alert_id}")
            events = s.scalars(select(AlertEvent).where(AlertEvent.alert_id == alert_id)
                               .order_by(AlertEvent.id)).all()
            return alert_view(a, events)

    def acknowledge(self, principal: Principal, alert_id: int, comment: str | None = None) -> dict:
        """Someone responsible has seen the alert and is on it (open → acknowledged)."""
        with self.db.session() as s:
            a = self._for_handler(s, principal, alert_id, "acknowledging")
            if a.status == "closed":
                raise Conflict(f"alert {alert_id} is closed")
            if a.status == "open":
                a.status = "acknowledged"
                a.acknowledged_at = utcnow()
                a.acknowledged_by = principal.username
                s.add(AlertEvent(alert_id=a.id, at=a.acknowledged_at, actor=principal.username, kind="acknowledged",
                                 data={"comment": comment} if comment else {}))
                mirror_alert(s, a)
            return alert_view(a)

    def dispose(self, principal: Principal, alert_id: int, disposal: dict) -> dict:
        """Close the alert with its disposal record (what was found, what was done)."""
        errors = []
        for k in ("cause", "action"):
            v = disposal.get(k)
            if not isinstance(v, str) or len(v.strip()) < 2:
                errors.append({"field": k, "message": "required: at least 2 characters"})
        if errors:
            raise Invalid("a disposal record needs the cause and the action taken", errors=errors)
        with self.db.session() as s:
            a = self._for_handler(s, principal, alert_id, "closing")
            if a.status == "closed":
                raise Conflict(f"alert {alert_id} is already closed")
            now = utcnow()
            a.status = "closed"
            a.open_key = None
            a.closed_at = now
            a.closed_by = principal.username
            a.disposal = {**disposal, "recorded_at": now.isoformat(), "recorded_by": principal.username}
            s.add(AlertEvent(alert_id=a.id, at=now, actor=principal.username, kind="closed", data=dict(disposal)))
            mirror_alert(s, a)
            view = alert_view(a)
        with self._lock:
            self._notified.pop(alert_id, None)
            prefix = f"{view['device_id'] or 'area:' + view['area']}|{view['rule']}"
            for k in [k for k in self._last_write if k.startswith(prefix)]:
                self._last_write.pop(k, None)
        return view

    def _for_handler(self, s, principal: Principal, alert_id: int, action: str) -> Alert:
        a = s.get(Alert, alert_id)
        if a is None:
            raise NotFound(f"no alert {alert_id}")
        if not principal.has_any(HANDLER_ROLES):
            raise Forbidden(f"{action} an alert needs one of the roles {sorted(HANDLER_ROLES)}")
        if not principal.in_scope(a.owner_department):
            raise Forbidden(f"alert {alert_id} belongs to department {a.owner_department}")
        return a


def defer_to_outbox(platform):
    """A ``defer`` for :class:`AlertService`: one ``alert_process`` outbox entry per action, relayed at once.

    The entry goes to the high-priority queue (worker/queues.py); its dedupe key (alert, action,
    grade) keeps a retried batch from starting a response twice.
    """
    from engine.models import OutboxEntry
    from engine.values import json_data

    if platform.db.is_sqlite:
        from sqlalchemy.dialects.sqlite import insert
    else:
        from sqlalchemy.dialects.postgresql import insert

    def defer(action: str, r: dict) -> None:
        now = utcnow()
        row = {"kind": "alert_process", "payload": {"action": action, "alert": json_data(r)},
               "dedupe_key": f"alert:{r['id']}:{action}:{r['grade']}", "created_at": now, "available_at": now,
               "attempts": 0}
        with platform.db.session() as s:
            s.execute(insert(OutboxEntry).values([row]).on_conflict_do_nothing(index_elements=["dedupe_key"]))
        platform.dispatcher.notify()
    return defer


def _worse(f: Finding, peak: float) -> bool:
    if f.value is None:
        return False
    low_side = f.details.get("setpoints", {}).get("low1") is not None and f.value < (f.details["setpoints"]["low1"])
    return f.value < peak if low_side else f.value > peak

