"""the permit register: each permit instance carries its register row

Revision ID: 0013
Revises: 0012

``process_instances.register_status`` and ``process_instances.register`` (engine/permits.py): for an
instance of a permit process, the engine writes the permit's register status and its snapshot (type,
grade, location, validity end, latest gas sample, what its review recorded about cross-work) on every
step, in the same versioned UPDATE as the state, from the workflow itself (so the data of a stale
parallel branch cannot overrule it). NULL for other processes, and for permits that have not stepped
since this revision (the register derives those from their stored state until their next step).
A partial index serves the register's status filter; other instances never enter it, and a step
that leaves the status as it was keeps PostgreSQL's HOT update.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: Union[str, Sequence[str], None] = "0012"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("process_instances") as batch:
        batch.add_column(sa.Column("register_status", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("register", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
                                   nullable=True))
    op.create_index("ix_instance_register", "process_instances", ["process_key", "register_status"],
                    postgresql_where=sa.text("register_status IS NOT NULL"),
                    sqlite_where=sa.text("register_status IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("ix_instance_register", table_name="process_instances")
    with op.batch_alter_table("process_instances") as batch:
        batch.drop_column("register")
        batch.drop_column("register_status")
