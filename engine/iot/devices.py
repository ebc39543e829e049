"""The device registry: which instrument is where, what it measures, when it alarms."""
from __future__ import annotations

import csv
import io
import re
import threading
import time
from dataclasses import dataclass

from sqlalchemy import delete, func, select

from engine.db import Database
from engine.errors import Forbidden, Invalid, NotFound
from engine.iot.models import Device
from engine.iot.rules import SETPOINTS, RuleSet
from engine.iot.telemetry import Rejected, Sample
from engine.models import Area, utcnow
from engine.principal import Principal

DEVICE_ADMIN_ROLES = frozenset({"admin", "maintenance", "supervision"})
DEVICE_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")  # also a single MQTT topic level
FIELDS = ("id", "name", "type", "metric", "unit", "area", "equipment", "gas", "lel_vol",
          *SETPOINTS, "range_min", "range_max", "active")
NUMERIC = ("lel_vol", *SETPOINTS, "range_min", "range_max")
MAX_IMPORT = 20_000
MISS_RELOAD_SECONDS = 5.0


def device_view(d: Device) -> dict:
    """A device as the API shows it."""
    return {"id": d.id, "name": d.name, "type": d.type, "metric": d.metric, "unit": d.unit, "area": d.area,
            "equipment": d.equipment, "gas": d.gas, "lel_vol": d.lel_vol,
            "setpoints": {k: getattr(d, k) for k in SETPOINTS if getattr(d, k) is not None},
            "range": [d.range_min, d.range_max], "active": d.active,
            "last_seen_at": d.last_seen_at.isoformat() if d.last_seen_at else None,
            "created_at": d.created_at.isoformat() if d.created_at else None}


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """What the ingest pipeline needs of a device, held in memory."""

    id: str
    type: str
    metric: str
    unit: str
    area: str
    area_department: str | None
    lel_vol: float | None
    high1: float | None
    high2: float | None
    low1: float | None
    low2: float | None
    range_min: float
    range_max: float
    active: bool

    def check(self, sample: Sample, video: bool) -> None:
        """Raise Rejected when ``sample`` does not fit this device (area, metric, unit, range)."""
        if not self.active:
            raise Rejected("decommissioned", "device", f"device {self.id} is decommissioned", self.id)
        if sample.area is not None and sample.area != self.area:
            raise Rejected("area_mismatch", "area",
                           f"device {self.id} is registered in area {self.area}, not {sample.area}", self.id)
        if not video and sample.metric and sample.metric != self.metric:
            raise Rejected("unknown_metric", "metric", f"device {self.id} publishes '{self.metric}', not "
                                                       f"'{sample.metric}'", self.id)
        if sample.unit is not None and sample.unit != self.unit:
            raise Rejected("unit_mismatch", "unit", f"device {self.id} measures in {self.unit}, not {sample.unit}",
                           self.id)
        if not (self.range_min <= sample.value <= self.range_max):
            raise Rejected("out_of_range", "value", f"{sample.value:g} is outside the measuring range "
                                                    f"{self.range_min:g}..{self.range_max:g} of {self.id}", self.id)


class DeviceRegistry:
    """CRUD and bulk import of devices; an in-memory snapshot for ingest."""

    def __init__(self, db: Database, rules: RuleSet):
        self.db = db
        self.rules = rules
        self._lock = threading.Lock()
        self._cache: dict[str, DeviceInfo] = {}
        self._loaded_at = 0.0
        self._miss_reload_at = 0.0
        self._misses: dict[str, float] = {}
        self.refresh_seconds = 30.0

    # ------------------------------------------------------------------ API

    def list(self, *, area: str | None = None, type: str | None = None, include_inactive: bool = False,
             page: int = 1, page_size: int = 50) -> dict:
        """Devices ordered by id."""
        conds = []
        if area:
            conds.append(Device.area == area)
        if type:
            conds.append(Device.type == type)
        if not include_inactive:
            conds.append(Device.active.is_(True))
        with self.db.session(write=False) as s:
            total = s.scalar(select(func.count()).select_from(Device).where(*conds))
            rows = s.scalars(select(Device).where(*conds).order_by(Device.id)
                             .offset((page - 1) * page_size).limit(page_size)).all()
            return {"items": [device_view(d) for d in rows], "total": total, "page": page, "page_size": page_size}

    def get(self, device_id: str) -> dict:
        """One device (404 when unknown)."""
        with self.db.session(write=False) as s:
            d = s.get(Device, device_id)
            if d is None:
                raise NotFound(f"no device {device_id}")
            return device_view(d)

    def create(self, principal: Principal, data: dict) -> dict:
        """Register one device (409-free: an existing id is a 422 naming ``id``)."""
        self._check(principal)
        row = self.validate([data], self._areas())[0]
        with self.db.session() as s:
            if s.get(Device, row["id"]) is not None:
                raise Invalid("device exists", errors=[{"field": "id", "message": f"device {row['id']} already exists"}])
            d = Device(**row, created_at=utcnow(), updated_at=utcnow())
            s.add(d)
            s.flush()
            view = device_view(d)
        self.invalidate()
        return view

    def update(self, principal: Principal, device_id: str, changes: dict) -> dict:
        """Change fields of a device; set-points are re-checked against its type and range."""
        self._check(principal)
        with self.db.session() as s:
            d = s.get(Device, device_id)
            if d is None:
                raise NotFound(f"no device {device_id}")
            current = {k: getattr(d, k) for k in FIELDS}
            changes = dict(changes)
            if isinstance(changes.get("setpoints"), dict):  # nested API form: only the named points change
                changes.update(changes.pop("setpoints"))
            if isinstance(changes.get("range"), list) and len(changes["range"]) == 2:
                changes["range_min"], changes["range_max"] = changes.pop("range")
            merged = {**current, **changes, "id": device_id}
            if "type" in changes and changes["type"] != d.type:
                # type defaults (unit, metric, range, set-points) follow the new type unless given
                for k in ("unit", "metric", "range_min", "range_max", *SETPOINTS):
                    if k not in changes:
                        merged.pop(k, None)
            row = self.validate([merged], self._areas())[0]
            for k, v in row.items():
                setattr(d, k, v)
            d.updated_at = utcnow()
            s.flush()
            view = device_view(d)
        self.invalidate()
        return view

    def decommission(self, principal: Principal, device_id: str) -> dict:
        """Mark a device inactive (its readings are kept; new telemetry is dead-lettered)."""
        self._check(principal)
        with self.db.session() as s:
            d = s.get(Device, device_id)
            if d is None:
                raise NotFound(f"no device {device_id}")
            d.active = False
            d.updated_at = utcnow()
            view = device_view(d)
        self.invalidate()
        return view

    def import_rows(self, principal: Principal | None, rows: list[dict], *, progress=None, chunk: int = 500) -> dict:
        """Create or update many devices; all rows are checked first and nothing is stored if any fails.

        ``progress(done, total)`` is called after each stored chunk (the CLI draws a bar with it).
        """
        if principal is not None:
            self._check(principal)
        if len(rows) > MAX_IMPORT:
            raise Invalid("too many devices", errors=[{"field": "devices",
                                                       "message": f"at most {MAX_IMPORT} per import"}])
        clean = self.validate(rows, self._areas())
        seen: dict[str, int] = {}
        for i, row in enumerate(clean):
            if row["id"] in seen:
                raise Invalid("duplicate device ids", errors=[{"field": f"[{i}].id", "message":
                              f"device {row['id']} also appears at row {seen[row['id']]}"}])
            seen[row["id"]] = i
        created = updated = 0
        now = utcnow()
        for start in range(0, len(clean), chunk):
            part = clean[start:start + chunk]
            with self.db.session() as s:
                existing = {d.id: d for d in s.scalars(select(Device).where(Device.id.in_([r["id"] for r in part])))}
                for row in part:
                    d = existing.get(row["id"])
                    if d is None:
                        s.add(Device(**row, created_at=now, updated_at=now))
                        created += 1
                    else:
                        for k, v in row.items():
                            setattr(d, k, v)
                        d.updated_at = now
                        updated += 1
            if progress:
                progress(min(start + chunk, len(clean)), len(clean))
        self.invalidate()
        return {"created": created, "updated": updated, "total": len(clean)}

    def delete_all_for_tests(self) -> None:
        """Remove every device (test helper)."""
        with self.db.session() as s:
            s.execute(delete(Device))
        self.invalidate()

    # ------------------------------------------------------------------ validation

    def validate(self, rows: list[dict], areas: dict[str, str | None]) -> list[dict]:
        """Normalised rows ready to store, or Invalid listing ``[i].field`` for every problem."""
        out, errors = [], []
        for i, raw in enumerate(rows):
            prefix = f"[{i}]." if len(rows) > 1 else ""
            if not isinstance(raw, dict):
                errors.append({"field": prefix.rstrip(".") or "(body)", "message": "must be an object"})
                continue
            row, errs = self._validate_one(raw, areas)
            errors.extend({"field": prefix + e["field"], "message": e["message"]} for e in errs)
            out.append(row)
        if errors:
            raise Invalid(f"{len(errors)} problem(s) in the device data; nothing was stored", errors=errors)
        return out

    def _validate_one(self, raw: dict, areas: dict[str, str | None]) -> tuple[dict, list[dict]]:
        errs: list[dict] = []

        def err(field, message):
            errs.append({"field": field, "message": message})

        unknown = sorted(set(raw) - set(FIELDS) - {"setpoints", "range", "created_at", "last_seen_at"})
        for k in unknown:
            err(k, "unknown field")
        data = dict(raw)
        if isinstance(data.get("setpoints"), dict):  # the API's nested form
            for k, v in data.pop("setpoints").items():
                if k not in SETPOINTS:
                    err(f"setpoints.{k}", f"must be one of {', '.join(SETPOINTS)}")
                else:
                    data.setdefault(k, v)
        if isinstance(data.get("range"), list) and len(data["range"]) == 2:
            data.setdefault("range_min", data["range"][0])
            data.setdefault("range_max", data["range"][1])
        data.pop("range", None)
        for k in NUMERIC:
            v = data.get(k)
            if isinstance(v, str):
                v = v.strip()
                if v == "":
                    data[k] = None
                    continue
                try:
                    data[k] = float(v)
                except ValueError:
                    err(k, "must be a number")
                    data[k] = None
            elif v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
                err(k, "must be a number")
                data[k] = None
        dev_id = data.get("id")
        if not isinstance(dev_id, str) or not DEVICE_ID.match(dev_id):
            err("id", "required: 1-64 letters, digits, '_', '.', ':' or '-' (it is an MQTT topic level)")
        dtype = self.rules.device_types.get(data.get("type")) if isinstance(data.get("type"), str) else None
        if dtype is None:
            err("type", f"must be one of {', '.join(sorted(self.rules.device_types))}")
        area = data.get("area")
        if not isinstance(area, str) or area not in areas:
            err("area", f"unknown area {area!r}; known: {', '.join(sorted(areas)) or 'none'}")
        for k in ("name", "equipment", "gas", "unit", "metric"):
            if data.get(k) is not None and not isinstance(data[k], str):
                err(k, "must be a string")
        active = data.get("active", True)
        if isinstance(active, str):
            active = active.strip().lower() not in ("0", "false", "no", "off")
        if errs or dtype is None:
            return {}, errs
        unit = data.get("unit") or dtype.unit
        if unit != dtype.unit:
            err("unit", f"devices of type {dtype.name} report in {dtype.unit} (set-points and permit thresholds "
                        f"depend on it)")
        metric = data.get("metric") or dtype.metric
        if not re.match(r"^[A-Za-z0-9_.-]{1,32}$", metric):
            err("metric", "1-32 letters, digits, '_', '.' or '-'")
        lel = data.get("lel_vol")
        gas = data.get("gas") or None
        if dtype.combustible:
            if lel is None:
                lel = self.rules.lel_of(gas)
            if lel is None:
                err("gas", f"a combustible detector needs its gas ({', '.join(sorted(self.rules.gases))}) or "
                           f"lel_vol, to apply the permit pass threshold")
            elif not (0 < lel <= 100):
                err("lel_vol", "must be above 0 and at most 100 (% by volume)")
        rmin = data.get("range_min") if data.get("range_min") is not None else dtype.range[0]
        rmax = data.get("range_max") if data.get("range_max") is not None else dtype.range[1]
        if rmin >= rmax:
            err("range_max", "must be above range_min")
        points = {}
        for k in SETPOINTS:
            if data.get(k) is not None:
                points[k] = data[k]
            elif k in dtype.setpoints:
                points[k] = float(dtype.setpoints[k])
            elif k in dtype.setpoints_lel_percent and lel:
                points[k] = round(dtype.setpoints_lel_percent[k] * lel / 100.0, 4)
            else:
                points[k] = None
        for k, v in points.items():
            if v is not None and not (rmin <= v <= rmax):
                err(k, f"{v:g} is outside the measuring range {rmin:g}..{rmax:g}")
        if points["high1"] is not None and points["high2"] is not None and points["high2"] < points["high1"]:
            err("high2", "level 2 must not be below level 1")
        if points["low1"] is not None and points["low2"] is not None and points["low2"] > points["low1"]:
            err("low2", "low level 2 must not be above low level 1")
        row = {"id": dev_id, "name": data.get("name") or "", "type": dtype.name, "metric": metric, "unit": unit,
               "area": area, "equipment": data.get("equipment") or None, "gas": gas,
               "lel_vol": lel if dtype.combustible else data.get("lel_vol"), **points,
               "range_min": float(rmin), "range_max": float(rmax), "active": bool(active)}
        return row, errs

    # ------------------------------------------------------------------ ingest snapshot

    def invalidate(self) -> None:
        """Forget the in-memory snapshot (after a change made in this process)."""
        with self._lock:
            self._loaded_at = 0.0

    def lookup(self, device_id: str) -> DeviceInfo | None:
        """The device as ingest sees it; an unknown id reloads the snapshot at most every few seconds."""
        now = time.monotonic()
        if now - self._loaded_at > self.refresh_seconds:
            self._reload()
        info = self._cache.get(device_id)
        if info is None:
            until = self._misses.get(device_id)
            if until is not None and now < until:
                return None  # a gateway sending for an unregistered id must not reload the registry every time
            if now - self._miss_reload_at > MISS_RELOAD_SECONDS:
                self._miss_reload_at = now
                self._reload()
                info = self._cache.get(device_id)
            if info is None:
                if len(self._misses) > 10_000:
                    self._misses.clear()
                self._misses[device_id] = now + MISS_RELOAD_SECONDS
        return info

    def snapshot(self) -> dict[str, DeviceInfo]:
        """All devices by id (reloaded when stale)."""
        if time.monotonic() - self._loaded_at > self.refresh_seconds:
            self._reload()
        return self._cache

    def _reload(self) -> None:
        with self._lock:
            areas = self._areas()
            cols = [Device.id, Device.type, Device.metric, Device.unit, Device.area, Device.lel_vol, Device.high1,
                    Device.high2, Device.low1, Device.low2, Device.range_min, Device.range_max, Device.active]
            with self.db.session(write=False) as s:
                rows = s.execute(select(*cols)).all()
            self._cache = {r.id: DeviceInfo(r.id, r.type, r.metric, r.unit, r.area, areas.get(r.area), r.lel_vol,
                                            r.high1, r.high2, r.low1, r.low2, r.range_min, r.range_max, r.active)
                           for r in rows}
            self._misses = {}
            self._loaded_at = time.monotonic()

    def _areas(self) -> dict[str, str | None]:
        with self.db.session(write=False) as s:
            return {a.code: a.department for a in s.scalars(select(Area))}

    @staticmethod
    def _check(principal: Principal) -> None:
        if not principal.has_any(DEVICE_ADMIN_ROLES):
            raise Forbidden(f"managing devices needs one of the roles {sorted(DEVICE_ADMIN_ROLES)}")


def read_device_file(name: str, content: bytes) -> list[dict]:
    """Rows of a CSV (header row) or JSON (a list, or ``{"devices": [...]}``) device file."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:  # a binary upload (an image, an Excel file) is the client's mistake
        raise Invalid(f"{name} is not UTF-8 text", errors=[{"field": "file", "message":
                                                              f"expected CSV or JSON in UTF-8: {exc.reason} "
                                                              f"at byte {exc.start}"}]) from None
    if name.lower().endswith(".json") or text.lstrip().startswith(("[", "{")):
        import json

        try:
            data = json.loads(text)
        except ValueError as exc:
            raise Invalid(f"{name} is not valid JSON", errors=[{"field": "file", "message": str(exc)}]) from None
        if isinstance(data, dict):
            data = data.get("devices")
        if not isinstance(data, list):
            raise Invalid(f"{name}: expected a list of devices", errors=[{"field": "devices",
                                                                         "message": "must be a list"}])
        return data
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "id" not in reader.fieldnames:
        raise Invalid(f"{name}: the CSV needs a header row with at least id,type,area",
                      errors=[{"field": "file", "message": "missing header row"}])
    return [{k: v for k, v in row.items() if k is not None and v not in (None, "")} for row in reader]
