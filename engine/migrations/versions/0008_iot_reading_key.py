"""readings: natural key (device, ts, metric) so a redelivered reading is stored once

Revision ID: 0008
Revises: 0003 (branch iot)

QoS 1 redelivery after a reconnect, and a gateway retrying POST /telemetry, bring
the same reading again. The reading's own identity is the device, the metric
(a video channel reports several events) and the time it was taken; a unique
index on it lets ingest insert with ON CONFLICT DO NOTHING and count the rest
as duplicates. Existing readings get their device's metric and existing
duplicates are removed (the oldest row is kept) before the index is built.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: Union[str, Sequence[str], None] = "0003"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Add readings.metric, drop duplicates, replace the (device, ts) index by a unique one."""
    with op.batch_alter_table("readings") as batch:
        batch.add_column(sa.Column("metric", sa.String(64), nullable=False, server_default=""))
    op.execute("UPDATE readings SET metric = COALESCE((SELECT d.metric FROM devices d "
               "WHERE d.id = readings.device_id), '')")
    op.execute("DELETE FROM readings WHERE id IN (SELECT id FROM (SELECT id, row_number() OVER "
               "(PARTITION BY device_id, ts, metric ORDER BY id) AS rn FROM readings) AS x WHERE rn > 1)")
    op.drop_index("ix_reading_device_ts", table_name="readings")
    op.create_index("ux_reading_device_ts_metric", "readings", ["device_id", "ts", "metric"], unique=True)


def downgrade() -> None:
    """Back to a plain (device, ts) index without the metric column."""
    op.drop_index("ux_reading_device_ts_metric", table_name="readings")
    op.create_index("ix_reading_device_ts", "readings", ["device_id", "ts"])
    with op.batch_alter_table("readings") as batch:
        batch.drop_column("metric")
