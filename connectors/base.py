"""The connector SDK: what an integrator subclasses.

A connector is the *hook* of Airflow's provider split: it owns the connection
to one outside system (its configuration, HTTP session, SMTP settings …). Its
*operations* are the units of work a BPMN service task runs. A service task
names an operation as ``connector/operation``
(``spiffworkflow:serviceTaskOperator id="mes/work_orders"``), the naming of
the SpiffWorkflow modeler, so diagrams stay portable.

Writing one::

    from connectors.base import Connector, Param, operation

    class GasConnector(Connector):
        name = "gas"
        version = "1.0.0"
        config_schema = {"type": "object", "properties": {"lel_limit_pct": {"type": "number"}}}

        @operation("analyse", params=[Param("readings", "object")],
                   result_schema={"type": "object", "required": ["verdict"]})
        def analyse(self, readings):
            ...
            return {"verdict": "pass"}

Parameters are checked against their declaration before the handler runs
(:meth:`Connector.run`); every failure, of validation or of the outside
system, is a :class:`ConnectorError` that says whether retrying may help.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

log = logging.getLogger(__name__)

#: Parameter types an operation may declare (JSON types plus ISO dates and ``any``).
PARAM_TYPES = ("string", "integer", "number", "boolean", "object", "array", "date", "datetime", "any")
_OPERATION_ATTR = "__anjian_operation__"


class ConnectorError(Exception):
    """A connector call failed.

    Attributes:
        connector: the connector's name (e.g. ``"mes"``), or None when unknown.
        operation: the operation's name (e.g. ``"work_orders"``), or None.
        params: the parameters the call was made with (as given).
        message: what went wrong, in words a process designer or operator understands.
        retryable: True when the same call may succeed later (timeouts, connection
            errors, 5xx answers); False when it never will as is (a missing or
            wrongly typed parameter, a 4xx answer, a connector that is not configured).
        status: the outside system's status code when there was one (HTTP, SMTP), else None.
        param: the name of the parameter at fault for validation errors, else None.
    """

    def __init__(self, message: str, *, connector: str | None = None, operation: str | None = None,
                 params: dict | None = None, retryable: bool = False, status: int | None = None,
                 param: str | None = None):
        super().__init__(message)
        self.message = message
        self.connector = connector
        self.operation = operation
        self.params = params
        self.retryable = retryable
        self.status = status
        self.param = param

    @property
    def operator(self) -> str | None:
        """``connector/operation`` when both are known."""
        if self.connector and self.operation:
            return f"{self.connector}/{self.operation}"
        return self.connector

    def as_dict(self) -> dict:
        """A JSON-serialisable description (for incidents, logs and API answers)."""
        return {"connector": self.connector, "operation": self.operation, "operator": self.operator,
                "message": self.message, "retryable": self.retryable, "status": self.status,
                "param": self.param, "params": _jsonable(self.params)}

    def __reduce__(self):
        # Keep every attribute across pickling (RQ job results, multiprocessing).
        return (_restore_error, (type(self), self.message, dict(self.__dict__)))

    def __str__(self) -> str:
        where = self.operator
        return f"{where}: {self.message}" if where else self.message


@dataclass(frozen=True)
class Param:
    """One declared parameter of an operation.

    ``type`` is one of :data:`PARAM_TYPES`. ``date`` accepts ``YYYY-MM-DD`` text or a
    :class:`datetime.date` (handlers always receive text); ``datetime`` likewise with
    ISO 8601 date-times. ``choices`` restricts a value to a fixed set. ``default`` is
    given to the handler when the caller leaves an optional parameter out.
    """

    name: str
    type: str = "string"
    required: bool = True
    description: str = ""
    choices: tuple = ()
    default: Any = None

    def check(self, value: Any) -> tuple[Any, str | None]:
        """``(normalised value, None)`` when ``value`` fits this parameter, else ``(value, reason)``."""
        t = self.type
        if t == "string":
            ok = isinstance(value, str)
        elif t == "integer":
            ok = isinstance(value, int) and not isinstance(value, bool)
            if not ok and isinstance(value, float) and value.is_integer():
                value, ok = int(value), True
        elif t == "number":
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        elif t == "boolean":
            ok = isinstance(value, bool)
        elif t == "object":
            ok = isinstance(value, dict)
        elif t == "array":
            if isinstance(value, tuple):
                value = list(value)
            ok = isinstance(value, list)
        elif t == "date":
            return _check_date(value)
        elif t == "datetime":
            return _check_datetime(value)
        else:  # "any"
            ok = True
        if not ok:
            return value, f"must be {_article(t)}, got {_type_name(value)} {_short(value)}"
        if t in ("object", "array", "any"):
            try:
                json.dumps(value)
            except (TypeError, ValueError) as exc:
                return value, f"is not JSON-serialisable: {exc}"
        if self.choices and value not in self.choices:
            return value, f"must be one of {list(self.choices)}, got {_short(value)}"
        return value, None

    def describe(self) -> dict:
        """The declaration as JSON."""
        out = {"name": self.name, "type": self.type, "required": self.required, "description": self.description}
        if self.choices:
            out["choices"] = list(self.choices)
        if self.default is not None:
            out["default"] = self.default
        return out


@dataclass(frozen=True)
class Operation:
    """One callable unit of work of a connector.

    ``handler`` is called with the validated parameters as keyword arguments and
    returns a JSON-serialisable value; ``result_schema`` (a JSON Schema), when
    given, is checked against every result.

    ``timeout`` is how many seconds one call may run (None: the platform's
    default, ``ANJIAN_OPERATION_TIMEOUT_SECONDS``). A call past it is stopped and
    counts as a retryable failure: the service task is retried as its BPMN
    ``spiffworkflow:retry`` says and becomes an incident when the retries are
    used up. ``long_running`` puts the calls on the low-priority queue, so that
    they never hold up timers, thrown messages or ordinary calls.
    """

    name: str
    params: tuple[Param, ...] = ()
    description: str = ""
    result_schema: dict | None = None
    handler: Callable[..., Any] | None = field(default=None, compare=False)
    timeout: float | None = None
    long_running: bool = False

    def required_params(self) -> list[str]:
        """Names of the parameters a service task must give."""
        return [p.name for p in self.params if p.required]

    def param(self, name: str) -> Param | None:
        """The declared parameter ``name``, or None."""
        return next((p for p in self.params if p.name == name), None)

    def validate_params(self, params: dict | None) -> dict:
        """Check ``params`` against the declaration; return the normalised arguments.

        Raises :class:`ConnectorError` (not retryable, ``param`` set) naming the
        first missing, unknown or wrongly typed parameter. ``None`` counts as
        absent. Defaults of omitted optional parameters are filled in.
        """
        if params is None:
            params = {}
        if not isinstance(params, dict):
            raise ConnectorError(f"parameters must be an object (name -> value), got {_type_name(params)}")
        declared = {p.name for p in self.params}
        for name in params:
            if name not in declared:
                known = ", ".join(sorted(declared)) or "none"
                raise ConnectorError(f"unknown parameter '{name}' (declared: {known})", param=str(name))
        out = {}
        for p in self.params:
            value = params.get(p.name)
            if value is None:
                if p.required:
                    raise ConnectorError(f"missing required parameter '{p.name}' ({p.type})", param=p.name)
                if p.default is not None:
                    out[p.name] = p.default
                continue
            value, reason = p.check(value)
            if reason:
                raise ConnectorError(f"parameter '{p.name}' {reason}", param=p.name)
            out[p.name] = value
        return out

    def describe(self) -> dict:
        """The declaration as JSON (handler left out)."""
        out = {"name": self.name, "description": self.description,
               "params": [p.describe() for p in self.params],
               "timeout_s": self.timeout, "long_running": self.long_running}
        if self.result_schema is not None:
            out["result_schema"] = self.result_schema
        return out


def operation(name: str | None = None, *, params: Iterable[Param] = (), description: str = "",
              result_schema: dict | None = None, timeout: float | None = None, long_running: bool = False):
    """Decorator declaring a connector method as an operation.

    ``name`` defaults to the method's name; ``description`` to the first line of
    its docstring. The method receives the validated parameters as keyword
    arguments (parameters named like Python keywords, e.g. ``from``, arrive in
    ``**kwargs``). ``timeout`` (seconds one call may run) and ``long_running``
    (run on the low-priority queue) are described on :class:`Operation`.
    """
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0):
        raise ValueError(f"operation timeout must be a positive number of seconds, got {timeout!r}")

    def mark(fn):
        doc = (fn.__doc__ or "").strip().splitlines()
        setattr(fn, _OPERATION_ATTR, {"name": name or fn.__name__, "params": tuple(params),
                                      "description": description or (doc[0] if doc else ""),
                                      "result_schema": result_schema,
                                      "timeout": float(timeout) if timeout is not None else None,
                                      "long_running": bool(long_running)})
        return fn
    return mark


class Connector:
    """Base class of every connector.

    Subclasses set ``name`` (``[a-z][a-z0-9_-]*``, the prefix of its operators),
    ``version``, ``description``, ``kind`` (the plugin slot: ``mes``,
    ``notification``, ``data_hub``, ``telemetry`` or ``generic``) and
    ``config_schema`` (a JSON Schema; the registry validates the configuration
    against it before the connector is constructed; mark secrets
    ``"writeOnly": true`` so they are never listed). Operations are methods
    decorated with :func:`operation`, or :meth:`operations` is overridden.
    """

    name: str = ""
    version: str = "0"
    description: str = ""
    kind: str = "generic"
    config_schema: dict = {"type": "object"}

    def __init__(self, config: dict | None = None):
        """Keep the (already validated) configuration; open no connections here."""
        self.config = dict(config or {})
        self._operations: list[Operation] | None = None

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    def default_config(cls, environ: dict) -> dict:
        """Configuration values derived from the process environment (override to add some).

        Called by :func:`connectors.registry.discover` before explicit settings
        (``ANJIAN_CONNECTORS`` / ``ANJIAN_CONNECTOR_<NAME>_<KEY>``) are laid over it.
        """
        return {}

    def setup(self) -> None:
        """Check the configuration further after construction; raise to be skipped as failed."""

    def close(self) -> None:
        """Release connections (HTTP sessions, pools). Called by ``ConnectorRegistry.close``."""

    # ------------------------------------------------------------------ operations

    def operations(self) -> list[Operation]:
        """The operations this connector offers (by default: its @operation methods)."""
        if getattr(self, "_operations", None) is None:
            ops = []
            for attr in dir(type(self)):
                fn = getattr(type(self), attr, None)
                spec = getattr(fn, _OPERATION_ATTR, None)
                if spec is not None:
                    ops.append(Operation(handler=getattr(self, attr), **spec))
            self._operations = sorted(ops, key=lambda o: o.name)
        return self._operations

    def get_operation(self, name: str) -> Operation | None:
        """The operation ``name``, or None."""
        return next((op for op in self.operations() if op.name == name), None)

    def run(self, operation: str, params: dict | None) -> Any:
        """Validate ``params``, run ``operation`` and return its JSON result.

        Every failure is raised as :class:`ConnectorError` carrying this
        connector's name, the operation, the parameters and ``retryable``:
        validation errors and unexpected exceptions of the handler are not
        retryable; timeouts and connection errors are.
        """
        started = time.perf_counter()
        try:
            op = self.get_operation(operation)
            if op is None:
                known = ", ".join(o.name for o in self.operations()) or "none"
                raise ConnectorError(f"no operation '{operation}' (operations: {known})")
            if op.handler is None:
                raise ConnectorError("operation is declared but has no implementation")
            args = op.validate_params(params)
            try:
                result = op.handler(**args)
            except ConnectorError:
                raise
            except (TimeoutError, ConnectionError) as exc:
                raise ConnectorError(f"{type(exc).__name__}: {exc}", retryable=True) from exc
            except Exception as exc:
                if _is_job_timeout(exc):  # RQ stopped the job at its time limit: the call may succeed next time
                    raise ConnectorError(f"timed out: {exc or 'the job ran past its time limit'}",
                                         retryable=True) from exc
                # a bug or unexpected input in the plugin: never crash the caller
                log.exception("connector %s/%s raised", self.name, operation)
                raise ConnectorError(f"{type(exc).__name__}: {exc}", retryable=False) from exc
            result = _check_result(op, result)
        except ConnectorError as err:
            err.connector = err.connector or self.name
            err.operation = err.operation or operation
            if err.params is None:
                err.params = params
            log.info("connector call %s/%s failed after %.1f ms (retryable=%s): %s", self.name, operation,
                     (time.perf_counter() - started) * 1000, err.retryable, err.message)
            raise
        log.debug("connector call %s/%s ok in %.1f ms", self.name, operation,
                  (time.perf_counter() - started) * 1000)
        return result

    def describe(self) -> dict:
        """Name, version, kind, description, config schema and operations as JSON."""
        return {"name": self.name, "version": str(self.version), "kind": self.kind,
                "description": self.description, "config_schema": self.config_schema,
                "config": self.public_config(),
                "operations": [op.describe() for op in self.operations()]}

    def public_config(self) -> dict:
        """The configuration without values whose schema says ``writeOnly`` (secrets)."""
        props = (self.config_schema or {}).get("properties", {})
        return {k: v for k, v in sorted(self.config.items())
                if not (isinstance(props.get(k), dict) and props[k].get("writeOnly"))}


# --------------------------------------------------------------------------- helpers

def _is_job_timeout(exc: BaseException) -> bool:
    """True for RQ's ``JobTimeoutException`` (matched by name: RQ is optional for the SDK)."""
    return any(c.__name__ == "JobTimeoutException" for c in type(exc).__mro__)


def _restore_error(cls, message, state):
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    err.__dict__.update(state)
    return err


def _check_result(op: Operation, result: Any) -> Any:
    try:
        plain = json.loads(json.dumps(result, ensure_ascii=False))
    except (TypeError, ValueError) as exc:
        raise ConnectorError(f"result is not JSON-serialisable: {exc}") from exc
    if op.result_schema is not None:
        from jsonschema.validators import validator_for

        validator = validator_for(op.result_schema)(op.result_schema)
        errors = sorted(validator.iter_errors(plain), key=lambda e: list(e.path))
        if errors:
            first = errors[0]
            where = "/".join(str(p) for p in first.path) or "(root)"
            raise ConnectorError(f"result does not match the declared result schema at {where}: {first.message}")
    return plain


def _check_date(value):
    if isinstance(value, dt.datetime):
        return value, "must be a date (YYYY-MM-DD), got a datetime"
    if isinstance(value, dt.date):
        return value.isoformat(), None
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()).isoformat(), None
        except ValueError:
            pass
    return value, f"must be a date (YYYY-MM-DD), got {_type_name(value)} {_short(value)}"


def _check_datetime(value):
    if isinstance(value, dt.datetime):
        return value.isoformat(), None
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value.strip()).isoformat(), None
        except ValueError:
            pass
    return value, f"must be an ISO 8601 date-time, got {_type_name(value)} {_short(value)}"


def _article(t: str) -> str:
    return {"integer": "an integer", "object": "an object", "array": "an array", "any": "any value"}.get(t, f"a {t}")


def _type_name(value) -> str:
    return {str: "string", bool: "boolean", int: "integer", float: "number", dict: "object", list: "array",
            tuple: "array", type(None): "null"}.get(type(value), type(value).__name__)


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _jsonable(value):
    try:
        return json.loads(json.dumps(value, default=str))
    except (TypeError, ValueError):
        return repr(value)
