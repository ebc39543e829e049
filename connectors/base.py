"""The connector SDK: what an integrator subclasses.

A connector has a ``name``, a ``version``, a JSON Schema for its configuration
and a set of operations. BPMN service tasks name an operation as
``connector/operation`` (``spiffworkflow:serviceTaskOperator id="mes/work_orders"``),
the naming of the SpiffWorkflow modeler, so diagrams stay portable.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass(frozen=True)
class Param:
    """One declared parameter of an operation."""

    name: str
    type: str = "string"
    required: bool = True
    description: str = ""


@dataclass(frozen=True)
class Operation:
    """One callable unit of work of a connector."""

    name: str
    params: tuple[Param, ...] = ()
    description: str = ""
    result_schema: dict | None = None
    handler: Callable[..., Any] | None = field(default=None, compare=False)

    def required_params(self) -> list[str]:
        """Names of the parameters a service task must give."""
        return [p.name for p in self.params if p.required]


class Connector:
    """Base class of every connector.

    Subclasses set ``name``, ``version``, ``config_schema`` and list their
    operations in :meth:`operations`.
    """

    name: str = ""
    version: str = "0"
    config_schema: dict = {"type": "object"}

    def __init__(self, config: dict | None = None):
        self.config = config or {}

    def operations(self) -> list[Operation]:
        """The operations this connector offers."""
        return []

    def run(self, operation: str, params: dict) -> Any:
        """Run ``operation`` with ``params`` and return a JSON-serialisable result."""
        for op in self.operations():
            if op.name == operation and op.handler is not None:
                return op.handler(**params)
        raise KeyError(f"{self.name} has no operation {operation!r}")
