"""Discovery of connectors through the ``anjian.connectors`` entry-point group.

A connector that fails to import or configure is recorded in ``failures`` and
skipped; it never takes the others down.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from importlib.metadata import entry_points

from connectors.base import Connector, Operation

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "anjian.connectors"


@dataclass
class ConnectorRegistry:
    """The connectors known to this process, keyed by name."""

    connectors: dict[str, Connector] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)

    def register(self, connector: Connector) -> None:
        """Add a configured connector instance."""
        self.connectors[connector.name] = connector

    def operation(self, operator: str) -> Operation | None:
        """The operation named ``connector/operation``, or None."""
        name, _, op_name = operator.partition("/")
        connector = self.connectors.get(name)
        if connector is None:
            return None
        for op in connector.operations():
            if op.name == op_name:
                return op
        return None

    def operators(self) -> dict[str, Operation]:
        """Every known ``connector/operation`` with its declaration."""
        out = {}
        for name, connector in sorted(self.connectors.items()):
            for op in connector.operations():
                out[f"{name}/{op.name}"] = op
        return out


def discover(configs: dict[str, dict] | None = None) -> ConnectorRegistry:
    """Build a registry from the built-ins and every installed entry point."""
    from connectors.builtin import BUILTIN_CONNECTORS

    configs = configs or {}
    registry = ConnectorRegistry()
    for cls in BUILTIN_CONNECTORS:
        _try_add(registry, cls.name, lambda cls=cls: cls, configs)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        _try_add(registry, ep.name, ep.load, configs)
    return registry


def _try_add(registry: ConnectorRegistry, name: str, load, configs: dict) -> None:
    try:
        cls = load()
        connector = cls(configs.get(cls.name or name))
        registry.register(connector)
    except Exception as exc:  # one broken plugin must not take down the rest
        log.warning("connector %s skipped: %s", name, exc)
        registry.failures[name] = f"{type(exc).__name__}: {exc}"
