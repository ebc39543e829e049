"""Reporting periods: a month ``2026-11`` or a quarter ``2026-Q4`` (UTC boundaries)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

from engine.errors import Invalid

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$", re.IGNORECASE)


@dataclass(frozen=True)
class Period:
    """A half-open time range ``[start, end)`` with its label."""

    label: str
    start: datetime
    end: datetime

    def months(self) -> list["Period"]:
        """The months the period is made of."""
        out, y, m = [], self.start.year, self.start.month
        while datetime(y, m, 1, tzinfo=timezone.utc) < self.end:
            out.append(month(y, m))
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out


def month(year: int, mon: int) -> Period:
    """The calendar month as a Period."""
    start = datetime(year, mon, 1, tzinfo=timezone.utc)
    end = datetime(year + (mon == 12), 1 if mon == 12 else mon + 1, 1, tzinfo=timezone.utc)
    return Period(f"{year:04d}-{mon:02d}", start, end)


def shift_month(year: int, mon: int, delta: int) -> tuple[int, int]:
    """(year, month) ``delta`` months away."""
    idx = year * 12 + (mon - 1) + delta
    return idx // 12, idx % 12 + 1


def parse_period(text: str | None, field: str = "period", *, allow_quarter: bool = True) -> Period:
    """Parse ``YYYY-MM`` (or ``YYYY-Qn``); 422 naming ``field`` otherwise."""
    text = (text or "").strip()
    m = _MONTH.match(text)
    q = _QUARTER.match(text)
    year = int((m or q).group(1)) if (m or q) else None
    if year is not None and not 1900 <= year <= 2999:
        # Analyses look back months before the period; keep well inside datetime's range.
        raise Invalid(f"invalid period '{text}'", errors=[{"field": field, "message": "year must be 1900-2999"}])
    if m:
        return month(int(m.group(1)), int(m.group(2)))
    if q and allow_quarter:
        y, n = int(q.group(1)), int(q.group(2))
        first = month(y, 3 * n - 2)
        last = month(y, 3 * n)
        return Period(f"{y:04d}-Q{n}", first.start, last.end)
    expected = "YYYY-MM or YYYY-Qn" if allow_quarter else "YYYY-MM"
    raise Invalid(f"invalid period '{text}'", errors=[{"field": field, "message": f"expected {expected}, e.g. 2026-11"}])


def window(period: Period, months: int) -> Period:
    """The ``months`` months ending with ``period`` (for analyses needing more data than a month)."""
    y, m = shift_month(period.start.year, period.start.month, -(months - 1))
    return Period(f"{period.label}/{months}m", month(y, m).start, period.end)
