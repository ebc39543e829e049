"""Discovery of connectors through the ``anjian.connectors`` entry-point group.

A pip-installed package adds a connector by declaring, in its ``pyproject.toml``::

    [project.entry-points."anjian.connectors"]
    gas = "anjian_gas_check:GasConnector"

:func:`discover` loads the built-ins and every such entry point, configures
each from the environment and validates the configuration against the
connector's ``config_schema``. A connector that fails to import, to declare
its operations sensibly or to configure is recorded in
``ConnectorRegistry.failures`` and skipped; it never takes the others down
(the plugin isolation of Netflix Dispatch).

Configuration, read once by :func:`discover` (which the Platform calls):

* ``ANJIAN_CONNECTORS`` — JSON object ``{"mes": {"base_url": "http://mes:8080"}, ...}``;
* ``ANJIAN_CONNECTOR_<NAME>_<KEY>`` — one value, e.g. ``ANJIAN_CONNECTOR_MES_BASE_URL``;
  converted to the type the config schema declares for ``<key>`` (integers,
  numbers, booleans; JSON text for objects and arrays). These win over
  ``ANJIAN_CONNECTORS``, which wins over the connector's ``default_config``.
"""
from __future__ import annotations

import json
import logging
import os
import re
import threading
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

from connectors.base import PARAM_TYPES, Connector, ConnectorError, Operation

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "anjian.connectors"
CONFIG_ENV = "ANJIAN_CONNECTORS"
CONFIG_ENV_PREFIX = "ANJIAN_CONNECTOR_"
NAME_RE = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")


@dataclass
class ConnectorRegistry:
    """The connectors known to this process, keyed by name.

    ``failures`` maps a connector (or entry-point) name to why it was skipped.
    The registry is safe to share between threads once built.
    """

    connectors: dict[str, Connector] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    _ops: dict[str, dict[str, Operation]] = field(default_factory=dict, repr=False)
    _lock: Any = field(default_factory=threading.Lock, repr=False)

    def register(self, connector: Connector) -> None:
        """Add a configured connector instance.

        Raises ValueError when the name is taken or invalid, or when its
        operations are declared inconsistently (duplicate names, unknown
        parameter types, invalid result schemas).
        """
        name = connector.name
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise ValueError(f"connector name {name!r} must match {NAME_RE.pattern}")
        if name in self.connectors:
            other = type(self.connectors[name])
            raise ValueError(f"connector name '{name}' is already registered by {other.__module__}.{other.__name__}")
        ops = check_operations(connector)
        with self._lock:
            self.connectors[name] = connector
            self._ops[name] = ops

    def unregister(self, name: str) -> Connector | None:
        """Remove the connector ``name`` (tests, hot reload); return it or None."""
        with self._lock:
            self._ops.pop(name, None)
            return self.connectors.pop(name, None)

    def get(self, name: str) -> Connector | None:
        """The connector called ``name``, or None."""
        return self.connectors.get(name)

    def by_kind(self, kind: str) -> list[Connector]:
        """Every connector filling the plugin slot ``kind`` (e.g. ``notification``)."""
        return [c for _, c in sorted(self.connectors.items()) if c.kind == kind]

    def operation(self, operator: str) -> Operation | None:
        """The operation named ``connector/operation``, or None."""
        name, _, op_name = (operator or "").partition("/")
        return self._operations_of(name).get(op_name)

    def operators(self) -> dict[str, Operation]:
        """Every known ``connector/operation`` with its declaration."""
        out = {}
        for name in sorted(self.connectors):
            for op_name, op in sorted(self._operations_of(name).items()):
                out[f"{name}/{op_name}"] = op
        return out

    def call(self, operator: str, params: dict | None = None) -> Any:
        """Run the operation ``connector/operation`` with ``params``; return its JSON result.

        ``params`` maps parameter names to plain values. They are validated
        against the declaration first (missing required, unknown, wrongly typed
        → :class:`ConnectorError` with ``param`` set, not retryable). Any
        failure of the operation is a :class:`ConnectorError` with
        ``connector``, ``operation``, ``params``, ``message`` and ``retryable``.
        """
        name, sep, op_name = (operator or "").partition("/")
        if not sep or not name or not op_name:
            raise ConnectorError(f"operator {operator!r} must be written 'connector/operation'",
                                 params=params, retryable=False)
        connector = self.connectors.get(name)
        if connector is None:
            why = self.failures.get(name)
            detail = f"; it failed to load: {why}" if why else f" (connectors: {', '.join(sorted(self.connectors))})"
            raise ConnectorError(f"no connector named '{name}'{detail}", connector=name, operation=op_name,
                                 params=params, retryable=False)
        return connector.run(op_name, params)

    def describe(self) -> dict:
        """Every connector with its operations and parameters, and every failure, as JSON."""
        return {"connectors": [self.connectors[n].describe() for n in sorted(self.connectors)],
                "failures": [{"name": n, "error": e} for n, e in sorted(self.failures.items())]}

    def close(self) -> None:
        """Close every connector, ignoring errors of individual ones."""
        for connector in list(self.connectors.values()):
            try:
                connector.close()
            except Exception:  # noqa: BLE001 - one bad plugin must not stop the others closing
                log.exception("closing connector %s failed", connector.name)

    def _operations_of(self, name: str) -> dict[str, Operation]:
        ops = self._ops.get(name)
        if ops is None and name in self.connectors:  # registered by assigning to .connectors directly
            ops = self._ops[name] = {op.name: op for op in self.connectors[name].operations()}
        return ops or {}


def check_operations(connector: Connector) -> dict[str, Operation]:
    """Check a connector's operation declarations; return them by name or raise ValueError."""
    ops = connector.operations()
    out: dict[str, Operation] = {}
    for op in ops:
        if not isinstance(op, Operation):
            raise ValueError(f"operations() returned {type(op).__name__}, expected Operation")
        if not op.name or "/" in op.name:
            raise ValueError(f"operation name {op.name!r} must be non-empty and contain no '/'")
        if op.name in out:
            raise ValueError(f"operation '{op.name}' is declared twice")
        seen = set()
        for p in op.params:
            if p.type not in PARAM_TYPES:
                raise ValueError(f"{op.name}: parameter '{p.name}' has unknown type '{p.type}' "
                                 f"(types: {', '.join(PARAM_TYPES)})")
            if p.name in seen:
                raise ValueError(f"{op.name}: parameter '{p.name}' is declared twice")
            seen.add(p.name)
        if op.result_schema is not None:
            from jsonschema.validators import validator_for

            try:
                validator_for(op.result_schema).check_schema(op.result_schema)
            except Exception as exc:
                raise ValueError(f"{op.name}: result_schema is not a valid JSON Schema: {exc}") from exc
        out[op.name] = op
    return out


def discover(configs: dict[str, dict] | None = None, *, environ: dict | None = None,
             include_builtins: bool = True, group: str = ENTRY_POINT_GROUP) -> ConnectorRegistry:
    """Build a registry from the built-ins and every installed entry point.

    ``configs`` (connector name -> settings) replaces the environment when
    given; otherwise configuration is read from ``environ`` (default:
    ``os.environ``) as the module docstring describes. Nothing is cached: call
    it once per process (the Platform does) and keep the registry.
    """
    from connectors.builtin import BUILTIN_CONNECTORS

    env = dict(os.environ if environ is None else environ)
    registry = ConnectorRegistry()
    # Phase 1: load the classes (import failures are recorded, not raised).
    loaded: list[tuple[str, type]] = []
    if include_builtins:
        loaded.extend((cls.name, cls) for cls in BUILTIN_CONNECTORS)
    for ep in _entry_points(group):
        try:
            obj = ep.load()
        except BaseException as exc:  # noqa: BLE001 - SystemExit in a plugin's import must not kill us either
            if isinstance(exc, KeyboardInterrupt):
                raise
            _fail(registry, ep.name, f"import of {ep.value} failed: {type(exc).__name__}: {exc}")
            continue
        if not (isinstance(obj, type) and issubclass(obj, Connector)):
            _fail(registry, ep.name, f"{ep.value} is not a Connector subclass (got {type(obj).__name__})")
            continue
        loaded.append((ep.name, obj))
    # Phase 2: configure and register, now that every name is known.
    names = [cls.name or ep_name for ep_name, cls in loaded]
    env_configs, env_error = ({}, None) if configs is not None else _json_env_configs(env)
    if env_error:
        registry.failures["(configuration)"] = env_error
    for ep_name, cls in loaded:
        name = cls.name or ep_name
        try:
            if configs is not None:
                config = dict(configs.get(name) or {})
            else:
                config = {**(cls.default_config(env) or {}), **(env_configs.get(name) or {}),
                          **_prefixed_env_config(env, name, names, cls.config_schema or {})}
            validate_config(cls, config)
            connector = cls(config)
            connector.setup()
            registry.register(connector)
        except Exception as exc:  # one broken plugin must not take down the rest
            _fail(registry, ep_name, f"{type(exc).__name__}: {exc}")
    return registry


def validate_config(cls: type[Connector], config: dict) -> None:
    """Raise ValueError listing every way ``config`` breaks ``cls.config_schema``."""
    from jsonschema.validators import validator_for

    schema = cls.config_schema or {"type": "object"}
    validator = validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.path))
    if errors:
        parts = []
        for e in errors:
            where = "/".join(str(p) for p in e.path)
            parts.append(f"{where}: {e.message}" if where else e.message)
        raise ValueError("configuration invalid: " + "; ".join(parts))


def _entry_points(group: str):
    try:
        return sorted(entry_points(group=group), key=lambda ep: ep.name)
    except Exception as exc:  # a corrupt dist-info must not stop start-up
        log.error("reading entry points of %s failed: %s", group, exc)
        return []


def _fail(registry: ConnectorRegistry, name: str, message: str) -> None:
    log.warning("connector %s skipped: %s", name, message)
    registry.failures[name] = message


def _json_env_configs(env: dict) -> tuple[dict, str | None]:
    raw = env.get(CONFIG_ENV)
    if not raw:
        return {}, None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        return {}, f"{CONFIG_ENV} is not valid JSON: {exc.msg} at position {exc.pos}"
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        return {}, f"{CONFIG_ENV} must be a JSON object of objects: {{\"mes\": {{\"base_url\": \"...\"}}}}"
    return data, None


def _env_key(name: str) -> str:
    return CONFIG_ENV_PREFIX + re.sub(r"[^A-Za-z0-9]", "_", name).upper() + "_"


def _prefixed_env_config(env: dict, name: str, all_names: list[str], schema: dict) -> dict:
    prefix = _env_key(name)
    # A longer connector name sharing our prefix (mes vs mes_line2) owns its own variables.
    longer = [_env_key(n) for n in all_names if n != name and _env_key(n).startswith(prefix)]
    props = schema.get("properties", {}) if isinstance(schema, dict) else {}
    out = {}
    for var, raw in env.items():
        if not var.startswith(prefix) or any(var.startswith(lp) for lp in longer):
            continue
        key = var[len(prefix):].lower()
        if not key:
            continue
        out[key] = _coerce(raw, props.get(key, {}), var)
    return out


def _coerce(raw: str, prop: dict, var: str):
    t = prop.get("type") if isinstance(prop, dict) else None
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), None)
    try:
        if t == "integer":
            return int(raw)
        if t == "number":
            return float(raw)
        if t == "boolean":
            if raw.strip().lower() in {"1", "true", "yes", "on"}:
                return True
            if raw.strip().lower() in {"0", "false", "no", "off", ""}:
                return False
            raise ValueError(f"{raw!r} is not a boolean")
        if t in ("object", "array"):
            return json.loads(raw)
    except (ValueError, json.JSONDecodeError) as exc:
        raise ValueError(f"{var}: cannot read as {t}: {exc}") from exc
    return raw
