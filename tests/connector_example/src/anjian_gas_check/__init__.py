"""Gas test verdicts for special-operation permits (GB 30871 limits).

Before hot work (动火) or entry into a confined space (受限空间) a gas test is
taken; this connector turns the readings into a verdict a permit process can
branch on. It needs no outside system, so it is the smallest complete example
of an Anjian connector: declaration, configuration, validation, result schema.
"""
from __future__ import annotations

import datetime as dt

from connectors.base import Connector, ConnectorError, Param, operation

__version__ = "1.0.0"

RESULT_SCHEMA = {
    "type": "object",
    "required": ["verdict", "work_type", "failures", "valid_until"],
    "properties": {
        "verdict": {"enum": ["pass", "fail"]},
        "work_type": {"type": "string"},
        "failures": {"type": "array", "items": {"type": "string"}},
        "valid_until": {"type": ["string", "null"]},
    },
}


class GasConnector(Connector):
    """Evaluates gas test readings against the permit limits."""

    name = "gas"
    version = __version__
    kind = "generic"
    description = "Gas test verdicts (O2, combustibles, H2S, CO) for hot work and confined space permits"
    config_schema = {
        "type": "object",
        "properties": {
            "h2s_limit_ppm": {"type": "number", "exclusiveMinimum": 0, "default": 7.0},
            "co_limit_ppm": {"type": "number", "exclusiveMinimum": 0, "default": 24.0},
            "valid_minutes": {"type": "integer", "minimum": 1, "maximum": 240, "default": 30},
        },
        "additionalProperties": False,
    }

    @operation(
        params=[
            Param("readings", "object", description="o2_pct, combustible_pct, lel_of_gas_pct, h2s_ppm, co_ppm"),
            Param("work_type", required=False, default="hot_work", choices=("hot_work", "confined_space")),
            Param("sampled_at", "datetime", required=False, description="when the sample was taken"),
        ],
        result_schema=RESULT_SCHEMA,
    )
    def analyse(self, readings, work_type="hot_work", sampled_at=None):
        """Verdict (pass/fail) on gas test readings, with every limit broken and how long it stays valid."""
        values = {}
        for key, value in readings.items():
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise ConnectorError(f"reading '{key}' must be a number, got {value!r}", param="readings")
            values[key] = float(value)
        if not values:
            raise ConnectorError("no readings given", param="readings")
        failures = []
        o2 = values.get("o2_pct")
        if work_type == "confined_space" and o2 is None:
            failures.append("oxygen not measured (required for confined space entry)")
        if o2 is not None and not 19.5 <= o2 <= 21.0 + (2.5 if work_type == "hot_work" else 0):
            failures.append(f"oxygen {o2}% outside 19.5-{21.0 + (2.5 if work_type == 'hot_work' else 0)}%")
        combustible = values.get("combustible_pct")
        if combustible is not None:
            # GB 30871: LEL >= 4 % -> at most 0.5 % (vol); LEL < 4 % -> at most 0.2 %.
            limit = 0.5 if values.get("lel_of_gas_pct", 4.0) >= 4.0 else 0.2
            if combustible > limit:
                failures.append(f"combustible gas {combustible}% above {limit}%")
        elif work_type == "hot_work":
            failures.append("combustible gas not measured (required for hot work)")
        for key, limit_key in (("h2s_ppm", "h2s_limit_ppm"), ("co_ppm", "co_limit_ppm")):
            limit = float(self.config.get(limit_key, self.config_schema["properties"][limit_key]["default"]))
            if values.get(key) is not None and values[key] > limit:
                failures.append(f"{key[:-4].upper()} {values[key]} ppm above {limit} ppm")
        valid_until = None
        if sampled_at and not failures:
            minutes = int(self.config.get("valid_minutes", 30))
            valid_until = (dt.datetime.fromisoformat(sampled_at) + dt.timedelta(minutes=minutes)).isoformat()
        return {"verdict": "fail" if failures else "pass", "work_type": work_type,
                "failures": failures, "valid_until": valid_until}
