"""The ``mes`` connector: a plant MES over HTTP (work orders, equipment load, schedule).

The MES API it speaks is the one :mod:`connectors.mes_simulator` serves; a
real MES is put behind an adapter speaking the same few endpoints, or this
class is subclassed with other paths.

Configuration (``ANJIAN_CONNECTOR_MES_<KEY>`` or ``ANJIAN_CONNECTORS={"mes": {...}}``):
``base_url`` (default ``http://127.0.0.1:8900``, where ``anjian mes-simulator``
listens), ``api_key`` (sent as ``Authorization: Bearer``), ``connect_timeout``,
``read_timeout``, ``retries``, ``backoff``.
"""
from __future__ import annotations

from connectors.base import Connector, ConnectorError, Param, operation
from connectors.http import HttpClient

DEFAULT_BASE_URL = "http://127.0.0.1:8900"

_SPECIAL_OP = {"type": "object", "required": ["code", "name"],
               "properties": {"code": {"type": "string"}, "name": {"type": "string"}}}
_WORK_ORDER = {"type": "object", "required": ["id", "area", "title", "status", "special_operations"],
               "properties": {"id": {"type": "string"}, "area": {"type": "string"}, "title": {"type": "string"},
                              "status": {"type": "string"},
                              "special_operations": {"type": "array", "items": _SPECIAL_OP}}}
_EQUIPMENT = {"type": "object", "required": ["id", "area", "status", "rated_load", "current_load_pct"],
              "properties": {"id": {"type": "string"}, "status": {"type": "string"},
                             "rated_load": {"type": "object", "required": ["value", "unit"]},
                             "current_load_pct": {"type": "number"}}}


class MesConnector(Connector):
    """Reads work orders, equipment status/load and the production schedule from the plant MES."""

    name = "mes"
    version = "1.0.0"
    kind = "mes"
    description = "Plant MES over HTTP: work orders, equipment status and load, production schedule"
    config_schema = {
        "type": "object",
        "properties": {
            "base_url": {"type": "string", "pattern": "^https?://", "description": "MES API base URL"},
            "api_key": {"type": "string", "writeOnly": True, "description": "bearer token for the MES"},
            "connect_timeout": {"type": "number", "exclusiveMinimum": 0, "default": 3},
            "read_timeout": {"type": "number", "exclusiveMinimum": 0, "default": 10},
            "retries": {"type": "integer", "minimum": 0, "maximum": 10, "default": 2},
            "backoff": {"type": "number", "minimum": 0, "default": 0.2},
        },
        "additionalProperties": False,
    }

    def __init__(self, config: dict | None = None):
        """Configure (no connection is opened until the first call)."""
        super().__init__(config)
        self.config.setdefault("base_url", DEFAULT_BASE_URL)
        self._client: HttpClient | None = None

    @property
    def client(self) -> HttpClient:
        """The HTTP hook (created on first use)."""
        if self._client is None:
            c = self.config
            headers = {"Authorization": f"Bearer {c['api_key']}"} if c.get("api_key") else None
            self._client = HttpClient(c["base_url"], connect_timeout=c.get("connect_timeout", 3),
                                      read_timeout=c.get("read_timeout", 10), retries=c.get("retries", 2),
                                      backoff=c.get("backoff", 0.2), headers=headers)
        return self._client

    def close(self) -> None:
        """Close the HTTP session."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def _get(self, path: str, params: dict | None = None):
        try:
            return self.client.get(path, params).body
        except ConnectorError as err:
            if err.status == 404:
                err.message = f"MES does not know it: {err.message}"
            raise

    @operation(result_schema={"type": "object", "required": ["areas"],
                              "properties": {"areas": {"type": "array", "items": {
                                  "type": "object", "required": ["code"],
                                  "properties": {"code": {"type": "string"}, "department": {"type": "string"}}}}}})
    def areas(self):
        """The plant areas the MES knows, with their departments (the scheduled hub sync reads all of them)."""
        return self._get("/api/areas")

    @operation(params=[Param("area", description="plant area code, e.g. unit-1"),
                       Param("date", "date", required=False, description="day (default: today, MES time)")],
               result_schema={"type": "object", "required": ["area", "date", "work_orders"],
                              "properties": {"work_orders": {"type": "array", "items": _WORK_ORDER}}})
    def work_orders(self, area, date=None):
        """Work orders of an area on a day, with their special operations (动火, 受限空间 …) and output.

        ``planned_quantity`` / ``actual_quantity`` are passed through as the MES
        sends them (not type-checked here): the hub sync validates them per order,
        so one bad order is rejected instead of failing the whole read.
        """
        params = {"area": area}
        if date:
            params["date"] = date
        result = self._get("/api/work-orders", params)
        result["special_operation_count"] = sum(len(w.get("special_operations") or [])
                                                for w in result.get("work_orders") or [])
        return result

    @operation(params=[Param("equipment_id", description="equipment tag, e.g. P-101A")], result_schema=_EQUIPMENT)
    def equipment_status(self, equipment_id):
        """Running state, rated load and current load (%) of one piece of equipment."""
        return self._get(f"/api/equipment/{equipment_id}")

    @operation(params=[Param("area", description="plant area code")],
               result_schema={"type": "object", "required": ["area", "equipment", "max_load_pct"],
                              "properties": {"equipment": {"type": "array", "items": _EQUIPMENT}}})
    def area_equipment(self, area):
        """All equipment of an area with status and load, plus the highest load and any overloaded."""
        result = self._get("/api/equipment", {"area": area})
        items = result.get("equipment") or []
        result["max_load_pct"] = max((e.get("current_load_pct") or 0 for e in items), default=0)
        result["overloaded"] = [e["id"] for e in items if (e.get("current_load_pct") or 0) >= 100]
        return result

    @operation(params=[Param("area", description="plant area code"),
                       Param("from", "date", required=False, description="first day (default: today)"),
                       Param("to", "date", required=False, description="last day (default: from)")],
               result_schema={"type": "object", "required": ["area", "shifts"],
                              "properties": {"shifts": {"type": "array", "items": {
                                  "type": "object", "required": ["date", "shift", "start", "end"]}}}})
    def production_schedule(self, area, **window):
        """The production schedule of an area by shift (白班/中班/夜班) over a date range."""
        params = {"area": area}
        params.update({k: v for k, v in window.items() if v})
        return self._get("/api/schedule", params)
