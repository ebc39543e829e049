"""A sensor simulator for demos and benchmarks: realistic readings with a gas excursion.

``anjian simulate --area tank-farm-3`` registers a few instruments in the area
(if missing) and publishes their readings every second: combustible gas near
0-3 %LEL, oxygen near 20.9 %, traces of H2S, a pump's load. After
``excursion_after`` seconds one gas detector ramps past level 1 and level 2 and
back down, so the alert (and, with a permit active in the area, the red alarm
that suspends it) appears within a minute.
"""
from __future__ import annotations

import json
import math
import random
import time
from dataclasses import dataclass
from datetime import datetime, timezone

EXCURSION_SHAPE = [(0, 4), (5, 12), (10, 30), (15, 55), (25, 60), (35, 35), (45, 12), (55, 3)]  # (s, %LEL)


def demo_devices(area: str) -> list[dict]:
    """The instruments the simulator drives in ``area``."""
    return [
        {"id": f"{area}-GT-01", "name": "可燃气体探测器 1#", "type": "combustible_lel", "area": area, "gas": "methane",
         "equipment": "储罐 T-301 防火堤"},
        {"id": f"{area}-GT-02", "name": "可燃气体探测器 2#", "type": "combustible_lel", "area": area, "gas": "methane",
         "equipment": "储罐 T-302 防火堤"},
        {"id": f"{area}-O2-01", "name": "氧气检测仪", "type": "o2", "area": area, "equipment": "泵房"},
        {"id": f"{area}-H2S-01", "name": "硫化氢检测仪", "type": "h2s", "area": area, "equipment": "泵房"},
        {"id": f"{area}-LOAD-01", "name": "输送泵 P-301 负荷", "type": "load", "area": area, "equipment": "P-301"},
    ]


@dataclass
class SimDevice:
    """One simulated instrument: a baseline with noise."""

    id: str
    type: str
    metric: str
    area: str
    base: float
    noise: float
    lo: float
    hi: float


class Simulator:
    """Generates one reading per device per tick; one gas detector makes an excursion."""

    def __init__(self, devices: list[SimDevice], *, excursion_device: str | None = None,
                 excursion_after: float | None = 20.0, seed: int | None = None):
        self.devices = devices
        self.rng = random.Random(seed)
        self.excursion_device = excursion_device
        self.excursion_after = excursion_after
        self.started = None

    def tick(self, now: float) -> list[tuple[SimDevice, float]]:
        """``[(device, value)]`` for the moment ``now`` (epoch seconds)."""
        if self.started is None:
            self.started = now
        elapsed = now - self.started
        out = []
        for d in self.devices:
            value = d.base + self.rng.gauss(0, d.noise)
            if d.metric == "load":
                value += 8 * math.sin(elapsed / 30.0)
            if d.id == self.excursion_device and self.excursion_after is not None:
                value = max(value, excursion_value(elapsed - self.excursion_after))
            out.append((d, round(min(max(value, d.lo), d.hi), 3)))
        return out


def excursion_value(t: float) -> float:
    """%LEL of the excursion ``t`` seconds after it started (piecewise linear; 0 outside)."""
    if t < 0 or t > EXCURSION_SHAPE[-1][0]:
        return 0.0
    for (t0, v0), (t1, v1) in zip(EXCURSION_SHAPE, EXCURSION_SHAPE[1:]):
        if t0 <= t <= t1:
            return v0 + (v1 - v0) * (t - t0) / (t1 - t0)
    return 0.0


BASELINES = {"combustible_lel": (1.5, 0.6, 0, 100), "combustible_vol": (0.05, 0.02, 0, 100),
             "o2": (20.9, 0.05, 0, 30), "h2s": (0.3, 0.15, 0, 100), "co": (2, 1, 0, 1000),
             "temperature": (28, 0.5, -50, 600), "pressure": (0.6, 0.01, -0.1, 40), "current": (120, 3, 0, 5000),
             "load": (70, 1.5, 0, 200), "video": (0, 0, 0, 1)}


def sim_device(row: dict) -> SimDevice:
    """A SimDevice for a registered device view/row."""
    base, noise, lo, hi = BASELINES.get(row["type"], (0, 0, 0, 1))
    return SimDevice(row["id"], row["type"], row["metric"], row["area"], base, noise, lo, hi)


def payload(value: float, *, ts: float | None = None, unit: str | None = None) -> bytes:
    """The JSON payload of one reading."""
    body = {"value": value, "ts": datetime.fromtimestamp(ts or time.time(), timezone.utc).isoformat()}
    if unit:
        body["unit"] = unit
    return json.dumps(body).encode()


def topic(site: str, d: SimDevice) -> str:
    """``anjian/{site}/{area}/{device}/{metric}``."""
    return f"anjian/{site}/{d.area}/{d.id}/{d.metric}"
