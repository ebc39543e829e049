"""The alert rules file: load, validate, and answer questions about it.

A process designer edits a JSON file (``engine/iot/default_rules.json`` is the
plant default; ``ANJIAN_ALERT_RULES`` points at an edited copy). It is checked
against :data:`RULES_SCHEMA` and for cross references (grades, device types) on
load; a bad file is refused with every problem listed, never half applied.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from jsonschema import Draft202012Validator

from engine.errors import Invalid

DEFAULT_RULES_PATH = Path(__file__).with_name("default_rules.json")
GRADES = ("blue", "yellow", "orange", "red")
GRADE_RANK = {g: i for i, g in enumerate(GRADES)}
RULE_KINDS = ("threshold", "permit_pass", "rate_of_rise", "sensor_fault", "combination", "event")
SETPOINTS = ("high1", "high2", "low1", "low2")

_grade = {"enum": list(GRADES)}
_number = {"type": "number"}
_types = {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1}
_setpoints = {"type": "object", "additionalProperties": False,
              "properties": {k: _number for k in SETPOINTS}}

RULES_SCHEMA = {
    "type": "object",
    "required": ["version", "gases", "device_types", "grades", "permits", "rules"],
    "properties": {
        "$comment": {"type": "string"},
        "version": {"const": 1},
        "gases": {"type": "object", "additionalProperties": {"type": "number", "exclusiveMinimum": 0, "maximum": 100},
                  "properties": {"$comment": {"type": "string"}}},
        "device_types": {"type": "object", "minProperties": 1, "additionalProperties": {
            "type": "object", "required": ["metric", "unit", "range"], "additionalProperties": False,
            "properties": {
                "$comment": {"type": "string"}, "label": {"type": "string"},
                "metric": {"type": "string", "pattern": "^[A-Za-z0-9_.-]+$"},
                "unit": {"type": "string", "minLength": 1},
                "range": {"type": "array", "items": _number, "minItems": 2, "maxItems": 2},
                "combustible": {"type": "boolean"},
                "setpoints": _setpoints, "setpoints_lel_percent": _setpoints}}},
        "grades": {"type": "object", "required": ["level1", "level2", "permit_breach", "level2_confined_space"],
                   "additionalProperties": False, "properties": {
                       "level1": _grade, "level2": _grade, "permit_breach": _grade, "level2_confined_space": _grade}},
        "permits": {"type": "object", "required": ["process_key_like", "message"], "properties": {
            "$comment": {"type": "string"},
            "process_key_like": {"type": "string", "minLength": 1},
            "confined_space_like": {"type": "string", "minLength": 1},
            "message": {"type": "string", "minLength": 1},
            "redeliver_seconds": {"type": "number", "minimum": 0},
            "combustible_vol_limit": {"type": "object", "required": ["lel_at_least_4", "lel_below_4"], "properties": {
                "$comment": {"type": "string"}, "lel_at_least_4": _number, "lel_below_4": _number}},
            "o2_range": {"type": "array", "items": _number, "minItems": 2, "maxItems": 2},
            "toxic_limit": {"enum": ["high1", "high2"]}}},
        "messages": {"type": "object", "properties": {"alert": {"type": "string", "minLength": 1},
                                                      "escalated": {"type": "string", "minLength": 1}}},
        "rules": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["id", "kind", "device_types"],
            "properties": {
                "id": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
                "kind": {"enum": list(RULE_KINDS)},
                "device_types": _types,
                "areas": _types,
                "grade": _grade,
                "min_duration_s": {"type": "number", "minimum": 0},
                "hysteresis_percent": {"type": "number", "minimum": 0, "maximum": 50},
                "rise": {"type": "number", "exclusiveMinimum": 0},
                "window_s": {"type": "number", "exclusiveMinimum": 0},
                "silent_s": {"type": "number", "exclusiveMinimum": 0},
                "min_level": {"enum": [1, 2]},
                "min_devices": {"type": "integer", "minimum": 2},
                "min_confidence": {"type": "number", "minimum": 0, "maximum": 1},
                "events": {"type": "object", "minProperties": 1, "additionalProperties": _grade}},
            "allOf": [
                {"if": {"properties": {"kind": {"const": "rate_of_rise"}}},
                 "then": {"required": ["rise", "window_s", "grade"]}},
                {"if": {"properties": {"kind": {"const": "sensor_fault"}}}, "then": {"required": ["silent_s", "grade"]}},
                {"if": {"properties": {"kind": {"const": "combination"}}},
                 "then": {"required": ["min_level", "min_devices", "window_s", "grade"]}},
                {"if": {"properties": {"kind": {"const": "event"}}}, "then": {"required": ["events"]}},
            ]}},
    },
}


@dataclass(frozen=True)
class DeviceType:
    """Defaults of one kind of instrument."""

    name: str
    metric: str
    unit: str
    range: tuple[float, float]
    combustible: bool = False
    setpoints: dict = field(default_factory=dict)
    setpoints_lel_percent: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Rule:
    """One entry of the ``rules`` list."""

    id: str
    kind: str
    device_types: frozenset[str]
    areas: frozenset[str] | None
    params: dict

    def applies(self, device_type: str, area: str) -> bool:
        """True when the rule covers devices of this type in this area."""
        return ("*" in self.device_types or device_type in self.device_types) and \
            (self.areas is None or area in self.areas)


@dataclass(frozen=True)
class RuleSet:
    """A validated rules file."""

    source: str
    raw: dict
    gases: dict[str, float]
    device_types: dict[str, DeviceType]
    rules: tuple[Rule, ...]

    @property
    def grades(self) -> dict:
        """Grade of each situation (level1, level2, permit_breach, level2_confined_space)."""
        return self.raw["grades"]

    @property
    def permits(self) -> dict:
        """How permits in an area are recognised and told."""
        return self.raw["permits"]

    def message(self, which: str) -> str:
        """Name of the message started/sent for ``alert`` or ``escalated``."""
        defaults = {"alert": "alert", "escalated": "alert_escalated"}
        return (self.raw.get("messages") or {}).get(which, defaults[which])

    def rules_for(self, device_type: str, area: str, kind: str | None = None) -> list[Rule]:
        """Rules applying to a device of ``device_type`` in ``area`` (optionally of one kind)."""
        return [r for r in self.rules if (kind is None or r.kind == kind) and r.applies(device_type, area)]

    def lel_of(self, gas: str | None) -> float | None:
        """LEL (% by volume) of a gas named in the rules file."""
        return self.gases.get(gas) if gas else None


def load_rules(path: str | Path | None = None) -> RuleSet:
    """Load and validate a rules file (the bundled default when ``path`` is None)."""
    path = Path(path) if path else DEFAULT_RULES_PATH
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise Invalid(f"cannot read alert rules {path}: {exc.strerror or exc}",
                      errors=[{"field": "ANJIAN_ALERT_RULES", "message": str(exc)}]) from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise Invalid(f"alert rules {path} are not valid JSON",
                      errors=[{"field": f"line {exc.lineno}", "message": exc.msg}]) from None
    return parse_rules(raw, source=str(path))


# keys older rules files carried: deadlines and owners by grade now live in the alert_policy DMN only
MOVED_TO_POLICY = ("deadline_minutes", "owners")


def parse_rules(raw, *, source: str = "<rules>") -> RuleSet:
    """Validate a decoded rules document; raise Invalid listing every problem."""
    moved = [k for k in MOVED_TO_POLICY if isinstance(raw, dict) and k in raw]
    if moved:
        raise Invalid(f"alert rules {source} set deadlines or owners; those are decided in one place, the "
                      f"alert_policy decision table (bpmn/alert_policy.dmn)",
                      errors=[{"field": k, "message": "remove it from the rules file: deadline and owner by grade "
                                                      "are the outputs deadline_minutes and owner_department of the "
                                                      "alert_policy DMN (edit and deploy that table instead)"}
                              for k in moved])
    errors = [{"field": "/".join(str(p) for p in e.absolute_path) or "(root)", "message": e.message}
              for e in sorted(Draft202012Validator(RULES_SCHEMA).iter_errors(raw), key=lambda e: list(e.path))]
    if errors:
        raise Invalid(f"alert rules {source} are invalid", errors=errors)
    types = {name: DeviceType(name, t["metric"], t["unit"], (float(t["range"][0]), float(t["range"][1])),
                              bool(t.get("combustible")), dict(t.get("setpoints") or {}),
                              dict(t.get("setpoints_lel_percent") or {}))
             for name, t in raw["device_types"].items()}
    for name, t in types.items():
        if t.range[0] >= t.range[1]:
            errors.append({"field": f"device_types/{name}/range", "message": "minimum must be below maximum"})
    seen = set()
    rules = []
    for i, r in enumerate(raw["rules"]):
        if r["id"] in seen:
            errors.append({"field": f"rules/{i}/id", "message": f"duplicate rule id {r['id']!r}"})
        seen.add(r["id"])
        for t in r["device_types"]:
            if t != "*" and t not in types:
                errors.append({"field": f"rules/{i}/device_types", "message": f"unknown device type {t!r}"})
        params = {k: v for k, v in r.items() if k not in ("id", "kind", "device_types", "areas")}
        rules.append(Rule(r["id"], r["kind"], frozenset(r["device_types"]),
                          frozenset(r["areas"]) if r.get("areas") else None, params))
    if errors:
        raise Invalid(f"alert rules {source} are invalid", errors=errors)
    gases = {k: float(v) for k, v in raw["gases"].items() if not k.startswith("$")}
    return RuleSet(source, raw, gases, types, tuple(rules))
