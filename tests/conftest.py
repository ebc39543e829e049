"""Shared fixtures: every database-backed test runs on SQLite and on PostgreSQL.

PostgreSQL is the machine's real server (``ANJIAN_TEST_PG_URL``, default
``postgresql://postgres@127.0.0.1:5432/test``); each test session creates its
own database there and drops it afterwards. When the server is unreachable the
PostgreSQL variants are skipped, unless ``ANJIAN_REQUIRE_SERVICES=1`` (CI),
which turns that into a failure.
"""
from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from engine.config import Settings
from engine.db import Database
from engine.platform import Platform
from engine.sample_plant import seed_sample_plant

REQUIRE_SERVICES = os.environ.get("ANJIAN_REQUIRE_SERVICES") == "1"
PG_BASE_URL = os.environ.get("ANJIAN_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
DEMO_PASSWORD = "anjian-demo"
# Tables emptied between tests; users, departments and areas persist per session.
PROCESS_TABLES = ["alert_events", "alerts", "dead_letters", "readings", "devices", "timer_starts", "outbox", "message_deliveries", "message_subscriptions", "message_start_events", "incidents", "tasks", "audit_events", "process_instances", "process_definitions", "deployments"]


def service_unavailable(what: str) -> None:
    """Skip locally, fail in CI (ANJIAN_REQUIRE_SERVICES=1)."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required (ANJIAN_REQUIRE_SERVICES=1) but unreachable")
    pytest.skip(f"{what} unreachable")


def _pg_admin_url() -> str:
    from engine.config import normalise_database_url

    return normalise_database_url(PG_BASE_URL)


@pytest.fixture(scope="session")
def pg_database():
    """A fresh PostgreSQL database for this session; yields its URL."""
    import psycopg

    base = PG_BASE_URL
    try:
        conn = psycopg.connect(base, autocommit=True, connect_timeout=3)
    except Exception as exc:  # noqa: BLE001
        service_unavailable(f"PostgreSQL at {base} ({exc.__class__.__name__})")
    name = f"anjian_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = base.rsplit("/", 1)[0] + "/" + name
    yield url
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def session_platform(request, tmp_path_factory):
    """A migrated, seeded Platform per backend for the whole session."""
    data_dir = tmp_path_factory.mktemp(f"anjian-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{data_dir / 'anjian.db'}"
    else:
        url = request.getfixturevalue("pg_database")
    settings = Settings.from_env({"ANJIAN_DATA_DIR": str(data_dir), "DATABASE_URL": url,
                                  "ANJIAN_SECRET_KEY": "test-secret-key-with-enough-length-0123456789"})
    platform = Platform(settings)
    platform.migrate()
    seed_sample_plant(platform, DEMO_PASSWORD)
    yield platform
    platform.close()


@pytest.fixture
def platform(session_platform) -> Platform:
    """The session platform with all process data removed before the test."""
    _truncate(session_platform.db)
    session_platform.models.__init__()
    session_platform.tasks._validators.clear()  # keyed by definition id, which restarts with the tables
    session_platform.runner.workflow_cache.clear()
    return session_platform


def _truncate(db: Database) -> None:
    with db.session() as s:
        if db.is_sqlite:
            for table in PROCESS_TABLES:
                s.execute(text(f"DELETE FROM {table}"))
        else:
            s.execute(text("TRUNCATE " + ", ".join(PROCESS_TABLES) + " CASCADE"))
        s.execute(text("UPDATE audit_head SET seq = 0, hash = :h"), {"h": "0" * 64})


@pytest.fixture(scope="session")
def session_app(session_platform):
    """The Flask app on the session platform, built once per backend: create_app keeps nothing of its
    own but the platform (routes, OpenAPI document, handlers), and building it (the OpenAPI document)
    took ~0.1 s of CPU in each of ~860 tests. Each test still gets its own test client (cookies)."""
    from api.app import create_app

    return create_app(platform=session_platform)


@pytest.fixture
def app(platform, session_app):
    return session_app


class ApiClient:
    """Flask test client that logs in as plant users and speaks JSON."""

    _tokens: dict = {}

    def __init__(self, client, backend: str):
        self.client = client
        self.backend = backend

    def token(self, username: str) -> str:
        key = (self.backend, username)
        if key not in self._tokens:
            r = self.client.post("/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD})
            assert r.status_code == 200, r.json
            self._tokens[key] = r.json["access_token"]
        return self._tokens[key]

    def _call(self, method, path, as_user=None, **kw):
        headers = kw.pop("headers", {})
        if as_user:
            headers["Authorization"] = f"Bearer {self.token(as_user)}"
        return getattr(self.client, method)(path, headers=headers, **kw)

    def get(self, path, as_user=None, **kw):
        return self._call("get", path, as_user, **kw)

    def post(self, path, as_user=None, **kw):
        return self._call("post", path, as_user, **kw)

    def deploy(self, files: dict[str, str | bytes], as_user="designer1"):
        from io import BytesIO

        data = {"files": [(BytesIO(v.encode() if isinstance(v, str) else v), k) for k, v in files.items()]}
        return self.post("/api/v1/deployments", as_user, data=data, content_type="multipart/form-data")


@pytest.fixture
def api(app, platform) -> ApiClient:
    backend = "sqlite" if platform.db.is_sqlite else "postgresql"
    # Keyed by what makes a token valid: ids of collected objects are reused.
    return ApiClient(app.test_client(), f"{backend}|{platform.settings.database_url}|{platform.settings.secret_key}")


@pytest.fixture
def form_file():
    def make(properties: dict, required: list[str] | None = None) -> str:
        return json.dumps({"type": "object", "properties": properties, "required": required or []},
                          ensure_ascii=False)
    return make


FIXTURES = Path(__file__).parent / "fixtures"
