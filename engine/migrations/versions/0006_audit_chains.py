"""audit: one hash chain per instance (plus a global chain), sequence-assigned seq

Revision ID: 0006
Revises: 0002
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: Union[str, Sequence[str], None] = "0002"
branch_labels: Union[str, Sequence[str], None] = ("audit_chains",)
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("chain", sa.String(length=40), nullable=False, server_default="global"))
        batch.add_column(sa.Column("chain_seq", sa.BigInteger(), nullable=False, server_default="0"))
    op.execute("UPDATE audit_events SET chain_seq = seq")
    op.create_index("uq_audit_chain_seq", "audit_events", ["chain", "chain_seq"], unique=True)
    with op.batch_alter_table("process_instances") as batch:
        batch.add_column(sa.Column("audit_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("audit_seq", sa.BigInteger(), nullable=False, server_default="0"))
    if op.get_bind().dialect.name == "postgresql":
        # SQLite's INTEGER PRIMARY KEY numbers rows by itself; PostgreSQL needs a sequence.
        op.execute("CREATE SEQUENCE IF NOT EXISTS audit_events_seq_seq OWNED BY audit_events.seq")
        op.execute("SELECT setval('audit_events_seq_seq', COALESCE((SELECT max(seq) FROM audit_events), 0) + 1, false)")
        op.execute("ALTER TABLE audit_events ALTER COLUMN seq SET DEFAULT nextval('audit_events_seq_seq')")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE audit_events ALTER COLUMN seq DROP DEFAULT")
        op.execute("DROP SEQUENCE IF EXISTS audit_events_seq_seq")
    with op.batch_alter_table("process_instances") as batch:
        batch.drop_column("audit_seq")
        batch.drop_column("audit_hash")
    op.drop_index("uq_audit_chain_seq", table_name="audit_events")
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("chain_seq")
        batch.drop_column("chain")
