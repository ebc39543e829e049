"""Rule evaluation: readings in, findings out (pure, in memory, no database).

State kept per device and rule: the alarm level with hysteresis and the time it
was entered (minimum duration), a sliding minimum for rate of rise, and per area
the detectors currently in alarm (combination). The state lives in the process
that evaluates, so one ingest process should own a device's telemetry; the
HTTP path evaluates in the API process that received it.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

from engine.iot.devices import DeviceInfo
from engine.iot.rules import RuleSet

# a finding for an alert that is already open is passed on at most this often
REFRESH_SECONDS = 10.0


@dataclass(slots=True)
class Finding:
    """A rule's conclusion about one reading (or one area, or a silent device)."""

    rule: str
    kind: str
    area: str
    grade: str
    title: str
    ts: datetime
    device_id: str | None = None
    level: int | None = None
    value: float | None = None
    unit: str | None = None
    onset: bool = True  # the condition has just started (not a repeat while it holds)
    needs_permit: bool = False  # only an alert when a permit is active in the area
    area_department: str | None = None
    details: dict = field(default_factory=dict)
    key_suffix: str = ""

    @property
    def open_key(self) -> str:
        """Identity of the one open alert this finding belongs to."""
        subject = self.device_id if self.device_id else f"area:{self.area}"
        return f"{subject}|{self.rule}{self.key_suffix}"


class _Level:
    __slots__ = ("level", "since", "reported", "last_emit")

    def __init__(self):
        self.level = 0
        self.since = None
        self.reported = 0
        self.last_emit = 0.0


class _Rise:
    __slots__ = ("window", "active")

    def __init__(self):
        self.window: deque = deque()  # (ts, value), values increasing: sliding minimum
        self.active = False


def alarm_level(d: DeviceInfo, value: float, current: int = 0, band_percent: float = 0.0) -> int:
    """Alarm level 0/1/2 of ``value``; a level already held is kept until the value leaves it by the band."""
    level = 0
    for k, high, low in ((1, d.high1, d.low1), (2, d.high2, d.low2)):
        if high is not None:
            band = abs(high) * band_percent / 100.0 if current >= k else 0.0
            if value >= high - band:
                level = k
        if low is not None:
            band = abs(low) * band_percent / 100.0 if current >= k else 0.0
            if value <= low + band:
                level = k
    return level


def pass_breach(d: DeviceInfo, value: float, rules: RuleSet) -> str | None:
    """Why ``value`` fails the permit pass test of GB 30871 (None when it passes or does not apply)."""
    p = rules.permits
    dtype = rules.device_types.get(d.type)
    if dtype is not None and dtype.combustible and d.lel_vol:
        limits = p.get("combustible_vol_limit") or {"lel_at_least_4": 0.5, "lel_below_4": 0.2}
        limit = limits["lel_at_least_4"] if d.lel_vol >= 4 else limits["lel_below_4"]
        vol = value if d.unit == "%vol" else value * d.lel_vol / 100.0
        if vol > limit:
            return f"{vol:.3g} %vol > permit pass {limit:g} %vol (LEL {d.lel_vol:g} %)"
        return None
    if d.type == "o2":
        lo, hi = p.get("o2_range") or (19.5, 23.5)
        if not (lo <= value <= hi):
            return f"O2 {value:g} %vol outside permit pass {lo:g}-{hi:g} %vol"
        return None
    limit = getattr(d, p.get("toxic_limit") or "high1") if d.type in ("h2s", "co") else None
    if limit is not None and value > limit:
        return f"{value:g} {d.unit} > permit pass {limit:g} {d.unit} (occupational exposure limit)"
    return None


class Evaluator:
    """Applies a RuleSet to readings in arrival order."""

    def __init__(self, rules: RuleSet, wind_limit=None):
        self.rules = rules
        # () -> the wind speed (m/s) at or above which a wind reading concerns a permit, or None
        # (engine/iot/suspension.py reads it from the alarm_permit_suspension table).
        self.wind_limit = wind_limit
        self.reset()

    def reset(self) -> None:
        """Forget all rule state (tests, rules reloaded)."""
        self._levels: dict[tuple[str, str], _Level] = {}
        self._rise: dict[tuple[str, str], _Rise] = {}
        self._pass: dict[tuple[str, str], float] = {}
        self._area_alarm: dict[tuple[str, str], dict[str, datetime]] = {}
        self._combo_active: dict[tuple[str, str], bool] = {}
        self._rules_cache: dict[tuple[str, str], list] = {}

    def evaluate(self, d: DeviceInfo, value: float, ts: datetime, quality: str = "good",
                 metric: str | None = None) -> list[Finding]:
        """Findings of every rule that applies to device ``d`` for this reading."""
        key = (d.type, d.area)
        rules = self._rules_cache.get(key)
        if rules is None:
            rules = self._rules_cache[key] = self.rules.rules_for(d.type, d.area)
        if quality == "bad":
            return [f for r in rules if r.kind == "sensor_fault"
                    for f in [self.fault(d, r.id, r.params["grade"], ts, "the sensor reports bad quality", value)]]
        out: list[Finding] = []
        for r in rules:
            kind = r.kind
            if kind == "threshold":
                self._threshold(d, r, value, ts, out)
            elif kind == "permit_pass":
                self._permit_pass(d, r, value, ts, out)
            elif kind == "rate_of_rise":
                self._rate_of_rise(d, r, value, ts, out)
            elif kind == "combination":
                self._combination(d, r, value, ts, out)
            elif kind == "event":
                self._event(d, r, value, ts, metric, out)
        return out

    def fault(self, d: DeviceInfo, rule: str, grade: str, ts: datetime, why: str, value: float | None = None) -> Finding:
        """A blue sensor-fault finding for device ``d``."""
        return Finding(rule, "sensor_fault", d.area, grade, f"传感器故障 {d.id}: {why}", ts, d.id, None, value, d.unit,
                       area_department=d.area_department, details={"reason": why})

    # ------------------------------------------------------------------ kinds

    def _threshold(self, d, r, value, ts, out) -> None:
        st = self._levels.get((d.id, r.id))
        if st is None:
            st = self._levels[(d.id, r.id)] = _Level()
        level = alarm_level(d, value, st.level, r.params.get("hysteresis_percent", 0.0))
        if level != st.level:
            if level > st.level or level == 0:
                st.since = ts
            st.level = level
            if level == 0:
                st.reported = 0
                return
        if level == 0:
            return
        if (ts - st.since).total_seconds() < r.params.get("min_duration_s", 0):
            return
        now = ts.timestamp()
        onset = level > st.reported
        if not onset and now - st.last_emit < REFRESH_SECONDS:
            return
        st.reported = max(st.reported, level)
        st.last_emit = now
        grade = self.rules.grades["level1" if level == 1 else "level2"]
        side = "低" if (d.low1 is not None and value <= (d.low1 or 0)) else "高"
        out.append(Finding(r.id, "threshold", d.area, grade, f"{d.id} {side}{'一' if level == 1 else '二'}级报警 "
                           f"{value:g} {d.unit}", ts, d.id, level, value, d.unit, onset,
                           area_department=d.area_department,
                           details={"setpoints": {k: getattr(d, k) for k in ("high1", "high2", "low1", "low2")
                                                  if getattr(d, k) is not None}}))

    def _permit_pass(self, d, r, value, ts, out) -> None:
        if d.metric == "wind":
            # The limit is the alarm_permit_suspension table's (the lowest at which it stops any permit
            # type); which permits of the area it stops is decided on the alarm path.
            limit = self.wind_limit() if self.wind_limit is not None else None
            why = f"风速 {value:g} m/s ≥ {limit:g} m/s" if limit is not None and value >= limit else None
        else:
            why = pass_breach(d, value, self.rules)
        key = (d.id, r.id)
        if why is None:
            self._pass.pop(key, None)
            return
        onset = key not in self._pass
        self._pass[key] = ts.timestamp()
        out.append(Finding(r.id, "permit_pass", d.area, self.rules.grades["permit_breach"],
                           f"{d.id} 超出作业许可合格标准: {why}", ts, d.id, None, value, d.unit, onset,
                           needs_permit=True, area_department=d.area_department,
                           details={"reason": why, "alarm_kind": "wind" if d.metric == "wind" else "gas"}))

    def _rate_of_rise(self, d, r, value, ts, out) -> None:
        key = (d.id, r.id)
        st = self._rise.get(key)
        if st is None:
            st = self._rise[key] = _Rise()
        w = st.window
        horizon = ts.timestamp() - r.params["window_s"]
        while w and w[0][0] < horizon:
            w.popleft()
        lowest = w[0][1] if w else value
        while w and w[-1][1] >= value:
            w.pop()
        w.append((ts.timestamp(), value))
        rising = value - lowest >= r.params["rise"]
        if rising and not st.active:
            out.append(Finding(r.id, "rate_of_rise", d.area, r.params["grade"],
                               f"{d.id} 快速上升 {lowest:g}→{value:g} {d.unit} / {r.params['window_s']:g}s", ts, d.id,
                               None, value, d.unit, True, area_department=d.area_department,
                               details={"from": lowest, "to": value, "window_s": r.params["window_s"]}))
        st.active = rising

    def _combination(self, d, r, value, ts, out) -> None:
        akey = (d.area, r.id)
        members = self._area_alarm.setdefault(akey, {})
        if alarm_level(d, value) >= r.params["min_level"]:
            members[d.id] = ts
        else:
            members.pop(d.id, None)
        horizon = ts.timestamp() - r.params["window_s"]
        recent = sorted(k for k, t in members.items() if t.timestamp() >= horizon)
        active = len(recent) >= r.params["min_devices"]
        if active and not self._combo_active.get(akey):
            out.append(Finding(r.id, "combination", d.area, r.params["grade"],
                               f"{d.area} 多个探测器同时报警: {', '.join(recent)}", ts, None, r.params["min_level"],
                               value, d.unit, True, area_department=d.area_department, details={"devices": recent}))
        self._combo_active[akey] = active

    def _event(self, d, r, value, ts, metric, out) -> None:
        grade = r.params["events"].get(metric or "")
        if grade is None or value < r.params.get("min_confidence", 0.5):
            return
        out.append(Finding(r.id, "event", d.area, grade, f"{d.id} 视频分析: {metric} ({value:.0%})", ts, d.id, None,
                           value, d.unit, True, area_department=d.area_department, details={"event": metric},
                           key_suffix=f".{metric}"))
