"""Schema migrations (Alembic), run programmatically so ``anjian migrate`` needs no ini file."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from engine.db import Database

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at the bundled migration scripts."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(db: Database, revision: str = "heads") -> None:
    """Bring the schema to ``revision``; running it again is a no-op."""
    cfg = alembic_config(db.url)
    # A plain (deferred) transaction: BEGIN IMMEDIATE is for row writes only.
    with db.read_engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)
    _ensure_audit_head(db)


def current_revision(db: Database) -> str | None:
    """The revision the database is at (None when never migrated)."""
    from alembic.runtime.migration import MigrationContext

    with db.read_engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _ensure_audit_head(db: Database) -> None:
    from engine.audit import GENESIS_HASH
    from engine.models import AuditHead

    with db.session() as s:
        if s.get(AuditHead, 1) is None:
            s.add(AuditHead(id=1, seq=0, hash=GENESIS_HASH))
