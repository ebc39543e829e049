"""Pooled PostgreSQL connections: checked only after sitting idle, replaced when dead."""
import psycopg
import pytest
from sqlalchemy.exc import OperationalError

from engine.config import normalise_database_url
from engine.db import Database


def _kill(url: str, pid: int) -> None:
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


def _backend_pid(db: Database) -> int:
    with db.connect() as c:
        return c.exec_driver_sql("SELECT pg_backend_pid()").scalar()


def test_a_connection_that_died_while_idle_is_replaced_before_use(pg_database):
    db = Database(normalise_database_url(pg_database), pool_size=1, ping_after_idle_seconds=0.0)
    try:
        pid = _backend_pid(db)
        _kill(pg_database, pid)
        assert _backend_pid(db) != pid  # the request got a fresh connection, no error
    finally:
        db.dispose()


def test_a_busy_connection_is_not_pinged(pg_database):
    # Within the idle window the pool trusts the connection (no round trip per request);
    # a connection killed meanwhile fails that one request, and the pool then recovers.
    db = Database(normalise_database_url(pg_database), pool_size=1, ping_after_idle_seconds=3600)
    try:
        pid = _backend_pid(db)
        _kill(pg_database, pid)
        with pytest.raises(OperationalError):
            _backend_pid(db)
        assert _backend_pid(db) != pid
    finally:
        db.dispose()
