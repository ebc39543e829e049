"""The kinds of hub records: fields, types, natural keys and validation.

One declaration per kind drives bulk import, the REST API (``POST`` and the
filters of ``GET``) and the ``hub`` connector, so a row is judged the same
way wherever it comes from. :func:`validate_row` returns the cleaned row or
the list of ``{field, message}`` errors.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from engine.hub import models as m


@dataclass(frozen=True)
class F:
    """One field of a kind."""

    name: str
    type: str = "str"  # str | int | float | bool | datetime | date | list
    required: bool = False
    choices: tuple = ()
    max_len: int = 200
    minimum: float | None = None
    maximum: float | None = None
    filter: bool = False  # usable as an equality filter in GET


@dataclass(frozen=True)
class Kind:
    """A record kind: its table, natural key and fields."""

    name: str
    model: type
    key: tuple[str, ...]
    fields: tuple[F, ...]
    time_field: str | None = None  # GET ?from=&to= filter on it
    title: str = ""
    derive: object = None  # fills computed fields after validation
    # Fields that may lie in the future (a deadline, an expiry): every other date says when something
    # happened, and a record of something that has not happened yet is not true (see :func:`plausibility`).
    future_ok: tuple[str, ...] = ()
    # Cross-field rules of physical plausibility: each takes the clean row and returns errors.
    checks: tuple = ()
    by_name: dict = field(default_factory=dict, compare=False)

    def __post_init__(self):
        self.by_name.update({f.name: f for f in self.fields})


SOURCES = ("import", "api", "mes", "permit", "process", "connector", "bench", "iot")
GRADES = ("major", "significant", "general", "low")
HAZARD_LEVELS = ("general", "major")
ALERT_GRADES = ("red", "orange", "yellow", "blue")
STOP_CAUSES = ("safety", "equipment", "material", "planned", "other")


def _work_hours(row: dict) -> None:
    if row.get("hours") in (None, 0) and row.get("ended_at") and row.get("started_at"):
        span = (row["ended_at"] - row["started_at"]).total_seconds() / 3600
        row["hours"] = round(max(span, 0.0) * (row.get("workers") or 1), 3)


def _hazard_status(row: dict) -> None:
    if row.get("closed_at") and not row.get("status"):
        row["status"] = "closed"

DEFAULT_FUTURE_TOLERANCE = timedelta(minutes=15)  # clock skew between the plant's systems and ours
MAX_LOAD_PCT = 120.0  # rated load plus the 20 % overload margin machines are rated for (GB/T 3811)
# Work-record statuses whose times are a plan (MES work orders not started yet): they may lie ahead.
PLAN_STATUSES = frozenset({"planned", "released", "scheduled"})
DONE_STATUSES = frozenset({"completed", "closed", "finished", "done"})
_HOURS_SLACK = 1e-6  # relative: person-hours rounded to 3 decimals by exporters


def _err(name: str, message: str, rule: str) -> dict:
    return {"field": name, "message": message, "rule": rule}


def _after(start: str, end: str, *, strict: bool = True):
    """Rule ``<end>_after_<start>``: ``end`` is later than ``start`` (or equal when not ``strict``)."""
    rule = f"{end}_after_{start}"

    def check(row: dict) -> list[dict]:
        a, b = row.get(start), row.get(end)
        if a is None or b is None or b > a or (not strict and b == a):
            return []
        word = "after" if strict else "at or after"
        return [_err(end, f"must be {word} {start} ({a.isoformat()})", rule)]
    check.rule = rule
    return check


def _person_hours(row: dict) -> list[dict]:
    """Rule ``hours_within_workers_x_duration``: no more person-hours than workers × duration."""
    start, end, hours = row.get("started_at"), row.get("ended_at"), row.get("hours")
    if start is None or end is None or not hours or end <= start:
        return []
    workers = row.get("workers") or 1
    span = (end - start).total_seconds() / 3600
    limit = workers * span
    if hours <= limit * (1 + _HOURS_SLACK) + 0.001:
        return []
    return [_err("hours", f"{hours:g} person-hours exceed workers × duration = {workers} × {span:.3g} h "
                          f"= {limit:.4g}", "hours_within_workers_x_duration")]


def _load_in_range(row: dict) -> list[dict]:
    """Rule ``load_in_range``: load 0–120 % of rated load (the overload margin; beyond is a unit error)."""
    load = row.get("load_pct")
    if load is None or 0 <= load <= MAX_LOAD_PCT:
        return []
    return [_err("load_pct", f"{load:g} % is outside 0–{MAX_LOAD_PCT:g} % of rated load", "load_in_range")]


def _faults_need_running(row: dict) -> list[dict]:
    """Rule ``faults_need_running``: a machine that did not run (0 h) cannot have had faults while running."""
    if (row.get("hours") == 0) and (row.get("faults") or 0) > 0 and not row.get("maintenance"):
        return [_err("faults", "faults recorded for 0 running hours", "faults_need_running")]
    return []


def _causes_counted(row: dict) -> list[dict]:
    """Rule ``causes_within_suspensions``: no more suspension causes than suspensions."""
    causes, n = row.get("suspension_causes"), row.get("suspensions")
    if causes and n is not None and len(causes) > n:
        return [_err("suspension_causes", f"{len(causes)} causes for {n} suspensions", "causes_within_suspensions")]
    return []


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("equipment", m.Equipment, ("code",), (
        F("code", required=True, max_len=64, filter=True), F("name"), F("area", required=True, max_len=64, filter=True),
        F("type", max_len=64, filter=True), F("rated_load", "float", minimum=0), F("rated_unit", max_len=32),
        F("department", max_len=64, filter=True), F("status", max_len=32, filter=True)), title="设备"),
    Kind("equipment_run", m.EquipmentRun, ("equipment_code", "started_at"), (
        F("equipment_code", required=True, max_len=64, filter=True), F("started_at", "datetime", required=True),
        F("hours", "float", required=True, minimum=0, maximum=24 * 31), F("load_pct", "float", required=True),
        F("faults", "int", minimum=0), F("maintenance", "bool")), time_field="started_at", title="设备运行记录",
         checks=(_load_in_range, _faults_need_running)),
    Kind("work_record", m.WorkRecord, ("ref",), (
        F("ref", required=True, max_len=120), F("source", choices=SOURCES, filter=True),
        F("contractor", max_len=64, filter=True),
        F("kind", required=True, max_len=64, filter=True), F("grade", max_len=32, filter=True),
        F("area", required=True, max_len=64, filter=True), F("department", max_len=64, filter=True),
        F("team", max_len=64, filter=True), F("post", max_len=64, filter=True),
        F("person_code", max_len=64, filter=True), F("equipment_code", max_len=64, filter=True),
        F("started_at", "datetime", required=True), F("ended_at", "datetime"),
        F("workers", "int", minimum=1, maximum=10000), F("hours", "float", minimum=0),
        F("planned_output", "float", minimum=0), F("actual_output", "float", minimum=0),
        F("applied_at", "datetime"), F("approved_at", "datetime"), F("suspensions", "int", minimum=0),
        F("suspension_causes", "list"), F("status", max_len=32, filter=True)),
        time_field="started_at", title="作业记录", derive=_work_hours,
         checks=(_after("started_at", "ended_at"), _person_hours, _after("applied_at", "approved_at", strict=False),
                 _causes_counted)),
    Kind("material_flow", m.MaterialFlow, ("ref",), (
        F("ref", required=True, max_len=120), F("material", required=True, filter=True),
        F("hazardous", "bool", filter=True), F("flow", required=True, choices=("storage", "transport", "use"),
                                               filter=True),
        F("quantity", "float", required=True, minimum=0), F("unit", required=True, max_len=16),
        F("area", required=True, max_len=64, filter=True), F("at", "datetime", required=True)),
        time_field="at", title="物料流转"),
    # a contractor's findings are pushed to its managing department (engine/analytics, contractor_hotspots)
    Kind("contractor", m.Contractor, ("code",), (
        F("code", required=True, max_len=64, filter=True), F("name", required=True),
        F("managing_department", required=True, max_len=64, filter=True)), title="承包商"),
    Kind("person", m.Person, ("code",), (
        F("code", required=True, max_len=64, filter=True), F("name", required=True),
        F("username", max_len=100, filter=True), F("department", required=True, max_len=64, filter=True),
        F("post", required=True, max_len=64, filter=True), F("team", max_len=64, filter=True),
        F("qualifications", "list")), title="人员"),
    Kind("training", m.Training, ("person_code", "course", "completed_on"), (
        F("person_code", required=True, max_len=64, filter=True), F("course", required=True, filter=True),
        F("completed_on", "date", required=True), F("expires_on", "date")), time_field="expires_on",
        title="培训记录",
         future_ok=("expires_on",), checks=(_after("completed_on", "expires_on"),)),
    Kind("risk_point", m.RiskPoint, ("code",), (
        F("code", required=True, max_len=64), F("name", required=True), F("area", required=True, max_len=64,
                                                                           filter=True),
        F("grade", required=True, choices=GRADES, filter=True), F("equipment_code", max_len=64, filter=True),
        F("department", max_len=64, filter=True)), title="风险点"),
    Kind("hazard", m.Hazard, ("ref",), (
        F("ref", required=True, max_len=120), F("found_at", "datetime", required=True),
        F("contractor", max_len=64, filter=True),
        F("area", required=True, max_len=64, filter=True), F("equipment_code", max_len=64, filter=True),
        F("level", choices=HAZARD_LEVELS, filter=True), F("department", max_len=64, filter=True),
        F("description", max_len=4000), F("deadline", "datetime"), F("closed_at", "datetime"),
        F("status", choices=("open", "assigned", "rectifying", "closed"), filter=True),
        F("reported_by", max_len=100), F("rectified_by", max_len=100, filter=True),
        F("source", choices=SOURCES, filter=True)),
        time_field="found_at", title="隐患", derive=_hazard_status,
         future_ok=("deadline",), checks=(_after("found_at", "closed_at", strict=False),
                                          _after("found_at", "deadline", strict=False))),
    Kind("inspection", m.Inspection, ("ref",), (
        F("ref", required=True, max_len=120), F("at", "datetime", required=True),
        F("area", required=True, max_len=64, filter=True), F("department", max_len=64, filter=True),
        F("inspector", max_len=100, filter=True), F("kind", max_len=32, filter=True),
        F("found_issue", "bool", required=True, filter=True), F("findings", "list"),
        F("source", choices=SOURCES, filter=True)), time_field="at", title="检查"),
    Kind("violation", m.Violation, ("ref",), (
        F("ref", required=True, max_len=120), F("at", "datetime", required=True),
        F("contractor", max_len=64, filter=True),
        F("person_code", max_len=64, filter=True), F("post", max_len=64, filter=True),
        F("team", max_len=64, filter=True), F("area", required=True, max_len=64, filter=True),
        F("department", max_len=64, filter=True), F("kind", max_len=64, filter=True),
        F("description", max_len=4000), F("source", choices=SOURCES, filter=True)),
        time_field="at", title="违章"),
    Kind("alert", m.Alert, ("ref",), (
        F("ref", required=True, max_len=120), F("raised_at", "datetime", required=True),
        F("area", required=True, max_len=64, filter=True), F("grade", required=True, choices=ALERT_GRADES,
                                                             filter=True),
        F("kind", max_len=64, filter=True), F("owner_department", max_len=64, filter=True),
        F("handled_at", "datetime"), F("deadline_at", "datetime"), F("closed_at", "datetime"),
        F("disposal", max_len=4000),
        F("status", choices=("open", "handling", "closed"), filter=True)), time_field="raised_at", title="预警",
         future_ok=("deadline_at",), checks=(_after("raised_at", "handled_at", strict=False),
                                             _after("raised_at", "closed_at", strict=False))),
    Kind("production_stop", m.ProductionStop, ("ref",), (
        F("ref", required=True, max_len=120), F("area", required=True, max_len=64, filter=True),
        F("department", max_len=64, filter=True), F("started_at", "datetime", required=True),
        F("ended_at", "datetime"), F("cause_kind", required=True, choices=STOP_CAUSES, filter=True),
        F("cause", max_len=4000), F("source", choices=SOURCES, filter=True)), time_field="started_at",
        title="生产中断",
         checks=(_after("started_at", "ended_at"),)),
    Kind("escalation", m.Escalation, ("ref",), (
        F("ref", required=True, max_len=120), F("level", "int", required=True, choices=(1, 2, 3), filter=True),
        F("department", max_len=64, filter=True), F("duty_type", max_len=64, filter=True),
        F("received_at", "datetime", required=True), F("closed_at", "datetime"), F("closed_by", max_len=100)),
        time_field="received_at", title="督办",
         checks=(_after("received_at", "closed_at", strict=False),)),
)}


def parse_datetime(value) -> datetime:
    """An aware UTC datetime from ISO text (naive means UTC), a date or a datetime."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime(value.year, value.month, value.day)
    else:
        text = str(value).strip().replace("Z", "+00:00")
        if " " in text and "T" not in text:
            text = text.replace(" ", "T", 1)
        dt = datetime.fromisoformat(text)
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _convert(f: F, value):
    if f.type == "str":
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # Excel gives 101.0 for a cell typed as a number
        text = str(value).strip()
        if len(text) > f.max_len:
            raise ValueError(f"at most {f.max_len} characters")
        return text
    if f.type == "int":
        if isinstance(value, bool):
            raise ValueError("must be an integer")
        if isinstance(value, float):
            if not value.is_integer():
                raise ValueError("must be an integer")
            return int(value)
        return int(str(value).strip())
    if f.type == "float":
        if isinstance(value, bool):
            raise ValueError("must be a number")
        out = float(str(value).strip()) if isinstance(value, str) else float(value)
        if out != out or out in (float("inf"), float("-inf")):
            raise ValueError("must be a finite number")
        return out
    if f.type == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "y", "是", "t"):
            return True
        if text in ("0", "false", "no", "n", "否", "f"):
            return False
        raise ValueError("must be true or false")
    if f.type == "datetime":
        try:
            return parse_datetime(value)
        except (ValueError, TypeError):
            raise ValueError("must be an ISO 8601 date-time, e.g. 2026-11-03T08:00:00+08:00") from None
    if f.type == "date":
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value).strip()[:10])
        except ValueError:
            raise ValueError("must be a date YYYY-MM-DD") from None
    if f.type == "list":
        if isinstance(value, list):
            return value
        if isinstance(value, str):
            import json

            text = value.strip()
            if text.startswith("["):
                try:
                    parsed = json.loads(text)
                except json.JSONDecodeError:
                    raise ValueError("must be a JSON list or ';'-separated text") from None
                if isinstance(parsed, list):
                    return parsed
            return [p.strip() for p in text.replace("；", ";").split(";") if p.strip()]
        raise ValueError("must be a list")
    raise AssertionError(f.type)


def validate_row(kind: Kind, raw: dict, *, default_source: str | None = None, now: datetime | None = None,
                 future_tolerance: timedelta = DEFAULT_FUTURE_TOLERANCE) -> tuple[dict | None, list[dict]]:
    """(clean row, []) or (None, errors); unknown fields are errors (a typo must not vanish).

    Each error is ``{field, message, rule}``: the rule is what a person looks up (``required``,
    ``type``, ``minimum`` …, the plausibility rules of the kind such as ``ended_at_after_started_at``
    or ``hours_within_workers_x_duration``, and ``not_in_future``). With ``now`` given, a date later
    than ``now + future_tolerance`` is rejected unless the kind lets that field lie ahead (a deadline).
    """
    if not isinstance(raw, dict):
        return None, [_err("(row)", "must be an object", "type")]
    errors, row = [], {}
    for name in raw:
        if name not in kind.by_name and name not in ("source",):
            errors.append(_err(str(name), f"unknown field of '{kind.name}'", "unknown_field"))
    for f in kind.fields:
        value = raw.get(f.name)
        if _blank(value):
            if f.required:
                errors.append(_err(f.name, "required", "required"))
            continue
        try:
            value = _convert(f, value)
        except (ValueError, TypeError) as exc:
            message = str(exc) or "invalid value"
            errors.append(_err(f.name, message, "max_length" if message.startswith("at most") else "type"))
            continue
        if f.choices and value not in f.choices:
            errors.append(_err(f.name, f"one of {list(f.choices)}", "choices"))
            continue
        if f.minimum is not None and value < f.minimum:
            errors.append(_err(f.name, f"must be ≥ {f.minimum}", "minimum"))
            continue
        if f.maximum is not None and value > f.maximum:
            errors.append(_err(f.name, f"must be ≤ {f.maximum}", "maximum"))
            continue
        row[f.name] = value
    if "source" in raw and "source" not in kind.by_name and not _blank(raw["source"]):
        if raw["source"] not in SOURCES:
            errors.append(_err("source", f"one of {list(SOURCES)}", "choices"))
        else:
            row["source"] = raw["source"]
    if errors:
        return None, errors
    errors = plausibility(kind, row, now=now, future_tolerance=future_tolerance)
    if errors:
        return None, errors
    if kind.derive:
        kind.derive(row)
    if default_source and "source" not in row:
        row["source"] = default_source
    return row, []


def plausibility(kind: Kind, row: dict, *, now: datetime | None = None,
                 future_tolerance: timedelta = DEFAULT_FUTURE_TOLERANCE) -> list[dict]:
    """The errors of a row whose fields are each valid but which cannot be true as a whole.

    The kind's cross-field rules (end after start, person-hours within workers × duration, load
    within range …) and, with ``now``, dates in the future: a record says what happened, so its
    dates (except the kind's ``future_ok`` ones: deadlines, expiries) cannot lie ahead of the clock
    by more than the tolerance. A work order whose status is a plan (planned, released) may start
    and end ahead; one in progress may end ahead (its planned end).
    """
    errors = []
    for check in kind.checks:
        errors.extend(check(row))
    if now is None:
        return errors
    limit = now + future_tolerance
    status = str(row.get("status") or "").lower()
    for f in kind.fields:
        value = row.get(f.name)
        if value is None or f.type not in ("datetime", "date") or f.name in kind.future_ok:
            continue
        if kind.name == "work_record" and f.name in ("started_at", "ended_at"):
            if status in PLAN_STATUSES or (f.name == "ended_at" and status not in DONE_STATUSES):
                continue
        ahead = value > limit.date() if f.type == "date" else value > limit
        if ahead:
            errors.append(_err(f.name, f"{value.isoformat()} is in the future (now {now.isoformat(timespec='seconds')}"
                                       f", tolerance {future_tolerance})", "not_in_future"))
    return errors


def natural_key(kind: Kind, row: dict) -> tuple:
    """The natural key of a clean row."""
    return tuple(row[k] for k in kind.key)


def to_json(kind: Kind, obj) -> dict:
    """A stored record as JSON (with id, source and updated_at)."""
    out = {"id": obj.id}
    for f in kind.fields:
        value = getattr(obj, f.name)
        out[f.name] = value.isoformat() if isinstance(value, (datetime, date)) else value
    out["source"] = getattr(obj, "source", None)
    updated = getattr(obj, "updated_at", None)
    out["updated_at"] = updated.isoformat() if updated else None
    return out
