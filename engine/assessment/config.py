"""Assessment configuration: indicator weights and the points at which a score reaches zero.

Defaults are below; a plant overrides any of them with the environment
variable ``ANJIAN_ASSESSMENT`` holding JSON, e.g.
``{"weights": {"on_time_rectification": 0.4, "plan_completion": 0.1}, "violation_rate_zero": 3}``.
A bad value stops start-up with a message naming it (never a silent default).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

DEFAULT_WEIGHTS = {
    "plan_completion": 0.20,          # MES: actual ÷ planned output
    "on_time_rectification": 0.30,    # hazards closed on time ÷ due in period
    "violation_rate": 0.20,           # violations per 1,000 worked hours (lower is better)
    "escalations": 0.15,              # escalations received, weighted by level (fewer is better)
    "supervision_cooperation": 0.15,  # tasks completed before due ÷ tasks due in period
    "alert_response": 0.10,           # alerts handled before their deadline ÷ alerts with a deadline
}


@dataclass(frozen=True)
class AssessmentConfig:
    """Weights and score scales of the integrated assessment."""

    weights: dict = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    # violations per 1,000 h at which the violation score is 0 (linear from 1 at a rate of 0)
    violation_rate_zero: float = 2.0
    # points per escalation received at level 1/2/3, and the points at which the score is 0
    escalation_points: dict = field(default_factory=lambda: {"1": 1.0, "2": 2.0, "3": 4.0})
    escalation_zero: float = 10.0

    @classmethod
    def from_env(cls, environ: dict | None = None) -> "AssessmentConfig":
        """Defaults overridden by ``ANJIAN_ASSESSMENT`` (JSON); ValueError naming a bad key."""
        env = os.environ if environ is None else environ
        raw = env.get("ANJIAN_ASSESSMENT")
        if not raw:
            return cls()
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ValueError(f"ANJIAN_ASSESSMENT is not JSON: {exc.msg}") from None
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: dict) -> "AssessmentConfig":
        """Build from a dict (unknown keys and bad numbers are ValueErrors naming them)."""
        if not isinstance(data, dict):
            raise ValueError("ANJIAN_ASSESSMENT must be a JSON object")
        known = {"weights", "violation_rate_zero", "escalation_points", "escalation_zero"}
        for k in data:
            if k not in known:
                raise ValueError(f"ANJIAN_ASSESSMENT: unknown key '{k}' (known: {sorted(known)})")
        weights = dict(DEFAULT_WEIGHTS)
        for k, v in (data.get("weights") or {}).items():
            if k not in DEFAULT_WEIGHTS:
                raise ValueError(f"ANJIAN_ASSESSMENT.weights: unknown indicator '{k}' (known: {sorted(DEFAULT_WEIGHTS)})")
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
                raise ValueError(f"ANJIAN_ASSESSMENT.weights.{k} must be a number ≥ 0")
            weights[k] = float(v)
        if sum(weights.values()) <= 0:
            raise ValueError("ANJIAN_ASSESSMENT.weights: at least one weight must be > 0")
        points = {"1": 1.0, "2": 2.0, "3": 4.0}
        for k, v in (data.get("escalation_points") or {}).items():
            if str(k) not in points or isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
                raise ValueError(f"ANJIAN_ASSESSMENT.escalation_points.{k}: levels 1-3, numbers ≥ 0")
            points[str(k)] = float(v)
        out = {}
        for k in ("violation_rate_zero", "escalation_zero"):
            if k in data:
                v = data[k]
                if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
                    raise ValueError(f"ANJIAN_ASSESSMENT.{k} must be a number > 0")
                out[k] = float(v)
        return cls(weights=weights, escalation_points=points, **out)
