"""The statistics of the fusion analyses, in plain Python (exact, no approximations to tune).

Rate comparison (used by the load-band and the hotspot analyses): two Poisson
rates, events ``e1`` in exposure ``t1`` (e.g. running hours at high load) and
``e2`` in ``t2`` (the rest). Conditional on the total ``n = e1 + e2``, under the
null hypothesis of equal rates ``e1 ~ Binomial(n, t1 / (t1 + t2))``; the
one-sided p-value is ``P(X ≥ e1)`` (the exact conditional test, Przyborowski–
Wilenski). Many groups are tested at once, so p-values are corrected with
Holm's step-down method to keep the family-wise error rate at ``alpha``.
"""
from __future__ import annotations

import math


def binomial_upper_tail(k: int, n: int, p: float) -> float:
    """P(X ≥ k) for X ~ Binomial(n, p), summed exactly in log space."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    if p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    lp, lq = math.log(p), math.log1p(-p)
    lg_n = math.lgamma(n + 1)
    terms = [lg_n - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * lp + (n - i) * lq for i in range(k, n + 1)]
    top = max(terms)
    return min(1.0, math.exp(top) * sum(math.exp(t - top) for t in terms))


def poisson_rate_test(e1: int, t1: float, e2: int, t2: float) -> dict:
    """One-sided exact conditional test that rate 1 (e1/t1) exceeds rate 2 (e2/t2)."""
    n = e1 + e2
    if t1 <= 0 or t2 <= 0 or n == 0:
        return {"tested": False, "p_value": None, "rate_ratio": None}
    p0 = t1 / (t1 + t2)
    r1, r2 = e1 / t1, e2 / t2
    ratio = (r1 / r2) if r2 > 0 else (math.inf if r1 > 0 else None)
    return {"tested": True, "p_value": binomial_upper_tail(e1, n, p0), "rate_ratio": ratio}


def holm(p_values: dict, alpha: float) -> set:
    """Keys whose hypotheses Holm's step-down procedure rejects at family-wise level ``alpha``."""
    ordered = sorted(p_values.items(), key=lambda kv: (kv[1], str(kv[0])))
    m = len(ordered)
    rejected = set()
    for i, (key, p) in enumerate(ordered):
        if p <= alpha / (m - i):
            rejected.add(key)
        else:
            break
    return rejected


def slope(values: list[float | None]) -> float | None:
    """Least-squares slope per step of a series (None values skipped; None under 2 points)."""
    pts = [(i, v) for i, v in enumerate(values) if v is not None]
    if len(pts) < 2:
        return None
    mx = sum(i for i, _ in pts) / len(pts)
    my = sum(v for _, v in pts) / len(pts)
    den = sum((i - mx) ** 2 for i, _ in pts)
    return sum((i - mx) * (v - my) for i, v in pts) / den if den else None


def quantile(values: list[float], q: float) -> float | None:
    """Linear-interpolated quantile (None for an empty list)."""
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def finite(x):
    """JSON-safe number: inf → None, rounded to 6 significant places."""
    if x is None or (isinstance(x, float) and (math.isinf(x) or math.isnan(x))):
        return None
    return float(f"{x:.6g}") if isinstance(x, float) else x
