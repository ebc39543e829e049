"""Connector SDK and built-in connectors (MES, notifications, data hub).

Public names: :class:`Connector`, :class:`Operation`, :class:`Param`,
:func:`operation`, :class:`ConnectorError` (from :mod:`connectors.base`),
:class:`ConnectorRegistry` and :func:`discover` (from :mod:`connectors.registry`).
See ``connectors/README.md``.
"""
from connectors.base import Connector, ConnectorError, Operation, Param, operation  # noqa: F401
