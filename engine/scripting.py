"""Restricted evaluation of BPMN scripts and expressions.

SpiffWorkflow evaluates scripts, gateway conditions, timer expressions and DMN
entries as Python. Unrestricted, a diagram could read files or the database
(DESIGN.md); this module compiles everything with RestrictedPython: no imports,
no names or attributes starting with ``_`` (so no
``().__class__.__base__.__subclasses__()``), no ``open``/``exec``/``eval``, and
a bounded set of builtins and helpers. The same checks run at deployment, so a
diagram that tries more is rejected with its element id before it is stored.
"""
from __future__ import annotations

import ast
import copy
import math
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache

from RestrictedPython import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safe_builtins,
    safer_getattr,
)
from RestrictedPython.PrintCollector import PrintCollector
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

FORBIDDEN_NAMES = frozenset({
    "open", "exec", "eval", "compile", "globals", "locals", "vars", "getattr", "setattr",
    "delattr", "__import__", "type", "input", "breakpoint", "memoryview", "help", "exit",
    "quit", "object", "super", "classmethod", "staticmethod", "property",
})


class ScriptRejected(ValueError):
    """A script or expression that the restricted compiler refuses."""


class ScriptSyntaxError(ScriptRejected, SyntaxError):
    """Not Python at all. Also a SyntaxError, which SpiffWorkflow's DMN engine expects
    when it tries a FEEL-style entry such as ``< 4`` before rewriting it."""

    def __init__(self, message: str):
        super().__init__(message)
        self.msg = message

    def __str__(self) -> str:
        return self.msg


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _parse_datetime(value) -> datetime:
    if isinstance(value, datetime):
        dt = value
    else:
        dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def _inplacevar(op, x, y):
    ops = {
        "+=": lambda a, b: a + b, "-=": lambda a, b: a - b, "*=": lambda a, b: a * b,
        "/=": lambda a, b: a / b, "//=": lambda a, b: a // b, "%=": lambda a, b: a % b,
        "|=": lambda a, b: a | b, "&=": lambda a, b: a & b,
    }
    if op not in ops:
        raise ScriptRejected(f"operator {op} is not allowed")
    return ops[op](x, y)


HELPERS = {
    "datetime": datetime, "date": date, "time": time, "timedelta": timedelta, "timezone": timezone,
    "now": _now, "today": lambda: _now().date(), "parse_datetime": _parse_datetime,
    "minutes": lambda n: timedelta(minutes=n), "hours": lambda n: timedelta(hours=n),
    "days": lambda n: timedelta(days=n), "ceil": math.ceil, "floor": math.floor,
    "min": min, "max": max, "sum": sum, "any": any, "all": all, "sorted": sorted,
    "enumerate": enumerate, "list": list, "dict": dict, "set": set, "reversed": reversed,
    "map": map, "filter": filter, "zip": zip,
}


def _base_globals() -> dict:
    builtins = dict(safe_builtins)
    for name in FORBIDDEN_NAMES:
        builtins.pop(name, None)
    return {
        "__builtins__": builtins,
        "_getattr_": safer_getattr,
        "_getitem_": default_guarded_getitem,
        "_getiter_": default_guarded_getiter,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence,
        "_write_": full_write_guard,
        "_inplacevar_": _inplacevar,
        "_print_": PrintCollector,
        **HELPERS,
    }


def _extra_checks(source: str, mode: str) -> list[str]:
    try:
        tree = ast.parse(source, mode=mode)
    except SyntaxError as exc:
        raise ScriptSyntaxError(f"syntax error on line {exc.lineno}: {exc.msg}") from None
    errors = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            errors.append(f"line {node.lineno}: imports are not allowed in BPMN scripts")
        elif isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES:
            errors.append(f"line {node.lineno}: '{node.id}' is not allowed in BPMN scripts")
        elif isinstance(node, (ast.ClassDef, ast.Global, ast.Nonlocal)):
            errors.append(f"line {node.lineno}: {type(node).__name__} is not allowed in BPMN scripts")
    return errors


@lru_cache(maxsize=4096)
def _compile(source: str, mode: str):
    errors = _extra_checks(source, mode)
    if errors:
        raise ScriptRejected("; ".join(errors))
    compiler = compile_restricted_eval if mode == "eval" else compile_restricted_exec
    result = compiler(source, "<bpmn>")
    if result.errors:
        raise ScriptRejected("; ".join(result.errors))
    return result.code


def check_expression(source: str) -> str | None:
    """Return why ``source`` is not an acceptable expression, or None when it is."""
    try:
        _compile(source.strip(), "eval")
    except ScriptRejected as exc:
        return str(exc)
    return None


def check_script(source: str) -> str | None:
    """Return why ``source`` is not an acceptable script, or None when it is."""
    try:
        _compile(source, "exec")
    except ScriptRejected as exc:
        return str(exc)
    return None


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """SpiffWorkflow script environment that only runs restricted code."""

    def __init__(self, extra_globals: dict | None = None):
        base = _base_globals()
        base.update(extra_globals or {})
        super().__init__(base)

    def evaluate(self, expression, context, external_context=None):
        code = _compile(expression.strip(), "eval")
        scope = copy.copy(self.globals)
        scope.update(external_context or {})
        scope.update(context)
        return eval(code, scope)  # noqa: S307 - restricted bytecode

    def execute(self, script, context, external_context=None):
        code = _compile(script, "exec")
        injected = dict(self.globals)
        injected.update(external_context or {})
        clash = set(HELPERS).intersection(context)
        if clash:
            raise ValueError(f"task data overwrites helper name(s): {sorted(clash)}")
        context.update(injected)
        try:
            exec(code, context)  # noqa: S102 - restricted bytecode
        finally:
            for key in list(context):
                if key in injected or key.startswith("_") or callable(context[key]):
                    context.pop(key, None)
        return True

    def call_service(self, context, **kwargs):
        raise NotImplementedError("service tasks are run by the worker, not the script engine")


class RestrictedScriptEngine(PythonScriptEngine):
    """Script engine wired to :class:`RestrictedEnvironment`."""

    def __init__(self, environment: RestrictedEnvironment | None = None):
        super().__init__(environment=environment or RestrictedEnvironment())

    def validate(self, expression):
        """Raise :class:`ScriptRejected` when ``expression`` would not compile.

        Not-Python stays a SyntaxError (:class:`ScriptSyntaxError`): SpiffWorkflow's DMN
        engine catches exactly that to rewrite a FEEL-style entry such as ``> 5`` into
        ``<input>> 5``; any other exception fails the rule.
        """
        _compile(expression.strip(), "eval")
