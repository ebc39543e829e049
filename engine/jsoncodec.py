"""One JSON codec for the hot paths: orjson, with the standard library as the fallback.

A task completion encodes JSON three times (the workflow state, the variables
column, the HTTP answer) and decodes it twice; with the standard library that was
about 9 % of the API's CPU (bench/README.md, round 4). orjson does the same work in
a tenth of the time. It is stricter in three places, and each falls back to the
standard library so that nothing that encoded before fails now: integers beyond 64
bits, NaN/Infinity in stored text, and ``default`` hooks orjson never calls for a
type it encodes natively (see :func:`dumps`).

Not used for the audit chain: its canonical JSON is hashed and must stay byte-for-byte
what the chain was written with (engine/audit.py).
"""
from __future__ import annotations

import json
import re
from typing import Any, Callable

import orjson

# datetimes go to ``default`` (SpiffWorkflow and Flask each have their own form for them);
# non-str keys are converted as the standard library does.
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS
_LONG_DIGITS = re.compile(r"\d{19}")
_LONG_DIGITS_B = re.compile(rb"\d{19}")


def dumps(obj: Any, *, default: Callable[[Any], Any] | None = None, sort_keys: bool = False) -> str:
    """``json.dumps(obj, default=default, ensure_ascii=False)`` without spaces, about 10x faster.

    ``default`` is called for every object orjson does not encode itself, datetimes
    included. UUIDs, dataclasses and enums orjson encodes natively (as strings / dicts)
    without calling it.
    """
    options = _OPTIONS | orjson.OPT_SORT_KEYS if sort_keys else _OPTIONS
    try:
        return orjson.dumps(obj, default=default, option=options).decode()
    except orjson.JSONEncodeError:
        # An integer beyond 64 bits encodes; anything else raises what the standard library raises.
        return json.dumps(obj, default=default, ensure_ascii=False, separators=(",", ":"), sort_keys=sort_keys)


def loads(text: str | bytes) -> Any:
    """Parse JSON; text the standard library accepts (NaN, huge integers) still parses.

    orjson reads an integer beyond 64 bits as a float (precision lost), so text with a run
    of 19+ digits anywhere (rare: ids and phone numbers are strings) goes to the standard library.
    """
    if (_LONG_DIGITS_B if isinstance(text, (bytes, bytearray)) else _LONG_DIGITS).search(text):
        return json.loads(text)
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


class MalformedJSON(ValueError):
    """A request body that is not JSON within the platform's bounds (the API answers 400)."""


def loads_bounded(text: str | bytes, *, max_depth: int, max_number_chars: int) -> Any:
    """Parse untrusted JSON strictly: RFC 8259 only (no NaN, no lone surrogates, UTF-8),
    nesting at most ``max_depth`` deep, no number literal longer than ``max_number_chars``.

    Raises :class:`MalformedJSON` saying what is wrong. orjson does the work; text with a run
    of 19+ digits goes to the standard library with bounded number hooks (orjson would round
    a big integer to a float, or call a long one infinity).
    """
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedJSON(f"the body is not UTF-8: {exc.reason} at byte {exc.start}") from None
    if not _LONG_DIGITS.search(text):
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            if "depth" in str(exc):
                raise MalformedJSON(f"JSON nested deeper than {max_depth} levels") from None
            raise MalformedJSON(str(exc)) from None
        _check_depth(value, max_depth, strings=False)
        return value

    def number(literal: str, convert):
        if len(literal) > max_number_chars:
            raise MalformedJSON(f"a number has {len(literal)} characters; at most {max_number_chars} are accepted")
        return convert(literal)

    def constant(name: str):
        raise MalformedJSON(f"{name} is not JSON")

    try:
        value = json.loads(text, parse_int=lambda s: number(s, int), parse_float=lambda s: number(s, float),
                           parse_constant=constant)
    except MalformedJSON:
        raise
    except RecursionError:
        raise MalformedJSON(f"JSON nested deeper than {max_depth} levels") from None
    except ValueError as exc:
        raise MalformedJSON(str(exc)) from None
    _check_depth(value, max_depth, strings=True)
    return value


def _check_depth(value: Any, max_depth: int, *, strings: bool) -> None:
    """Walk ``value`` without recursion: nesting within ``max_depth``, and (``strings``) no
    string or key with a lone surrogate (the standard library decodes ``"\\ud800"``)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            if depth > max_depth:
                raise MalformedJSON(f"JSON nested deeper than {max_depth} levels")
            for key, child in item.items():
                if strings:
                    _check_text(key)
                stack.append((child, depth + 1))
        elif isinstance(item, list):
            if depth > max_depth:
                raise MalformedJSON(f"JSON nested deeper than {max_depth} levels")
            stack.extend((child, depth + 1) for child in item)
        elif strings and isinstance(item, str):
            _check_text(item)


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise MalformedJSON("a string contains a lone surrogate (\\ud800-\\udfff), which is not Unicode text") from None
