"""users carry a token epoch; audit events name the key that sealed them

Revision ID: 0012
Revises: 0011

- ``users.token_epoch``: bearer tokens carry the epoch they were issued under
  (claim ``ep``); a password reset or a deactivation increments it, so every token
  issued before stops working on every server process (engine/users.py). Roles and
  department are no longer trusted from the token but read from the user row.
- ``audit_events.key_id``: the id of the HMAC key an event's hash was computed with
  (engine/audit.py). NULL marks an event sealed with plain sha256 before this
  revision; ``Platform.migrate()`` reseals those chains with the current key. A
  partial index finds them without reading the whole table (it is empty once they
  are resealed, and new events, which always name their key, never enter it).
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: Union[str, Sequence[str], None] = "0011"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("token_epoch", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("key_id", sa.String(length=32), nullable=True))
    op.create_index("ix_audit_unsealed", "audit_events", ["seq"], postgresql_where=sa.text("key_id IS NULL"),
                    sqlite_where=sa.text("key_id IS NULL"))


def downgrade() -> None:
    op.drop_index("ix_audit_unsealed", table_name="audit_events")
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("key_id")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("token_epoch")
