"""Plain-value helpers shared by the engine services."""
from __future__ import annotations

from engine import jsoncodec


def json_data(value):
    """``value`` as plain JSON data (datetimes and other objects become strings)."""
    return jsoncodec.loads(jsoncodec.dumps(value, default=str))


def text_or_none(value) -> str | None:
    """``None`` for missing or empty values, else the value as text (department and area codes)."""
    return None if value in (None, "") else str(value)
