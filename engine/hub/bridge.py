"""What the ``hub`` connector reads and writes when a kind is one of the data hub's own.

Processes call ``hub/read`` and ``hub/write`` (connectors/hub.py). For the
typed kinds of :mod:`engine.hub.kinds` (equipment, hazard, violation …) and
for the analyses' pushes (``focus_item``, ``recommendation``) those calls land
on the hub tables, validated exactly as an import or the REST API would;
other kinds stay free-form ``hub_records``. Answers use the connector's
record shape: ``{kind, key, data, version, updated_at}``.
"""
from __future__ import annotations

from sqlalchemy import select

from engine.errors import AnjianError
from engine.hub.kinds import KINDS, natural_key, to_json
from engine.hub.models import FocusItem, Recommendation

PUSHED = {"focus_item": FocusItem, "recommendation": Recommendation}


def handles(kind: str) -> bool:
    """True when ``kind`` is stored in the hub's typed tables."""
    return kind in KINDS or kind in PUSHED


def _shape(kind, key, data, updated) -> dict:
    return {"kind": kind, "key": key, "data": data, "version": 1, "updated_at": updated}


def read(db, kind: str, key=None, filters=None, limit: int = 100) -> dict:
    """Records of a typed kind, newest first; equality ``filters`` on the record's fields."""
    filters = dict(filters or {})
    if kind in PUSHED:
        from engine.analytics.service import focus_json, recommendation_json

        model = PUSHED[kind]
        to = focus_json if kind == "focus_item" else recommendation_json
        q = select(model).order_by(model.id.desc())
        if key is not None:
            q = q.where(model.id == int(key)) if str(key).isdigit() else q.where(model.id == -1)
        filters.setdefault("status", "open")
    else:
        spec = KINDS[kind]
        model = spec.model
        to = lambda obj: to_json(spec, obj)  # noqa: E731
        order = getattr(model, spec.time_field).desc() if spec.time_field else model.id.desc()
        q = select(model).order_by(order, model.id.desc())
        if key is not None:
            parts = str(key).split("|")
            if len(parts) != len(spec.key):
                return {"kind": kind, "records": [], "count": 0}
            q = q.where(*[getattr(model, k) == v for k, v in zip(spec.key, parts)])
    for name, value in list(filters.items()):
        col = getattr(model, name, None)
        if col is not None and hasattr(col, "type") and not isinstance(value, (dict, list)):
            q = q.where(col == value)
            filters.pop(name)
    out = []
    with db.session(write=False) as s:
        for obj in s.scalars(q.limit(max(limit * 4, limit) if filters else limit)):
            data = to(obj)
            if filters and not all(data.get(k) == v for k, v in filters.items()):
                continue
            k = str(obj.id) if kind in PUSHED else "|".join(str(data[x]) for x in KINDS[kind].key)
            out.append(_shape(kind, k, data, data.get("updated_at") or data.get("created_at")))
            if len(out) >= limit:
                break
    return {"kind": kind, "records": out, "count": len(out)}


def write(db, kind: str, record: dict) -> dict:
    """Insert or update a typed record; ValueError(message, fields) when it is invalid or read-only."""
    if kind in PUSHED:
        raise ValueError(f"'{kind}' records are written by the analyses and are read-only here")
    from engine.hub.service import HubService

    try:
        data, created = HubService(db).upsert_one(kind, record, source="connector")
    except AnjianError as err:
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in (err.errors or [])) or err.detail
        raise ValueError(f"invalid {kind} record: {detail}") from None
    key = "|".join(str(data[x]) for x in KINDS[kind].key)
    out = _shape(kind, key, data, data["updated_at"])
    out["created"] = created
    return out


__all__ = ["handles", "read", "write", "natural_key"]
