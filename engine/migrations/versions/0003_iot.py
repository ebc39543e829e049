"""IoT: devices, readings, dead letters, alerts and their history

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 01:00:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from engine.models import UtcDateTime

revision: str = "0003"
down_revision: Union[str, Sequence[str], None] = "0002"
branch_labels: Union[str, Sequence[str], None] = ("iot",)
depends_on: Union[str, Sequence[str], None] = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    """Create the IoT tables."""
    op.create_table(
        "devices",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("metric", sa.String(32), nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("area", sa.String(64), nullable=False),
        sa.Column("equipment", sa.String(200), nullable=True),
        sa.Column("gas", sa.String(64), nullable=True),
        sa.Column("lel_vol", sa.Float(), nullable=True),
        sa.Column("high1", sa.Float(), nullable=True),
        sa.Column("high2", sa.Float(), nullable=True),
        sa.Column("low1", sa.Float(), nullable=True),
        sa.Column("low2", sa.Float(), nullable=True),
        sa.Column("range_min", sa.Float(), nullable=False),
        sa.Column("range_max", sa.Float(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("last_seen_at", UtcDateTime(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_device_area_type", "devices", ["area", "type"])
    op.create_table(
        "readings",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("ts", UtcDateTime(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("quality", sa.String(12), nullable=False),
    )
    op.create_index("ix_reading_device_ts", "readings", ["device_id", "ts"])
    op.create_table(
        "dead_letters",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("topic", sa.String(500), nullable=True),
        sa.Column("device_id", sa.String(64), nullable=True),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
    )
    op.create_index("ix_dead_letter_received", "dead_letters", ["received_at"])
    op.create_index("ix_dead_letter_reason", "dead_letters", ["reason"])
    op.create_table(
        "alerts",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("open_key", sa.String(200), nullable=True, unique=True),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("device_id", sa.String(64), nullable=True),
        sa.Column("area", sa.String(64), nullable=False),
        sa.Column("grade", sa.String(8), nullable=False),
        sa.Column("level", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("peak_value", sa.Float(), nullable=True),
        sa.Column("unit", sa.String(16), nullable=True),
        sa.Column("owner_department", sa.String(64), nullable=True),
        sa.Column("opened_at", UtcDateTime(), nullable=False),
        sa.Column("last_seen_at", UtcDateTime(), nullable=False),
        sa.Column("deadline_at", UtcDateTime(), nullable=True),
        sa.Column("escalations", sa.Integer(), nullable=False),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column("process_status", sa.String(32), nullable=True),
        sa.Column("process_instance_id", BIG_ID, nullable=True),
        sa.Column("acknowledged_at", UtcDateTime(), nullable=True),
        sa.Column("acknowledged_by", sa.String(100), nullable=True),
        sa.Column("closed_at", UtcDateTime(), nullable=True),
        sa.Column("closed_by", sa.String(100), nullable=True),
        sa.Column("disposal", JSON, nullable=True),
        sa.Column("details", JSON, nullable=False),
    )
    op.create_index("ix_alert_status_grade", "alerts", ["status", "grade", "opened_at"])
    op.create_index("ix_alert_area", "alerts", ["area", "opened_at"])
    op.create_table(
        "alert_events",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("alert_id", BIG_ID, sa.ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("data", JSON, nullable=False),
    )
    op.create_index("ix_alert_event_alert", "alert_events", ["alert_id", "id"])


def downgrade() -> None:
    """Drop the IoT tables."""
    op.drop_table("alert_events")
    op.drop_table("alerts")
    op.drop_table("dead_letters")
    op.drop_table("readings")
    op.drop_table("devices")
