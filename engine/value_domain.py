"""What a step may leave in process variables (DESIGN.md, "Every step is bounded").

Scripts and decisions compute Python values; the instance row stores JSON. A value outside the
domain below would make the state unwritable (a 500 on every later request, a timer job failing
for ever) or would silently change on the way (NaN → null, an int key → a str key). The runner
checks the variables after each step (:meth:`engine.runner.Runner.save`) and turns a value
outside the domain into an ``invalid_value`` incident naming the variable and the element.

Accepted: ``None``, ``bool``, ``str`` (Unicode text: no lone surrogates), ``int`` within the
signed 64-bit range, finite ``float``, ``list``/``tuple``/``set`` (stored as lists), ``dict``
with ``str`` keys, and the three types SpiffWorkflow stores typed: ``datetime``, ``timedelta``,
``UUID``. Nesting at most ``max_depth`` deep; the variables at most ``max_bytes`` as JSON.
"""
from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from uuid import UUID

INT_MIN, INT_MAX = -(2 ** 63), 2 ** 63 - 1
_SCALARS = (str, bool, int, float, type(None))
_TYPED = (datetime, timedelta, UUID)


class ValueRejected(Exception):
    """A variable outside the accepted domain (becomes an ``invalid_value`` incident)."""

    def __init__(self, variable: str, reason: str, element: str | None = None):
        self.variable, self.reason, self.element = variable, reason, element
        super().__init__(self.describe())

    def describe(self) -> str:
        where = f" (set at element '{self.element}')" if self.element else ""
        return f"variable '{self.variable}'{where} cannot be stored: {self.reason}"


def check(variables: dict, *, max_depth: int) -> None:
    """Raise :class:`ValueRejected` for the first value of ``variables`` outside the domain.

    Walks without recursion, so a 100,000-deep nesting costs ``max_depth`` steps, not a crash.
    """
    stack = [(name, value, 1, name) for name, value in variables.items()]
    while stack:
        path, value, depth, top = stack.pop()
        kind = type(value)
        if kind is str:
            _check_text(top, path, value)
        elif kind is int:
            if not INT_MIN <= value <= INT_MAX:
                # about log10(2) digits per bit: str() of a huge int is itself refused by Python
                digits = int(value.bit_length() * 0.30103) + 1
                raise ValueRejected(top, f"{path} is an integer of about {digits} digits, beyond the signed "
                                         f"64-bit range")
        elif kind is float:
            if not math.isfinite(value):
                raise ValueRejected(top, f"{path} is {value}, which JSON cannot hold")
        elif isinstance(value, _SCALARS) or isinstance(value, _TYPED):
            continue
        elif isinstance(value, dict):
            _depth(top, path, depth, max_depth)
            for key, child in value.items():
                if not isinstance(key, str):
                    raise ValueRejected(top, f"{path} has a key of type {type(key).__name__} ({key!r:.40}); "
                                             f"keys must be strings")
                _check_text(top, f"{path} key", key)
                stack.append((f"{path}.{key}", child, depth + 1, top))
        elif isinstance(value, (list, tuple, set, frozenset)):
            _depth(top, path, depth, max_depth)
            stack.extend((f"{path}[{i}]", child, depth + 1, top) for i, child in enumerate(value))
        else:
            hint = " (store date.isoformat())" if isinstance(value, date) else ""
            raise ValueRejected(top, f"{path} is a {type(value).__name__}, not a JSON value{hint}")


def check_size(size: int, *, max_bytes: int) -> None:
    """Raise :class:`ValueRejected` when the variables take more than ``max_bytes`` as JSON."""
    if size > max_bytes:
        raise ValueRejected("(all variables)", f"{size} bytes of JSON; at most {max_bytes} are accepted "
                                               f"(ANJIAN_VALUE_MAX_BYTES)")


def _depth(top: str, path: str, depth: int, max_depth: int) -> None:
    if depth > max_depth:
        raise ValueRejected(top, f"{path} is nested more than {max_depth} levels deep (ANJIAN_VALUE_MAX_DEPTH)")


def _check_text(top: str, path: str, text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueRejected(top, f"{path} contains a lone surrogate, which is not Unicode text") from None
