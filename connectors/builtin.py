"""Declarations of the built-in connectors.

Their HTTP/SMTP/hub implementations arrive with the connector issue; the
declarations are real so deployment validation checks operators and
required parameters today.
"""
from __future__ import annotations

from connectors.base import Connector, Operation, Param


class MesConnector(Connector):
    name = "mes"
    version = "1"
    config_schema = {"type": "object", "properties": {"base_url": {"type": "string"}}}

    def operations(self):
        return [
            Operation("work_orders", (Param("area"), Param("date", required=False)),
                      "MES work orders of an area on a date"),
            Operation("equipment_status", (Param("equipment_id"),), "running state and load of equipment"),
            Operation("production_schedule", (Param("area"), Param("from", required=False),
                                              Param("to", required=False)), "production schedule"),
        ]


class NotifyConnector(Connector):
    name = "notify"
    version = "1"

    def operations(self):
        return [
            Operation("webhook", (Param("url"), Param("payload", "object", required=False)), "POST JSON"),
            Operation("people", (Param("recipients", "array"), Param("message")), "notify people/departments"),
        ]


class HubConnector(Connector):
    name = "hub"
    version = "1"

    def operations(self):
        return [
            Operation("read", (Param("kind"), Param("filters", "object", required=False)), "read hub records"),
            Operation("write", (Param("kind"), Param("record", "object")), "write a hub record"),
        ]


BUILTIN_CONNECTORS = [MesConnector, NotifyConnector, HubConnector]
