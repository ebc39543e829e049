"""The kinds of hub records: fields, types, natural keys and validation.

One declaration per kind drives bulk import, the REST API (``POST`` and the
filters of ``GET``) and the ``hub`` connector, so a row is judged the same
way wherever it comes from. :func:`validate_row` returns the cleaned row or
the list of ``{field, message}`` errors.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone

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


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("equipment", m.Equipment, ("code",), (
        F("code", required=True, max_len=64, filter=True), F("name"), F("area", required=True, max_len=64, filter=True),
        F("type", max_len=64, filter=True), F("rated_load", "float", minimum=0), F("rated_unit", max_len=32),
        F("department", max_len=64, filter=True), F("status", max_len=32, filter=True)), title="设备"),
    Kind("equipment_run", m.EquipmentRun, ("equipment_code", "started_at"), (
        F("equipment_code", required=True, max_len=64, filter=True), F("started_at", "datetime", required=True),
        F("hours", "float", required=True, minimum=0, maximum=24 * 31), F("load_pct", "float", required=True,
                                                                         minimum=0, maximum=200),
        F("faults", "int", minimum=0), F("maintenance", "bool")), time_field="started_at", title="设备运行记录"),
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
        time_field="started_at", title="作业记录", derive=_work_hours),
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
        title="培训记录"),
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
        time_field="found_at", title="隐患", derive=_hazard_status),
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
        F("status", choices=("open", "handling", "closed"), filter=True)), time_field="raised_at", title="预警"),
    Kind("production_stop", m.ProductionStop, ("ref",), (
        F("ref", required=True, max_len=120), F("area", required=True, max_len=64, filter=True),
        F("department", max_len=64, filter=True), F("started_at", "datetime", required=True),
        F("ended_at", "datetime"), F("cause_kind", required=True, choices=STOP_CAUSES, filter=True),
        F("cause", max_len=4000), F("source", choices=SOURCES, filter=True)), time_field="started_at",
        title="生产中断"),
    Kind("escalation", m.Escalation, ("ref",), (
        F("ref", required=True, max_len=120), F("level", "int", required=True, choices=(1, 2, 3), filter=True),
        F("department", max_len=64, filter=True), F("duty_type", max_len=64, filter=True),
        F("received_at", "datetime", required=True), F("closed_at", "datetime"), F("closed_by", max_len=100)),
        time_field="received_at", title="督办"),
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


def validate_row(kind: Kind, raw: dict, *, default_source: str | None = None) -> tuple[dict | None, list[dict]]:
    """(clean row, []) or (None, errors); unknown fields are errors (a typo must not vanish)."""
    if not isinstance(raw, dict):
        return None, [{"field": "(row)", "message": "must be an object"}]
    errors, row = [], {}
    for name in raw:
        if name not in kind.by_name and name not in ("source",):
            errors.append({"field": str(name), "message": f"unknown field of '{kind.name}'"})
    for f in kind.fields:
        value = raw.get(f.name)
        if _blank(value):
            if f.required:
                errors.append({"field": f.name, "message": "required"})
            continue
        try:
            value = _convert(f, value)
        except (ValueError, TypeError) as exc:
            errors.append({"field": f.name, "message": str(exc) or "invalid value"})
            continue
        if f.choices and value not in f.choices:
            errors.append({"field": f.name, "message": f"one of {list(f.choices)}"})
            continue
        if f.minimum is not None and value < f.minimum:
            errors.append({"field": f.name, "message": f"must be ≥ {f.minimum}"})
            continue
        if f.maximum is not None and value > f.maximum:
            errors.append({"field": f.name, "message": f"must be ≤ {f.maximum}"})
            continue
        row[f.name] = value
    if "source" in raw and "source" not in kind.by_name and not _blank(raw["source"]):
        if raw["source"] not in SOURCES:
            errors.append({"field": "source", "message": f"one of {list(SOURCES)}"})
        else:
            row["source"] = raw["source"]
    if errors:
        return None, errors
    if kind.derive:
        kind.derive(row)
    if default_source and "source" not in row:
        row["source"] = default_source
    return row, []


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
