"""Writing and reading hub records: idempotent batched upserts and filtered, paged queries."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, insert, select, tuple_
from sqlalchemy.exc import SQLAlchemyError

from engine.db import Database
from engine.errors import Invalid, NotFound
from engine.hub.kinds import (DEFAULT_FUTURE_TOLERANCE, KINDS, Kind, _convert, natural_key, parse_datetime, to_json,
                              validate_row)

log = logging.getLogger(__name__)
DEFAULT_BATCH = 500


@dataclass
class ImportReport:
    """What an import did, row by row for the rejected ones."""

    kind: str
    received: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[dict] = field(default_factory=list)
    batches: int = 0

    def as_dict(self) -> dict:
        """JSON form (API answer, CLI --json): every received row is counted once, in ``outcomes``
        (created = inserted; ``inserted`` stays for the clients that read it)."""
        return {"kind": self.kind, "received": self.received, "inserted": self.inserted, "updated": self.updated,
                "unchanged": self.unchanged, "rejected_count": len(self.rejected), "rejected": self.rejected,
                "batches": self.batches,
                "outcomes": {"created": self.inserted, "updated": self.updated, "unchanged": self.unchanged,
                             "rejected": len(self.rejected)}}


def kind_or_error(name: str, field_name: str = "kind") -> Kind:
    """The declared kind, or 422 naming the field and the known kinds."""
    kind = KINDS.get(name)
    if kind is None:
        raise Invalid(f"unknown hub kind '{name}'",
                      errors=[{"field": field_name, "message": f"one of {sorted(KINDS)}"}])
    return kind


class HubService:
    """The data hub: one place for production and supervision records."""

    def __init__(self, db: Database, *, future_tolerance: timedelta = DEFAULT_FUTURE_TOLERANCE):
        self.db = db
        self.future_tolerance = future_tolerance  # ANJIAN_HUB_FUTURE_TOLERANCE_MINUTES

    # ------------------------------------------------------------------ writing

    def upsert(self, kind_name: str, rows, *, source: str = "import", batch_size: int = DEFAULT_BATCH,
               progress=None, first_row_number: int = 1, now: datetime | None = None) -> ImportReport:
        """Validate every row, then insert or update the valid ones by natural key, one transaction per batch.

        ``rows`` is any iterable of dicts; a rejected row is reported with its
        number (``first_row_number`` for the first, e.g. 2 for a CSV with a
        header line) and every failing field with its rule, and stores nothing.
        Rows are judged against ``now`` (default: the clock) for dates in the
        future. Rows that share a natural key are all rejected, each naming the
        other rows: the file contradicts itself, and which row is true is for
        its author to say (a later row silently winning would store a guess).
        A batch that the database refuses is rolled back as a whole and its
        rows reported. ``progress(n)`` is called after each batch with the rows handled.
        """
        kind = kind_or_error(kind_name)
        report = ImportReport(kind.name)
        now = now or datetime.now(timezone.utc)
        valid: list[tuple[int, dict]] = []
        for number, raw in enumerate(rows, start=first_row_number):
            report.received += 1
            clean, errors = validate_row(kind, raw, default_source=source, now=now,
                                         future_tolerance=self.future_tolerance)
            if errors:
                report.rejected.append({"row": number, "key": _raw_key(kind, raw), "errors": errors})
                continue
            valid.append((number, clean))
        lines: dict[tuple, list[int]] = {}
        for number, clean in valid:
            lines.setdefault(natural_key(kind, clean), []).append(number)
        key_text = ", ".join(kind.key)
        batch: list[tuple[int, dict]] = []
        for number, clean in valid:
            key = natural_key(kind, clean)
            if len(lines[key]) > 1:
                others = [n for n in lines[key] if n != number]
                report.rejected.append({"row": number, "key": list(map(_key_str, key)), "duplicate_of": others,
                                        "errors": [{"field": key_text, "rule": "duplicate_key", "message":
                                                    f"same {key_text} as row {', '.join(map(str, others))} of this "
                                                    f"file: keep one of them"}]})
                continue
            batch.append((number, clean))
            if len(batch) >= batch_size:
                self._write_batch(kind, batch, report)
                if progress:
                    progress(len(batch))
                batch = []
        if batch:
            self._write_batch(kind, batch, report)
            if progress:
                progress(len(batch))
        report.rejected.sort(key=lambda r: r["row"])
        return report

    def upsert_one(self, kind_name: str, raw: dict, *, source: str = "api") -> tuple[dict, bool]:
        """Insert or update one record; 422 naming the fields when invalid. Returns (record, created)."""
        kind = kind_or_error(kind_name)
        clean, errors = validate_row(kind, raw, default_source=source, now=datetime.now(timezone.utc),
                                     future_tolerance=self.future_tolerance)
        if errors:
            raise Invalid(f"invalid {kind.name} record", errors=errors)
        report = ImportReport(kind.name)
        self._write_batch(kind, [(1, clean)], report, raise_errors=True)
        return self.get(kind.name, natural_key(kind, clean)), report.inserted == 1

    def _write_batch(self, kind: Kind, batch: list[tuple[int, dict]], report: ImportReport,
                     raise_errors: bool = False) -> None:
        report.batches += 1
        by_key = {natural_key(kind, row): (number, row) for number, row in batch}  # upsert rejected duplicates
        model = kind.model
        try:
            with self.db.session() as s:
                existing = {natural_key(kind, _attrs(kind, o)): o for o in self._existing(s, kind, list(by_key))}
                new_rows, inserted, updated, unchanged = [], 0, 0, 0
                for key, (_, row) in by_key.items():
                    obj = existing.get(_norm_key(key))
                    if obj is None:
                        new_rows.append(row)
                        continue
                    changed = False
                    for name, value in row.items():
                        if not _same(getattr(obj, name), value):
                            setattr(obj, name, value)
                            changed = True
                    if changed:
                        updated += 1
                    else:
                        unchanged += 1
                if new_rows:
                    s.execute(insert(model), [_with_defaults(kind, r) for r in new_rows])
                    inserted = len(new_rows)
            report.inserted += inserted
            report.updated += updated
            report.unchanged += unchanged
        except SQLAlchemyError as exc:
            if raise_errors:
                raise Invalid(f"the database refused the {kind.name} record",
                              errors=[{"field": "(record)", "message": _db_message(exc)}]) from None
            log.warning("hub import batch of %s rejected: %s", kind.name, exc)
            for number, row in batch:
                report.rejected.append({"row": number, "key": list(map(str, natural_key(kind, row))),
                                        "errors": [{"field": "(batch)", "message": _db_message(exc)}]})

    @staticmethod
    def _existing(s, kind: Kind, keys: list[tuple]):
        model = kind.model
        if len(kind.key) == 1:
            col = getattr(model, kind.key[0])
            return s.scalars(select(model).where(col.in_([k[0] for k in keys])))
        cols = [getattr(model, k) for k in kind.key]
        return s.scalars(select(model).where(tuple_(*cols).in_(keys)))

    # ------------------------------------------------------------------ reading

    def get(self, kind_name: str, key: tuple) -> dict:
        """One record by natural key (404 when absent)."""
        kind = kind_or_error(kind_name)
        with self.db.session(write=False) as s:
            conds = [getattr(kind.model, k) == v for k, v in zip(kind.key, key)]
            obj = s.scalar(select(kind.model).where(*conds))
            if obj is None:
                raise NotFound(f"no {kind.name} {'/'.join(map(str, key))}")
            return to_json(kind, obj)

    def get_by_id(self, kind_name: str, record_id: int) -> dict:
        """One record by its id (404 when absent)."""
        kind = kind_or_error(kind_name)
        with self.db.session(write=False) as s:
            obj = s.get(kind.model, record_id)
            if obj is None:
                raise NotFound(f"no {kind.name} with id {record_id}")
            return to_json(kind, obj)

    def query(self, kind_name: str, filters: dict | None = None, *, time_from=None, time_to=None,
              page: int = 1, page_size: int = 50) -> dict:
        """Records of a kind with equality filters, a time range on the kind's time field, paging and total.

        Filter values may be text (query strings); each is converted to the
        field's type, and an unknown or non-filterable field is a 422 naming it.
        """
        kind = kind_or_error(kind_name)
        errors, conds = [], []
        for name, raw in (filters or {}).items():
            f = kind.by_name.get(name)
            if f is None or not f.filter:
                allowed = sorted(x.name for x in kind.fields if x.filter)
                errors.append({"field": name, "message": f"not a filter of '{kind.name}' (filters: {allowed})"})
                continue
            try:
                value = _convert(f, raw)
            except (ValueError, TypeError) as exc:
                errors.append({"field": name, "message": str(exc)})
                continue
            conds.append(getattr(kind.model, name) == value)
        bounds = {}
        for label, raw in (("from", time_from), ("to", time_to)):
            if raw in (None, ""):
                continue
            if kind.time_field is None:
                errors.append({"field": label, "message": f"'{kind.name}' has no time field"})
                continue
            try:
                bounds[label] = parse_datetime(raw)
            except (ValueError, TypeError):
                errors.append({"field": label, "message": "must be an ISO 8601 date or date-time"})
        if page < 1:
            errors.append({"field": "page", "message": "must be ≥ 1"})
        if not 1 <= page_size <= 500:
            errors.append({"field": "page_size", "message": "between 1 and 500"})
        if errors:
            raise Invalid("invalid hub query", errors=errors)
        if kind.time_field:
            col = getattr(kind.model, kind.time_field)
            if kind.by_name[kind.time_field].type == "date":
                bounds = {k: v.date() for k, v in bounds.items()}
            if "from" in bounds:
                conds.append(col >= bounds["from"])
            if "to" in bounds:
                conds.append(col < bounds["to"])
            order = [col.desc(), kind.model.id.desc()]
        else:
            order = [getattr(kind.model, kind.key[0]).asc()]
        with self.db.session(write=False) as s:
            total = s.scalar(select(func.count()).select_from(kind.model).where(*conds))
            rows = s.scalars(select(kind.model).where(*conds).order_by(*order)
                             .offset((page - 1) * page_size).limit(page_size)).all()
            return {"kind": kind.name, "items": [to_json(kind, r) for r in rows], "total": total,
                    "page": page, "page_size": page_size}

    def counts(self) -> dict[str, int]:
        """Number of records per kind (dashboards, the CLI)."""
        with self.db.session(write=False) as s:
            return {name: s.scalar(select(func.count()).select_from(k.model)) for name, k in KINDS.items()}


def _attrs(kind: Kind, obj) -> dict:
    return {k: getattr(obj, k) for k in kind.key}


def _norm_key(key: tuple) -> tuple:
    return key


def _same(old, new) -> bool:
    if isinstance(old, datetime) and isinstance(new, datetime):
        return parse_datetime(old) == parse_datetime(new)
    if isinstance(old, float) or isinstance(new, float):
        try:
            return old is not None and new is not None and abs(float(old) - float(new)) < 1e-9
        except (TypeError, ValueError):
            return False
    return old == new


def _with_defaults(kind: Kind, row: dict) -> dict:
    from engine.models import utcnow

    out = dict(row)
    out.setdefault("updated_at", utcnow())
    for col in kind.model.__table__.columns:
        if col.name not in out and col.default is not None and not col.primary_key and col.default.is_scalar:
            out[col.name] = col.default.arg
    if "suspension_causes" in kind.by_name:
        out.setdefault("suspension_causes", [])
    if "findings" in kind.by_name:
        out.setdefault("findings", [])
    if "qualifications" in kind.by_name:
        out.setdefault("qualifications", [])
    return out


def _key_str(value) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _raw_key(kind: Kind, raw) -> list[str] | None:
    if not isinstance(raw, dict):
        return None
    return [str(raw.get(k)) for k in kind.key]


def _db_message(exc: SQLAlchemyError) -> str:
    orig = getattr(exc, "orig", None)
    return (str(orig) if orig is not None else str(exc)).splitlines()[0][:300]


