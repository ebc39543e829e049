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
