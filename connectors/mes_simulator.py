"""A small plant MES, served over real HTTP, for tests and the demo.

It answers for the sample plant's areas (``unit-1``, ``tank-farm-3``,
``pipe-rack-a``, ``warehouse``) with deterministic data: the same request
always gets the same answer, so tests and demos are repeatable.

MES API (what the ``mes`` connector calls)::

    GET  /api/health
    GET  /api/areas
    GET  /api/work-orders?area=unit-1&date=2025-06-01
    GET  /api/equipment?area=unit-1
    GET  /api/equipment/<equipment_id>
    GET  /api/schedule?area=unit-1&from=2025-06-01&to=2025-06-02

Control API (tests and demos drive failure and plant state through it)::

    POST /_control/faults     {"path": "/api/work-orders", "mode": "error"|"stall",
                               "status": 503, "times": 2, "delay": 2.0}
    POST /_control/equipment/<id>  {"current_load_pct": 104.0, "status": "running"}
    POST /_control/clock      {"now": "2026-11-29T10:00:00+00:00"} (null: the real clock)
    POST /_control/work-orders/<id>  {"actual_quantity": -5} (fields served as given)
    POST /_control/reset      clear faults, overrides, request log and sink
    GET  /_control/requests   request counts by path
    POST /_sink/<channel>     a webhook receiver: stores the JSON body
    GET  /_sink/<channel>     what was stored

Start it with ``anjian mes-simulator --port 8900`` or, in a test,
``with MesSimulator() as sim: sim.url``.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import random
import threading
import time
from collections import Counter

from flask import Flask, jsonify, request
from werkzeug.serving import WSGIRequestHandler, make_server

AREAS = {
    "unit-1": {"name": "合成装置区", "department": "workshop-1", "hazard": "fire_explosion"},
    "tank-farm-3": {"name": "三号罐区", "department": "storage", "hazard": "major_hazard_tank_farm"},
    "pipe-rack-a": {"name": "A 管廊", "department": "workshop-1", "hazard": "pipe_rack"},
    "warehouse": {"name": "备件仓库", "department": "maintenance", "hazard": "general"},
}

# The eight special operations of GB 30871 (危险化学品企业特殊作业安全规范).
SPECIAL_OPERATIONS = {
    "hot_work": "动火作业",
    "confined_space": "受限空间作业",
    "blind_plate": "盲板抽堵作业",
    "work_at_height": "高处作业",
    "lifting": "吊装作业",
    "temporary_power": "临时用电作业",
    "excavation": "动土作业",
    "road_closure": "断路作业",
}

# (id, name, type, rated load value, unit, base load %, status)
EQUIPMENT = {
    "unit-1": [
        ("R-101", "合成反应釜", "reactor", 25.0, "m3", 78.0, "running"),
        ("P-101A", "进料泵 A", "pump", 45.0, "m3/h", 82.5, "running"),
        ("P-101B", "进料泵 B (备用)", "pump", 45.0, "m3/h", 0.0, "standby"),
        ("C-201", "循环气压缩机", "compressor", 1200.0, "Nm3/h", 91.0, "running"),
        ("E-105", "反应器出料换热器", "heat_exchanger", 3.2, "MW", 67.0, "running"),
    ],
    "tank-farm-3": [
        ("T-301", "甲醇储罐", "tank", 5000.0, "m3", 62.0, "running"),
        ("T-302", "甲苯储罐", "tank", 3000.0, "m3", 88.0, "running"),
        ("T-303", "丙烯球罐", "sphere", 1000.0, "m3", 71.0, "running"),
        ("P-310", "装车泵", "pump", 120.0, "m3/h", 0.0, "maintenance"),
    ],
    "pipe-rack-a": [
        ("PL-A01", "蒸汽总管 DN300", "pipeline", 1.6, "MPa", 74.0, "running"),
        ("PL-A02", "氢气管线 DN100", "pipeline", 2.5, "MPa", 58.0, "running"),
        ("PL-A03", "火炬气管线 DN400", "pipeline", 0.3, "MPa", 12.0, "running"),
    ],
    "warehouse": [
        ("FL-01", "防爆叉车 1", "forklift", 3.0, "t", 35.0, "running"),
        ("CR-01", "桥式起重机", "crane", 10.0, "t", 0.0, "standby"),
    ],
}

# Work-order templates per area: (title, type, special operations, equipment id or None)
WORK_TEMPLATES = {
    "unit-1": [
        ("反应釜 R-101 人孔检修", "maintenance", ["confined_space", "blind_plate"], "R-101"),
        ("进料泵 P-101A 出口法兰焊接", "repair", ["hot_work"], "P-101A"),
        ("压缩机 C-201 联轴器对中", "maintenance", [], "C-201"),
        ("换热器 E-105 管束抽芯", "overhaul", ["lifting", "blind_plate"], "E-105"),
        ("装置区照明检修", "repair", ["work_at_height", "temporary_power"], None),
        ("仪表取压管更换", "repair", ["hot_work", "work_at_height"], "R-101"),
    ],
    "tank-farm-3": [
        ("甲醇储罐 T-301 清罐", "cleaning", ["confined_space"], "T-301"),
        ("T-302 呼吸阀校验", "inspection", ["work_at_height"], "T-302"),
        ("防火堤内管线动火补焊", "repair", ["hot_work"], None),
        ("装车泵 P-310 解体检修", "maintenance", ["blind_plate"], "P-310"),
        ("罐区消防道路开挖埋管", "construction", ["excavation", "road_closure"], None),
    ],
    "pipe-rack-a": [
        ("蒸汽总管保温更换", "maintenance", ["work_at_height"], "PL-A01"),
        ("氢气管线 PL-A02 盲板抽堵", "maintenance", ["blind_plate"], "PL-A02"),
        ("管廊钢结构防腐", "maintenance", ["work_at_height", "hot_work"], None),
        ("管廊下方电缆桥架敷设", "construction", ["temporary_power", "lifting"], None),
    ],
    "warehouse": [
        ("备件库房货架调整", "logistics", [], None),
        ("起重机 CR-01 年检", "inspection", ["lifting"], "CR-01"),
        ("仓库屋面防水修补", "repair", ["work_at_height", "hot_work"], None),
    ],
}

CONTRACTORS = ["本厂维修班", "华东石化检修公司", "宏达安装工程有限公司", "中化防腐工程公司"]
SHIFTS = [("night", "夜班", "00:00", "08:00"), ("day", "白班", "08:00", "16:00"), ("evening", "中班", "16:00", "24:00")]
TEAMS = ["甲班", "乙班", "丙班", "丁班"]
PRODUCTS = {
    "unit-1": [("合成氨", 30.0, "t"), ("甲醇", 18.0, "t")],
    "tank-farm-3": [("甲醇收储", 400.0, "m3"), ("甲苯装车", 120.0, "m3")],
    "pipe-rack-a": [("蒸汽输送", 60.0, "t")],
    "warehouse": [("备件出入库", 40.0, "批")],
}
MAX_SCHEDULE_DAYS = 31


def _rng(*parts) -> random.Random:
    seed = hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()
    return random.Random(int(seed[:16], 16))


# Share of orders that finish near plan; the rest fall short (material, weather, a stop).
NEAR_PLAN_SHARE = 0.8


def work_orders(area: str, day: dt.date, now: dt.datetime | None = None) -> list[dict]:
    """The deterministic work orders of ``area`` on ``day`` as the MES shows them at ``now`` (default: now).

    Each order has a ``planned_quantity`` of one of the area's products. An
    order whose planned end has passed is ``completed``; an ``in_progress`` or
    ``completed`` order has an ``actual_quantity`` that grows with the full hours
    worked of its planned time up to its final yield (most near plan, some short).
    """
    now = now or dt.datetime.now(dt.timezone.utc)
    rng = _rng("wo", area, day.isoformat())
    templates = WORK_TEMPLATES[area]
    count = rng.randint(2, min(4, len(templates)))
    chosen = rng.sample(templates, count)
    out = []
    for i, (title, kind, specials, equipment) in enumerate(chosen, start=1):
        start_hour = rng.choice([8, 9, 10, 13, 14])
        hours = rng.choice([2, 3, 4, 6])
        code = "".join(p[0] for p in area.split("-")).upper()
        out.append({
            "id": f"WO-{day.strftime('%Y%m%d')}-{code}-{i:03d}",
            "area": area,
            "title": title,
            "type": kind,
            "status": rng.choice(["planned", "released", "released", "in_progress"]),
            "priority": rng.choice(["normal", "normal", "high", "urgent"]),
            "equipment_id": equipment,
            "special_operations": [{"code": s, "name": SPECIAL_OPERATIONS[s],
                                    "level": _level(s, rng)} for s in specials],
            "planned_start": f"{day.isoformat()}T{start_hour:02d}:00:00+08:00",
            "planned_end": f"{day.isoformat()}T{start_hour + hours:02d}:00:00+08:00",
            "contractor": rng.choice(CONTRACTORS),
            "workers": rng.randint(2, 6),
        })
    for wo in out:
        _add_output(wo, area, now)
    return out


def _add_output(wo: dict, area: str, now: dt.datetime) -> None:
    # A separate generator per order: the fields above stay what they always were.
    rng = _rng("output", wo["id"])
    product, per_shift, unit = rng.choice(PRODUCTS[area])
    start, end = dt.datetime.fromisoformat(wo["planned_start"]), dt.datetime.fromisoformat(wo["planned_end"])
    hours = (end - start).total_seconds() / 3600
    planned = round(per_shift * hours / 8 * rng.uniform(0.9, 1.1), 1)
    final = rng.uniform(0.95, 1.03) if rng.random() < NEAR_PLAN_SHARE else rng.uniform(0.6, 0.9)
    if now >= end:
        wo["status"] = "completed"
    wo.update({"product": product, "unit": unit, "planned_quantity": planned, "actual_quantity": None})
    if wo["status"] in ("in_progress", "completed"):
        # Output is booked once per full hour worked (as MES bookings are), so two reads
        # a moment apart give the same answer and a re-sync finds nothing changed.
        booked = min(max((now - start) // dt.timedelta(hours=1), 0), hours)
        wo["actual_quantity"] = round(planned * final * booked / hours, 1)


def _level(special: str, rng: random.Random) -> str | None:
    if special == "hot_work":
        return rng.choice(["特级", "一级", "二级"])
    if special in ("work_at_height", "lifting"):
        return rng.choice(["一级", "二级", "三级"])
    return None


def schedule(area: str, start: dt.date, end: dt.date) -> list[dict]:
    """Three shifts a day for ``area`` from ``start`` to ``end`` inclusive."""
    out = []
    day = start
    while day <= end:
        for idx, (code, name, t0, t1) in enumerate(SHIFTS):
            rng = _rng("shift", area, day.isoformat(), code)
            team = TEAMS[(day.toordinal() * 3 + idx) % len(TEAMS)]
            plan = [{"product": p, "quantity": round(q * rng.uniform(0.85, 1.1), 1), "unit": u}
                    for p, q, u in PRODUCTS[area]]
            activity = "正常生产"
            if day.weekday() == 6 and code == "day":
                activity = "计划停车检修" if area == "unit-1" else "设备例行检查"
            out.append({"date": day.isoformat(), "shift": code, "name": name, "start": t0, "end": t1,
                        "team": team, "activity": activity, "plan": plan})
        day += dt.timedelta(days=1)
    return out


class MesState:
    """Mutable state of a running simulator: faults, overrides, request log, webhook sink."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Forget faults, overrides, the request log and the sink."""
        with getattr(self, "lock", threading.Lock()):
            self.faults: list[dict] = []
            self.overrides: dict[str, dict] = {}
            self.work_order_overrides: dict[str, dict] = {}
            self.now: dt.datetime | None = None  # None: the real clock
            self.requests: Counter = Counter()
            self.sink: dict[str, list] = {}

    def take_fault(self, path: str) -> dict | None:
        """The first armed fault whose path prefixes ``path`` (its remaining count decremented)."""
        with self.lock:
            for fault in self.faults:
                if path.startswith(fault["path"]) and fault["times"] != 0:
                    if fault["times"] > 0:
                        fault["times"] -= 1
                    return dict(fault)
        return None


def create_simulator_app(state: MesState | None = None) -> Flask:
    """The simulator as a Flask app (``state`` shared with the caller when given)."""
    state = state or MesState()
    app = Flask("anjian-mes-simulator")
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    app.extensions["mes_state"] = state

    def error(status: int, message: str):
        return jsonify({"error": message, "status": status}), status

    def area_arg():
        area = request.args.get("area", "")
        if not area:
            return None, error(400, "query parameter 'area' is required")
        if area not in AREAS:
            return None, error(404, f"unknown area '{area}' (areas: {', '.join(AREAS)})")
        return area, None

    def date_arg(name: str, default: dt.date | None):
        raw = request.args.get(name)
        if not raw:
            return default, None
        try:
            return dt.date.fromisoformat(raw), None
        except ValueError:
            return None, error(400, f"query parameter '{name}' must be a date YYYY-MM-DD, got '{raw}'")

    def equipment_row(area: str, row: tuple) -> dict:
        eid, name, kind, rated, unit, load, status = row
        over = state.overrides.get(eid, {})
        load = over.get("current_load_pct", load)
        status = over.get("status", status)
        alarms = []
        if load >= 100:
            alarms.append({"code": "OVERLOAD", "message": f"负荷 {load}% 超过额定值"})
        elif load >= 90:
            alarms.append({"code": "HIGH_LOAD", "message": f"负荷 {load}% 接近额定值"})
        return {"id": eid, "name": name, "area": area, "type": kind, "status": status,
                "rated_load": {"value": rated, "unit": unit}, "current_load_pct": load,
                "alarms": alarms}

    @app.before_request
    def inject_faults():
        path = request.path
        if path.startswith("/_"):
            return None
        with state.lock:
            state.requests[path] += 1
        fault = state.take_fault(path)
        if fault is None:
            return None
        if fault["mode"] == "stall":
            time.sleep(fault.get("delay", 5.0))
            return None
        return error(fault.get("status", 503), f"injected fault ({fault.get('status', 503)})")

    @app.get("/api/health")
    def health():
        return {"status": "ok", "areas": len(AREAS)}

    @app.get("/api/areas")
    def areas():
        return {"areas": [{"code": k, **v} for k, v in AREAS.items()]}

    @app.get("/api/work-orders")
    def get_work_orders():
        area, err = area_arg()
        if err:
            return err
        day, err = date_arg("date", state.now.date() if state.now else dt.date.today())
        if err:
            return err
        orders = work_orders(area, day, state.now)
        with state.lock:
            for wo in orders:
                wo.update(state.work_order_overrides.get(wo["id"], {}))
        return {"area": area, "date": day.isoformat(), "work_orders": orders}

    @app.get("/api/equipment")
    def list_equipment():
        area, err = area_arg()
        if err:
            return err
        return {"area": area, "equipment": [equipment_row(area, r) for r in EQUIPMENT[area]]}

    @app.get("/api/equipment/<equipment_id>")
    def get_equipment(equipment_id):
        for area, rows in EQUIPMENT.items():
            for row in rows:
                if row[0] == equipment_id:
                    return equipment_row(area, row)
        return error(404, f"unknown equipment '{equipment_id}'")

    @app.get("/api/schedule")
    def get_schedule():
        area, err = area_arg()
        if err:
            return err
        start, err = date_arg("from", dt.date.today())
        if err:
            return err
        end, err = date_arg("to", start)
        if err:
            return err
        if end < start:
            return error(400, f"'to' ({end}) is before 'from' ({start})")
        if (end - start).days >= MAX_SCHEDULE_DAYS:
            return error(400, f"at most {MAX_SCHEDULE_DAYS} days per request")
        return {"area": area, "from": start.isoformat(), "to": end.isoformat(),
                "shifts": schedule(area, start, end)}

    @app.post("/_control/faults")
    def add_fault():
        body = request.get_json(silent=True) or {}
        mode = body.get("mode", "error")
        if mode not in ("error", "stall"):
            return error(400, "mode must be 'error' or 'stall'")
        fault = {"path": body.get("path", "/api/"), "mode": mode, "status": int(body.get("status", 503)),
                 "times": int(body.get("times", 1)), "delay": float(body.get("delay", 5.0))}
        with state.lock:
            state.faults.append(fault)
        return fault, 201

    @app.post("/_control/equipment/<equipment_id>")
    def override_equipment(equipment_id):
        if not any(r[0] == equipment_id for rows in EQUIPMENT.values() for r in rows):
            return error(404, f"unknown equipment '{equipment_id}'")
        body = request.get_json(silent=True) or {}
        with state.lock:
            state.overrides.setdefault(equipment_id, {}).update(
                {k: body[k] for k in ("current_load_pct", "status") if k in body})
        return {"id": equipment_id, **state.overrides[equipment_id]}

    @app.post("/_control/clock")
    def set_clock():
        raw = (request.get_json(silent=True) or {}).get("now")
        try:
            now = dt.datetime.fromisoformat(raw) if raw else None
        except (TypeError, ValueError):
            return error(400, f"'now' must be an ISO date-time with offset, got {raw!r}")
        if now is not None and now.tzinfo is None:
            return error(400, "'now' needs a UTC offset")
        with state.lock:
            state.now = now
        return {"now": now.isoformat() if now else None}

    @app.post("/_control/work-orders/<order_id>")
    def override_work_order(order_id):
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return error(400, "body must be a JSON object of work-order fields")
        with state.lock:
            state.work_order_overrides.setdefault(order_id, {}).update(body)
            return {"id": order_id, **state.work_order_overrides[order_id]}

    @app.post("/_control/reset")
    def reset():
        state.reset()
        return {"reset": True}

    @app.get("/_control/requests")
    def requests_seen():
        with state.lock:
            return {"requests": dict(state.requests)}

    @app.post("/_sink/<channel>")
    def sink_post(channel):
        body = request.get_json(silent=True)
        fault = state.take_fault(request.path)
        if fault is not None:
            if fault["mode"] == "stall":
                time.sleep(fault.get("delay", 5.0))
            else:
                return error(fault.get("status", 503), "injected fault")
        with state.lock:
            state.sink.setdefault(channel, []).append({"body": body, "headers": {
                "content-type": request.headers.get("Content-Type"),
                "user-agent": request.headers.get("User-Agent")}})
        return {"received": True}, 202

    @app.get("/_sink/<channel>")
    def sink_get(channel):
        with state.lock:
            return {"channel": channel, "items": list(state.sink.get(channel, []))}

    return app


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):  # tests: no access log on stderr
        pass


class MesSimulator:
    """The simulator as a real HTTP server on a thread (``port=0`` picks a free port).

    Use as a context manager or call :meth:`start` / :meth:`stop`; ``url`` is
    its base URL once started.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, quiet: bool = True):
        """Bind the socket now (so ``port``/``url`` are known); serve on :meth:`start`."""
        self.state = MesState()
        self.app = create_simulator_app(self.state)
        handler = _QuietHandler if quiet else WSGIRequestHandler
        self._server = make_server(host, port, self.app, threaded=True, request_handler=handler)
        self._server.daemon_threads = True
        self.host = host
        self.port = self._server.server_port
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:40123``."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> "MesSimulator":
        """Serve on a daemon thread; returns self."""
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"mes-simulator-{self.port}",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def serve_forever(self) -> None:
        """Serve on the calling thread until interrupted (the CLI)."""
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()

    def __enter__(self) -> "MesSimulator":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    """``python -m connectors.mes_simulator --port 8900``."""
    import argparse

    parser = argparse.ArgumentParser(description="Anjian MES simulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900)
    args = parser.parse_args(argv)
    sim = MesSimulator(args.host, args.port, quiet=False)
    print(f"MES simulator on {sim.url} (areas: {', '.join(AREAS)})", flush=True)
    sim.serve_forever()


if __name__ == "__main__":
    main()
