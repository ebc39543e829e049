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
import re
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
from RestrictedPython.transformer import RestrictingNodeTransformer
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from engine import budget

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


# One C call must not run for minutes: results of **, *, << and range() are bounded, so only a
# loop can take long, and every loop checks the step's time budget (engine/budget.py).
MAX_INT_BITS = 100_000       # about 30,000 decimal digits
MAX_SEQUENCE = 1_000_000     # items of a range, items or characters of a repeated sequence


def _int_bits(value) -> int:
    return abs(value).bit_length() if isinstance(value, int) else 0


def _bounded_pow(base, exp, mod=None):
    if mod is None and isinstance(base, int) and isinstance(exp, int) and exp > 0 and abs(base) > 1:
        if _int_bits(base) * exp > MAX_INT_BITS:
            raise ScriptRejected(f"{base}**{exp} would have more than {MAX_INT_BITS} bits")
    return pow(base, exp) if mod is None else pow(base, exp, mod)


def _bounded_mul(a, b):
    if isinstance(a, int) and isinstance(b, int):
        if _int_bits(a) + _int_bits(b) > MAX_INT_BITS:
            raise ScriptRejected(f"a product of more than {MAX_INT_BITS} bits")
    elif isinstance(b, int) and hasattr(a, "__len__") and len(a) * b > MAX_SEQUENCE:
        raise ScriptRejected(f"a repeated sequence of more than {MAX_SEQUENCE} items")
    elif isinstance(a, int) and hasattr(b, "__len__") and len(b) * a > MAX_SEQUENCE:
        raise ScriptRejected(f"a repeated sequence of more than {MAX_SEQUENCE} items")
    return a * b


def _bounded_lshift(a, b):
    if isinstance(a, int) and isinstance(b, int) and a and _int_bits(a) + b > MAX_INT_BITS:
        raise ScriptRejected(f"a shift to more than {MAX_INT_BITS} bits")
    return a << b


def _bounded_range(*args):
    r = range(*args)
    if len(r) > MAX_SEQUENCE:
        raise ScriptRejected(f"range of {len(r)} items; at most {MAX_SEQUENCE}")
    return r


# String methods whose result size is an argument: bounded like ``*`` (one call, one result).
_BIG_WIDTH = re.compile(r"\d{7,}")


def _too_big(value) -> bool:
    return isinstance(value, int) and value > MAX_SEQUENCE


def _check_format_text(text, values=()) -> None:
    # a width or precision of 7+ digits, or a computed one ({:{w}}, %*d) that is too big
    if isinstance(text, str) and (_BIG_WIDTH.search(text) or any(_too_big(v) for v in values)):
        raise ScriptRejected(f"a formatted field wider than {MAX_SEQUENCE} characters")


def _bounded_str_method(obj, name: str, method):
    if name in ("ljust", "rjust", "center", "zfill"):
        def sized(width, *args):
            if _too_big(width):
                raise ScriptRejected(f"{name}({width}) is wider than {MAX_SEQUENCE} characters")
            return method(width, *args)
        return sized
    if name == "expandtabs":
        def expanded(tabsize=8):
            if isinstance(tabsize, int) and len(obj) * max(tabsize, 0) > MAX_SEQUENCE:
                raise ScriptRejected(f"expandtabs would exceed {MAX_SEQUENCE} characters")
            return method(tabsize)
        return expanded
    if name == "replace":
        def replaced(old, new, count=-1):
            if isinstance(old, type(obj)) and isinstance(new, type(obj)) and len(new) > len(old):
                n = len(obj) + 1 if not old else obj.count(old)
                n = n if count < 0 else min(n, count)
                if len(obj) + n * (len(new) - len(old)) > MAX_SEQUENCE:
                    raise ScriptRejected(f"replace would exceed {MAX_SEQUENCE} characters")
            return method(old, new, count)
        return replaced
    return method


# (str.format is refused by RestrictedPython itself)
_SIZED_METHODS = frozenset({"ljust", "rjust", "center", "zfill", "expandtabs", "replace"})


def _bounded_getattr(obj, name, default=None, getattr=getattr):
    value = safer_getattr(obj, name, default, getattr)
    if name in _SIZED_METHODS and isinstance(obj, (str, bytes)) and callable(value):
        return _bounded_str_method(obj, name, value)
    return value


def _bounded_mod(a, b):
    if isinstance(a, str):
        _check_format_text(a, b if isinstance(b, tuple) else (b,) if "*" in a else ())
    return a % b


def _bounded_width(value):
    if _too_big(value):
        raise ScriptRejected(f"a formatted field wider than {MAX_SEQUENCE} characters")
    return value


# datetime's C code imports these when a script formats or parses a date (strftime, strptime);
# `import` statements and the name __import__ stay refused by the compiler.
_DATETIME_IMPORTS = frozenset({"time", "_strptime"})


def _datetime_import(name, globals=None, locals=None, fromlist=(), level=0):
    if name not in _DATETIME_IMPORTS or level:
        raise ImportError(f"import of {name!r} is not allowed in BPMN scripts")
    return __import__(name, globals, locals, fromlist, level)


_GUARD = "_budget_guard_"
_BINOPS = {ast.Pow: "_pow_", ast.Mult: "_mul_", ast.LShift: "_lshift_", ast.Mod: "_mod_"}


def _guard_call() -> ast.Call:
    return ast.Call(func=ast.Name(id=_GUARD, ctx=ast.Load()), args=[], keywords=[])


def _small_constant(node, limit: int) -> bool:
    value = node.value if isinstance(node, ast.Constant) else None
    return isinstance(value, float) or (isinstance(value, int) and not isinstance(value, bool)
                                        and abs(value) <= limit)


def _small_growth(node: ast.BinOp) -> bool:
    """An operation whose result can be at most a small multiple of its operand (``i * 2``,
    ``x ** 2``, ``n << 3``) runs unwrapped: the bounded helpers cost a call per operation."""
    if isinstance(node.op, ast.Mult):
        return _small_constant(node.left, 1024) or _small_constant(node.right, 1024)
    if isinstance(node.op, ast.Pow):
        return _small_constant(node.right, 8)
    if isinstance(node.op, ast.Mod):
        return False
    return _small_constant(node.right, 64)  # LShift


def _located(new, old):
    ast.copy_location(new, old)
    for child in ast.walk(new):  # the inserted nodes; the script's own keep their lines
        if not hasattr(child, "lineno") and "lineno" in child._attributes:
            ast.copy_location(child, old)
    return new


class _BoundedTransformer(RestrictingNodeTransformer):
    """RestrictedPython's checks, then the bounds: a budget check at the top of every loop body,
    function body and comprehension, and bounded ``**``, ``*`` and ``<<``. The inserted names start
    with ``_``, which scripts cannot name, and are added after the checks ran."""

    def _guard_body(self, node):
        node.body.insert(0, _located(ast.Expr(value=_guard_call()), node))
        return node

    def visit_While(self, node):
        return self._guard_body(super().visit_While(node))

    def visit_For(self, node):
        return self._guard_body(super().visit_For(node))

    def visit_FunctionDef(self, node):
        return self._guard_body(super().visit_FunctionDef(node))

    def visit_Lambda(self, node):
        node = super().visit_Lambda(node)
        node.body = _located(ast.BoolOp(op=ast.And(), values=[_guard_call(), node.body]), node.body)
        return node

    def visit_FormattedValue(self, node):
        node = super().visit_FormattedValue(node)
        spec = node.format_spec
        if isinstance(spec, ast.JoinedStr):
            for i, part in enumerate(spec.values):
                if isinstance(part, ast.Constant) and isinstance(part.value, str) and _BIG_WIDTH.search(part.value):
                    self.error(node, "a formatted field wider than 1,000,000 characters is not allowed")
                elif isinstance(part, ast.FormattedValue):
                    part.value = _located(ast.Call(func=ast.Name(id="_width_", ctx=ast.Load()),
                                                   args=[part.value], keywords=[]), part.value)
        return node

    def visit_comprehension(self, node):
        node = super().visit_comprehension(node)
        node.ifs.insert(0, _located(_guard_call(), node.iter))
        return node

    def visit_BinOp(self, node):
        node = super().visit_BinOp(node)
        helper = _BINOPS.get(type(node.op))
        if helper is None or _small_growth(node):
            return node
        if isinstance(node.op, ast.Mod) and not (isinstance(node.left, ast.Constant)
                                                 and isinstance(node.left.value, str)):
            return node  # numbers; '%' formatting is nearly always on a literal
        return _located(ast.Call(func=ast.Name(id=helper, ctx=ast.Load()), args=[node.left, node.right],
                                 keywords=[]), node)


def _inplacevar(op, x, y):
    ops = {
        "+=": lambda a, b: a + b, "-=": lambda a, b: a - b, "*=": _bounded_mul,
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
    builtins.update(range=_bounded_range, pow=_bounded_pow, __import__=_datetime_import)
    return {
        "__builtins__": builtins,
        "_getattr_": _bounded_getattr,
        "_getitem_": default_guarded_getitem,
        "_getiter_": default_guarded_getiter,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence,
        "_write_": full_write_guard,
        "_inplacevar_": _inplacevar,
        "_print_": PrintCollector,
        _GUARD: budget.check, "_pow_": _bounded_pow, "_mul_": _bounded_mul, "_lshift_": _bounded_lshift,
        "_mod_": _bounded_mod, "_width_": _bounded_width,
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
    result = compiler(source, "<bpmn>", policy=_BoundedTransformer)
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
