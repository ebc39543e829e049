"""The ``hub`` connector: read and write records of the plant data hub.

Kinds the data hub declares (``engine/hub/kinds.py``: equipment, hazard,
violation, work_record … and the analyses' ``focus_item`` / ``recommendation``)
are read from and written to its typed tables through
:mod:`engine.hub.bridge`, validated as an import would be; e.g. the work plan
reads ``hub/read(kind="focus_item", filters={"area": area})``. Other kinds are
free-form records as described below.

Until the data hub of its own issue exists, records live in one table,
``hub_records`` (kind, key, data JSON, version, updated_at), that this module
defines and creates on first use in the platform's database (it is not part
of the engine's migrations, and the engine never reads it). A record is
identified by ``(kind, key)``; writing it again replaces its data and bumps
its version.

Configuration: ``database_url`` (``ANJIAN_CONNECTOR_HUB_DATABASE_URL``); by
default the platform's own database (``DATABASE_URL``, else the embedded
SQLite file under ``ANJIAN_DATA_DIR``). Set ``database_url`` to ``""`` to
switch the hub off: its calls then fail with "data hub not configured".
"""
from __future__ import annotations

import datetime as dt
import threading
import uuid
from pathlib import Path

from sqlalchemy import (JSON, Column, DateTime, Integer, MetaData, String, Table, UniqueConstraint, func,
                        select, update)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from connectors.base import Connector, ConnectorError, Param, operation
from engine.hub import bridge as hub_bridge

METADATA = MetaData()
HUB_RECORDS = Table(
    "hub_records", METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(100), nullable=False, index=True),
    Column("key", String(200), nullable=False),
    Column("data", JSON, nullable=False),
    Column("version", Integer, nullable=False, default=1),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("kind", "key", name="uq_hub_records_kind_key"),
)
MAX_LIMIT = 1000
_RECORD = {"type": "object", "required": ["kind", "key", "data", "version", "updated_at"]}


class HubConnector(Connector):
    """Stores and looks up plant data records by kind and key."""

    name = "hub"
    version = "1.0.0"
    kind = "data_hub"
    description = "Data hub records (kind, key, JSON data): store and look up plant data from processes"
    config_schema = {
        "type": "object",
        "properties": {"database_url": {"type": "string", "writeOnly": True,
                                        "description": "SQLAlchemy URL; '' switches the hub off"}},
        "additionalProperties": False,
    }

    @classmethod
    def default_config(cls, environ: dict) -> dict:
        """Use the platform's database (``DATABASE_URL`` or the embedded SQLite file)."""
        from engine.config import normalise_database_url

        url = environ.get("DATABASE_URL")
        if not url:
            data_dir = Path(environ.get("ANJIAN_DATA_DIR") or (Path.cwd() / "var")).resolve()
            url = f"sqlite:///{data_dir / 'anjian.db'}"
        return {"database_url": normalise_database_url(url)}

    def __init__(self, config: dict | None = None):
        """Configure; the database is opened and the table created on first use."""
        super().__init__(config)
        self._db = None
        self._lock = threading.Lock()

    @property
    def configured(self) -> bool:
        """True when a database URL is set."""
        return bool(self.config.get("database_url"))

    def _database(self):
        if not self.configured:
            raise ConnectorError("data hub not configured: set ANJIAN_CONNECTOR_HUB_DATABASE_URL "
                                 "(or DATABASE_URL)", retryable=False)
        with self._lock:
            if self._db is None:
                from engine.db import Database

                db = Database(self.config["database_url"], pool_size=2)
                try:
                    with db.read_engine.begin() as conn:
                        METADATA.create_all(conn, checkfirst=True)
                except SQLAlchemyError as exc:
                    db.dispose()
                    raise ConnectorError(f"data hub database unavailable: {type(exc).__name__}: "
                                         f"{str(exc).splitlines()[0]}", retryable=True) from exc
                self._db = db
        return self._db

    def close(self) -> None:
        """Dispose of the database engine."""
        if self._db is not None:
            self._db.dispose()
            self._db = None

    @operation(params=[Param("kind", description="record kind, e.g. gas_reading, permit"),
                       Param("record", "object", description="the record's data"),
                       Param("key", required=False,
                             description="record key (default: record['key'] or record['id'], else a new id)")],
               result_schema=_RECORD)
    def write(self, kind, record, key=None):
        """Insert or replace the record (kind, key); answers it with its new version."""
        key = str(key or record.get("key") or record.get("id") or uuid.uuid4().hex)
        _check_names(kind, key)
        db = self._database()
        if hub_bridge.handles(kind):  # the data hub's own kinds land on its typed tables
            return _typed(lambda: hub_bridge.write(db, kind, record))
        now = dt.datetime.now(dt.timezone.utc)
        for _ in range(3):  # a concurrent first insert of the same key loses the race once, then updates
            try:
                with db.session() as s:
                    row = s.execute(select(HUB_RECORDS.c.id, HUB_RECORDS.c.version).where(
                        HUB_RECORDS.c.kind == kind, HUB_RECORDS.c.key == key)).first()
                    if row is None:
                        s.execute(HUB_RECORDS.insert().values(kind=kind, key=key, data=record, version=1,
                                                              updated_at=now))
                        version, created = 1, True
                    else:
                        s.execute(update(HUB_RECORDS).where(HUB_RECORDS.c.id == row.id).values(
                            data=record, version=HUB_RECORDS.c.version + 1, updated_at=now))
                        version, created = row.version + 1, False
                return {"kind": kind, "key": key, "data": record, "version": version,
                        "updated_at": now.isoformat(), "created": created}
            except IntegrityError:
                continue
            except SQLAlchemyError as exc:
                raise _db_error(exc) from exc
        raise ConnectorError(f"could not write hub record {kind}/{key}: concurrent writers", retryable=True)

    @operation(params=[Param("kind", description="record kind"),
                       Param("key", required=False, description="one record by key"),
                       Param("filters", "object", required=False,
                             description="equality filters on top-level fields of the data"),
                       Param("limit", "integer", required=False, default=100, description=f"at most {MAX_LIMIT}")],
               result_schema={"type": "object", "required": ["kind", "records", "count"],
                              "properties": {"records": {"type": "array", "items": _RECORD}}})
    def read(self, kind, key=None, filters=None, limit=100):
        """Records of a kind (newest first), optionally one key or those whose data match the filters."""
        if not 1 <= limit <= MAX_LIMIT:
            raise ConnectorError(f"parameter 'limit' must be between 1 and {MAX_LIMIT}, got {limit}", param="limit")
        db = self._database()
        if hub_bridge.handles(kind):
            return _typed(lambda: hub_bridge.read(db, kind, key, filters, limit))
        stmt = select(HUB_RECORDS).where(HUB_RECORDS.c.kind == kind)
        if key is not None:
            stmt = stmt.where(HUB_RECORDS.c.key == str(key))
        stmt = stmt.order_by(HUB_RECORDS.c.updated_at.desc(), HUB_RECORDS.c.id.desc())
        out = []
        try:
            with db.session(write=False) as s:
                for row in s.execute(stmt).mappings():
                    data = row["data"]
                    if filters and not (isinstance(data, dict) and all(data.get(k) == v for k, v in filters.items())):
                        continue
                    updated = row["updated_at"]
                    if updated is not None and updated.tzinfo is None:
                        updated = updated.replace(tzinfo=dt.timezone.utc)
                    out.append({"kind": row["kind"], "key": row["key"], "data": data, "version": row["version"],
                                "updated_at": updated.isoformat() if updated else None})
                    if len(out) >= limit:
                        break
        except SQLAlchemyError as exc:
            raise _db_error(exc) from exc
        return {"kind": kind, "records": out, "count": len(out)}

    def count(self) -> int:
        """Number of stored records (operators' diagnostics)."""
        with self._database().session(write=False) as s:
            return s.scalar(select(func.count()).select_from(HUB_RECORDS))


def _typed(call):
    try:
        return call()
    except ValueError as exc:
        raise ConnectorError(str(exc), param="record", retryable=False) from None
    except SQLAlchemyError as exc:
        raise _db_error(exc) from exc


def _check_names(kind: str, key: str) -> None:
    if not kind.strip() or len(kind) > 100:
        raise ConnectorError("parameter 'kind' must be 1-100 characters", param="kind")
    if len(key) > 200:
        raise ConnectorError("the record key must be at most 200 characters", param="key")


def _db_error(exc: SQLAlchemyError) -> ConnectorError:
    from sqlalchemy.exc import OperationalError

    first = str(exc).splitlines()[0][:300]
    return ConnectorError(f"data hub database error: {type(exc).__name__}: {first}",
                          retryable=isinstance(exc, OperationalError))
