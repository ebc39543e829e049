"""How PostgreSQL stores the instance rows every step rewrites."""
from sqlalchemy import text

from engine.config import Settings
from engine.platform import Platform
from engine.principal import Principal
from tests.processes import permit_files


def test_instance_state_is_compressed_with_lz4_on_postgresql(pg_database, tmp_path):
    platform = Platform(Settings.from_env({"ANJIAN_DATA_DIR": str(tmp_path), "DATABASE_URL": pg_database,
                                           "ANJIAN_SECRET_KEY": "test-secret-key-with-enough-length-0123456789"}))
    try:
        platform.migrate()
        platform.deployments.deploy({k: v.encode() for k, v in permit_files().items()}, "designer1")
        inst = platform.instances.start(Principal("prod1", frozenset({"production"}), "workshop-1"), "permit",
                                        "lz4-check")
        with platform.db.session(write=False) as s:
            method, size = s.execute(text("SELECT pg_column_compression(state), octet_length(state) "
                                          "FROM process_instances WHERE id = :id"), {"id": inst["id"]}).one()
            fillfactor = s.scalar(text("SELECT reloptions::text FROM pg_class WHERE relname = 'process_instances'"))
        assert size > 2100           # past the ~2 KB above which PostgreSQL compresses a row
        assert method == "lz4"
        assert "fillfactor=50" in fillfactor   # room on the page for HOT updates (0010)
    finally:
        platform.close()
