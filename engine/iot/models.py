"""Tables of plant sensing: devices, their readings, rejected telemetry, alerts.

Readings have no foreign key to devices on purpose: the time-series table is
written in large batches and kept after a device is decommissioned.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base, BigId, JsonType, UtcDateTime, utcnow


class Device(Base):
    """A field instrument: gas detector, transmitter, load meter or video analytics channel."""

    __tablename__ = "devices"
    __table_args__ = (Index("ix_device_area_type", "area", "type"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    type: Mapped[str] = mapped_column(String(32))
    # the metric segment of the MQTT topic this device publishes (gas, o2, h2s, current, event...)
    metric: Mapped[str] = mapped_column(String(32))
    unit: Mapped[str] = mapped_column(String(16))
    area: Mapped[str] = mapped_column(String(64))
    equipment: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # gas of a combustible detector and its lower explosive limit in % by volume
    gas: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lel_vol: Mapped[float | None] = mapped_column(Float, nullable=True)
    # alarm set-points: high level 1/2 (rising alarms) and low level 1/2 (oxygen deficiency)
    high1: Mapped[float | None] = mapped_column(Float, nullable=True)
    high2: Mapped[float | None] = mapped_column(Float, nullable=True)
    low1: Mapped[float | None] = mapped_column(Float, nullable=True)
    low2: Mapped[float | None] = mapped_column(Float, nullable=True)
    # measuring range; a value outside it is physically impossible for the instrument
    range_min: Mapped[float] = mapped_column(Float)
    range_max: Mapped[float] = mapped_column(Float)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Reading(Base):
    """One measured value (time-series; written in batches).

    (device, ts, metric) is the reading's identity: a redelivered copy (QoS 1 after a
    reconnect, a gateway retrying its POST) hits the unique index and is counted as a
    duplicate instead of being stored twice. The metric is part of it because a video
    channel reports several events at the same instant.
    """

    __tablename__ = "readings"
    __table_args__ = (Index("ux_reading_device_ts_metric", "device_id", "ts", "metric", unique=True),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    device_id: Mapped[str] = mapped_column(String(64))
    ts: Mapped[datetime] = mapped_column(UtcDateTime())
    # the topic's metric segment (the device's metric; the event name of a video channel)
    metric: Mapped[str] = mapped_column(String(64), default="", server_default="")
    value: Mapped[float] = mapped_column(Float)
    # good | uncertain | bad (OPC UA style status from the gateway)
    quality: Mapped[str] = mapped_column(String(12), default="good")


class DeadLetter(Base):
    """Telemetry that could not be stored as a reading, kept with the reason."""

    __tablename__ = "dead_letters"
    __table_args__ = (Index("ix_dead_letter_received", "received_at"), Index("ix_dead_letter_reason", "reason"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    source: Mapped[str] = mapped_column(String(16))  # mqtt | http
    topic: Mapped[str | None] = mapped_column(String(500), nullable=True)
    device_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # malformed | unknown_device | out_of_range | ...
    reason: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[str] = mapped_column(Text, default="")


class Alert(Base):
    """A graded alert (四色预警). One open alert per (device, rule): it escalates, never floods."""

    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alert_status_grade", "status", "grade", "opened_at"),
        Index("ix_alert_area", "area", "opened_at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # "<device>|<rule>" (or "area:<area>|<rule>") while open, NULL once closed: unique open alert
    open_key: Mapped[str | None] = mapped_column(String(200), unique=True, nullable=True)
    rule: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    device_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    area: Mapped[str] = mapped_column(String(64))
    grade: Mapped[str] = mapped_column(String(8))  # blue | yellow | orange | red
    level: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | acknowledged | closed
    title: Mapped[str] = mapped_column(String(300))
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    peak_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    unit: Mapped[str | None] = mapped_column(String(16), nullable=True)
    owner_department: Mapped[str | None] = mapped_column(String(64), nullable=True)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    deadline_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    escalations: Mapped[int] = mapped_column(Integer, default=0)
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    # what happened when the alert_response process was asked to start
    process_status: Mapped[str | None] = mapped_column(String(32), nullable=True)
    process_instance_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    disposal: Mapped[dict | None] = mapped_column(JsonType, nullable=True)
    details: Mapped[dict] = mapped_column(JsonType, default=dict)


class AlertEvent(Base):
    """The history of an alert: opened, escalated, messages delivered, acknowledged, closed."""

    __tablename__ = "alert_events"
    __table_args__ = (Index("ix_alert_event_alert", "alert_id", "id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict] = mapped_column(JsonType, default=dict)
