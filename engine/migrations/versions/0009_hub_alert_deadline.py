"""hub_alerts.deadline_at: when handling of the alert had to start (grade deadline)

Revision ID: 0009_hub
Revises: 0004 (branch hub)

IoT alerts are mirrored into the hub (engine/hub/feed.py); the integrated
assessment scores whether each was handled before its deadline, so the hub
record keeps the deadline the alert was given. Nullable: imported alerts may
have none, and then they are not scored.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from engine.models import UtcDateTime

revision: str = "0009_hub"
down_revision: Union[str, Sequence[str], None] = "0004"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Add the nullable deadline column."""
    with op.batch_alter_table("hub_alerts") as batch:
        batch.add_column(sa.Column("deadline_at", UtcDateTime(), nullable=True))


def downgrade() -> None:
    """Drop it again."""
    with op.batch_alter_table("hub_alerts") as batch:
        batch.drop_column("deadline_at")
