"""partial indexes on ready tasks (work queues)

Revision ID: 0007
Revises: 0006
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: Union[str, Sequence[str], None] = "0006"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

READY = sa.text("state = 'ready'")


def upgrade() -> None:
    op.create_index("ix_task_ready_role", "tasks", ["candidate_role", "department", "created_at", "id"],
                    postgresql_where=READY, sqlite_where=READY)
    op.create_index("ix_task_ready_assignee", "tasks", ["assignee", "created_at", "id"],
                    postgresql_where=READY, sqlite_where=READY)


def downgrade() -> None:
    op.drop_index("ix_task_ready_assignee", table_name="tasks")
    op.drop_index("ix_task_ready_role", table_name="tasks")
