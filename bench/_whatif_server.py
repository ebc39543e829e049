"""``anjian serve`` with runtime patches, for what-if measurements only.

Used by ``bench/lifecycle.py --what-if …`` to estimate what a fix would buy
before anyone changes the engine. The engine source is not modified; the
patches live in this process (inherited by gunicorn's forked workers).

ANJIAN_BENCH_WHATIF is a comma-separated list of:
  quiet-spiff-logs  SpiffWorkflow's loggers at WARNING (they log every task
                    state change at INFO, serialized as JSON lines)
  no-audit-lock     audit events numbered from a PostgreSQL sequence, without
                    the global ``audit_head`` row lock and its UPDATE. This
                    BREAKS the hash chain (prev_hash is a placeholder): it only
                    measures what the single chain head costs.
"""
from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def patch(whatif: set[str]) -> None:
    if "quiet-spiff-logs" in whatif:
        logging.getLogger("spiff").setLevel(logging.WARNING)
    if "no-audit-lock" in whatif:
        from sqlalchemy import create_engine, text

        from engine import audit
        from engine.config import normalise_database_url
        from engine.models import AuditEvent, utcnow

        eng = create_engine(normalise_database_url(os.environ["DATABASE_URL"]))
        with eng.begin() as conn:
            conn.execute(text("CREATE SEQUENCE IF NOT EXISTS bench_audit_seq START 1000000000"))
        eng.dispose()

        def append(session, *, actor, kind, instance_id=None, task_id=None, data=None):
            data = data or {}
            seq = session.execute(text("SELECT nextval('bench_audit_seq')")).scalar_one()
            at = utcnow()
            d = audit.digest(data)
            h = audit._link_hash(audit.GENESIS_HASH, seq, at, actor, kind, instance_id, task_id, d)
            ev = AuditEvent(seq=seq, at=at, actor=actor, kind=kind, instance_id=instance_id, task_id=task_id,
                            data=data, data_digest=d, prev_hash=audit.GENESIS_HASH, hash=h)
            session.add(ev)
            return ev

        audit.append = append


if __name__ == "__main__":
    patch({w.strip() for w in os.environ.get("ANJIAN_BENCH_WHATIF", "").split(",") if w.strip()})
    from api.cli import main

    sys.argv[0] = "anjian"
    main()
