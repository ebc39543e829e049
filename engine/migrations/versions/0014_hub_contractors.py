"""contractors: hub_contractors and a contractor column on work records, hazards and violations

Revision ID: 0014_hub
Revises: 0009_hub (branch hub)

Contractors are analysed as their own family (engine/analytics/analyses.py, ``contractor_hotspots``):
before, their people could only be told apart as "teams", competing with the plant's shift crews,
and a finding went to whichever department had worked most hours. The master table says which
department manages each contractor, so a finding about a contractor is pushed there. The columns
are nullable: NULL is the plant's own staff (and every record imported before this revision).
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from engine.models import UtcDateTime

revision: str = "0014_hub"
down_revision: Union[str, Sequence[str], None] = "0009_hub"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

TABLES = ("hub_work_records", "hub_hazards", "hub_violations")


def upgrade() -> None:
    """The contractor master and the three nullable columns."""
    op.create_table("hub_contractors",
                    sa.Column("id", sa.Integer(), nullable=False),
                    sa.Column("code", sa.String(length=64), nullable=False),
                    sa.Column("name", sa.String(length=200), nullable=False),
                    sa.Column("managing_department", sa.String(length=64), nullable=False),
                    sa.Column("source", sa.String(length=32), nullable=False),
                    sa.Column("updated_at", UtcDateTime(), nullable=False),
                    sa.PrimaryKeyConstraint("id"),
                    sa.UniqueConstraint("code"))
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("contractor", sa.String(length=64), nullable=True))


def downgrade() -> None:
    """Drop the columns and the master."""
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("contractor")
    op.drop_table("hub_contractors")
