"""timer start events

Revision ID: 0005
Revises: 0002
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from engine.models import UtcDateTime

revision: str = "0005"
down_revision: Union[str, Sequence[str], None] = "0002"
branch_labels: Union[str, Sequence[str], None] = ("timer_starts",)
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "timer_starts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("process_key", sa.String(length=200), nullable=False),
        sa.Column("definition_id", sa.Integer(), nullable=False),
        sa.Column("start_event_id", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("expression", sa.String(length=300), nullable=False),
        sa.Column("next_due_at", UtcDateTime(), nullable=True),
        sa.Column("remaining", sa.Integer(), nullable=False),
        sa.Column("interval_seconds", sa.Float(), nullable=True),
        sa.Column("last_fired_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["definition_id"], ["process_definitions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("process_key"),
    )
    op.create_index("ix_timer_start_due", "timer_starts", ["next_due_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_timer_start_due", table_name="timer_starts")
    op.drop_table("timer_starts")
