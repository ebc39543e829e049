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


@pytest.fixture
def own_pg_database(pg_database):
    """A database of this test alone: dropping every session in it touches no other test."""
    import uuid

    base = pg_database.rsplit("/", 1)[0]
    name = f"anjian_pooltest_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_database, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"{base}/{name}"
    with psycopg.connect(pg_database, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_request_on_a_dropped_connection_is_a_retryable_503_and_the_next_one_works(own_pg_database, tmp_path):
    from api.app import create_app
    from engine.config import Settings
    from engine.platform import Platform

    pg_database = own_pg_database
    settings = Settings.from_env({"ANJIAN_DATA_DIR": str(tmp_path), "DATABASE_URL": pg_database,
                                  "ANJIAN_SECRET_KEY": "test-secret-key-with-enough-length-0123456789"})
    platform = Platform(settings)
    try:
        platform.migrate()
        platform.users.add_user("pooltest", "pool-test-pw-1", ["worker"], replace=True)
        client = create_app(platform=platform).test_client()
        token = client.post("/api/v1/auth/login", json={"username": "pooltest", "password": "pool-test-pw-1"}).json
        auth = {"Authorization": f"Bearer {token['access_token']}"}
        assert client.get("/api/v1/me", headers=auth).status_code == 200
        with psycopg.connect(pg_database, autocommit=True) as admin:  # the server drops every other session
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        r = client.get("/api/v1/me", headers=auth)
        assert r.status_code == 503 and r.json["retryable"] is True and r.headers["Retry-After"] == "1"
        assert r.content_type == "application/problem+json"
        assert client.get("/api/v1/me", headers=auth).status_code == 200
    finally:
        platform.close()
