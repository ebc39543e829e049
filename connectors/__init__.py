"""Connector SDK and built-in connectors (MES, notifications, data hub)."""
from connectors.base import Connector, Operation, Param  # noqa: F401
