"""The built-in connectors, loaded by :func:`connectors.registry.discover` before entry points.

* ``mes`` (:mod:`connectors.mes`) — plant MES over HTTP;
* ``notify`` (:mod:`connectors.notify`) — webhook and e-mail notifications;
* ``hub`` (:mod:`connectors.hub`) — data hub records.
"""
from __future__ import annotations

from connectors.hub import HubConnector
from connectors.mes import MesConnector
from connectors.notify import NotifyConnector

BUILTIN_CONNECTORS = [MesConnector, NotifyConnector, HubConnector]

__all__ = ["BUILTIN_CONNECTORS", "HubConnector", "MesConnector", "NotifyConnector"]
