"""task indexes a completion has to maintain; room for HOT updates of instance rows

Revision ID: 0010
Revises: 0007

Every task completion updates its task row out of ``ready`` (a new row version, so
PostgreSQL inserts it into every non-partial index of ``tasks``) and rewrites its
instance row. Measured in bench/lifecycle.py, index maintenance and the instance
row's page splits are a large part of PostgreSQL's CPU per completion:

- ``ix_task_queue (state, candidate_role, department, created_at)`` is served by the
  partial ``ix_task_ready_role`` since 0007; dropped.
- ``ix_task_due (state, due_at)`` becomes ``(due_at) WHERE state = 'ready'``: what asks
  by due date asks about open work (overdue scans, ``due_before`` lists), and a partial
  index is not touched when a task leaves ``ready``.
- ``process_instances`` gets fillfactor 50 (PostgreSQL): a step rewrites the state
  (~1.3 KB compressed) without changing an indexed column, and with free room on the
  page PostgreSQL keeps the new version there (a HOT update: no index entries at all).
  Applies to pages written from now on.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: Union[str, Sequence[str], None] = "0007"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

READY = sa.text("state = 'ready'")


def upgrade() -> None:
    op.drop_index("ix_task_queue", table_name="tasks")
    op.drop_index("ix_task_due", table_name="tasks")
    op.create_index("ix_task_due", "tasks", ["due_at"], postgresql_where=READY, sqlite_where=READY)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE process_instances SET (fillfactor = 50)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE process_instances RESET (fillfactor)")
    op.drop_index("ix_task_due", table_name="tasks")
    op.create_index("ix_task_due", "tasks", ["state", "due_at"])
    op.create_index("ix_task_queue", "tasks", ["state", "candidate_role", "department", "created_at"])
