"""Database engine and sessions for both modes (SQLite embedded, PostgreSQL).

SQLite needs two things to be correct under concurrent requests: WAL so
readers never block, and ``BEGIN IMMEDIATE`` for writing transactions so two
writers never both read a row version and then deadlock upgrading their locks.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from engine import jsoncodec

# JSON columns (instance variables, task properties, event data) encoded by orjson.
_JSON_CODEC = {"json_serializer": jsoncodec.dumps, "json_deserializer": jsoncodec.loads}

PING_AFTER_IDLE_SECONDS = 5.0


def _ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Check a pooled connection before use only when it sat idle for ``idle_seconds``.

    SQLAlchemy's ``pool_pre_ping`` pings on every checkout: one more round trip per
    request, 2.5 % of the API's CPU and a statement in PostgreSQL for each of a
    lifecycle's six requests. Connections die while idle (server restart, failover,
    idle timeouts), so only those are pinged; a dead one is replaced before the
    request uses it. A connection that dies mid-burst fails that request once and the
    pool is invalidated, as with any disconnect.
    """
    @event.listens_for(engine, "checkin")
    def _idle_since(dbapi_connection, record):  # pragma: no cover - pool hook
        record.info["anjian_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_connection, record, proxy):  # pragma: no cover - pool hook
        since = record.info.get("anjian_idle_since")
        if since is None or time.monotonic() - since < idle_seconds:
            return
        try:
            cursor = dbapi_connection.cursor()
            cursor.execute("SELECT 1")
            cursor.close()
            dbapi_connection.rollback()
        except Exception as exc:  # any failure: the pool discards it and connects anew
            raise DisconnectionError(f"pooled connection was dead after {time.monotonic() - since:.0f} s idle") from exc


class Database:
    """Owns the SQLAlchemy engines and hands out sessions."""

    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 10,
                 ping_after_idle_seconds: float = PING_AFTER_IDLE_SECONDS):
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            self._ensure_sqlite_dir(url)
            self.read_engine = self._sqlite_engine(url, immediate=False, echo=echo)
            self.write_engine = self._sqlite_engine(url, immediate=True, echo=echo)
        else:
            self.write_engine = create_engine(
                url, echo=echo, pool_size=pool_size, max_overflow=pool_size * 2, **_JSON_CODEC,
            )
            _ping_when_idle(self.write_engine, ping_after_idle_seconds)
            self.read_engine = self.write_engine
            # Same pool; a connection checked out through it is in autocommit until returned.
            self._autocommit_engine = self.write_engine.execution_options(isolation_level="AUTOCOMMIT")
        self._write = sessionmaker(self.write_engine, expire_on_commit=False)
        self._read = sessionmaker(self.read_engine, expire_on_commit=False)

    @property
    def engine(self) -> Engine:
        """The engine used for writes and migrations."""
        return self.write_engine

    @contextmanager
    def session(self, *, write: bool = True) -> Iterator[Session]:
        """One transaction: committed on success, rolled back on any exception."""
        factory = self._write if write else self._read
        session = factory()
        try:
            yield session
            if write:
                session.commit()
            else:
                session.rollback()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def connect(self, *, write: bool = False) -> Iterator[Connection]:
        """A Core connection in one transaction (no ORM session): for hot read paths.

        Committed on success when ``write``; rolled back otherwise and on any exception.
        """
        engine = self.write_engine if write else self.read_engine
        with engine.connect() as conn:
            conn.begin()
            try:
                yield conn
                if write:
                    conn.commit()
                else:
                    conn.rollback()
            except BaseException:
                conn.rollback()
                raise

    @property
    def has_atomic_step_writes(self) -> bool:
        """Whether a step's writes can be one self-committing statement (PostgreSQL:
        engine.step_write's combined statement), so :meth:`autocommit` may carry a step."""
        return not self.is_sqlite

    @contextmanager
    def autocommit(self) -> Iterator[Connection]:
        """A Core connection on which every statement commits by itself (PostgreSQL).

        For a read followed by one atomic write: no BEGIN and COMMIT round trips, which
        cost a task completion as much CPU as the read itself (bench/stack_floor.py).
        Anything that must commit together with something else belongs in :meth:`session`.
        """
        if not self.has_atomic_step_writes:
            raise RuntimeError("autocommit steps need PostgreSQL")
        with self._autocommit_engine.connect() as conn:
            yield conn

    @contextmanager
    def reader(self) -> Iterator[Connection]:
        """A connection for a read that is one statement: autocommit on PostgreSQL (a
        statement is its own snapshot, so no BEGIN and ROLLBACK round trips are needed),
        a read transaction on SQLite."""
        with self.connect() if self.is_sqlite else self.autocommit() as conn:
            yield conn

    def dispose(self) -> None:
        """Close pooled connections (tests, forked workers)."""
        self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            self.read_engine.dispose()

    @staticmethod
    def _ensure_sqlite_dir(url: str) -> None:
        from pathlib import Path

        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def _sqlite_engine(url: str, *, immediate: bool, echo: bool) -> Engine:
        engine = create_engine(
            url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=20, max_overflow=20, **_JSON_CODEC,
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record):  # pragma: no cover - driver hook
            # Let SQLAlchemy emit BEGIN itself (pysqlite's implicit BEGIN is deferred).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn):  # pragma: no cover - driver hook
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
