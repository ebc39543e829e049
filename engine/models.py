"""Persistence model: one table per concept the engine or the plant knows.

The serialized SpiffWorkflow state lives in the instance row; user/manual
tasks are denormalised into ``tasks`` so lists and counts never deserialize a
workflow (DESIGN.md, "the life of one task completion").
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

class UtcDateTime(TypeDecorator):
    """Aware UTC datetimes on every backend (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(timezone.utc)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


JsonType = JSON().with_variant(JSONB(), "postgresql")
# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL gets BIGINT.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    """Timezone-aware now; all stored times are UTC."""
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class Department(Base):
    __tablename__ = "departments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32), default="production")


class Area(Base):
    __tablename__ = "areas"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    department: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # fire_explosion | major_hazard_tank_farm | pipe_rack | general
    classification: Mapped[str] = mapped_column(String(64), default="general")


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    department: Mapped[str | None] = mapped_column(String(64), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # Tokens carry the epoch they were issued under; a password reset or deactivation bumps it.
    token_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class UserRole(Base):
    __tablename__ = "user_roles"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(64), primary_key=True)


class Deployment(Base):
    __tablename__ = "deployments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deployed_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    deployed_by: Mapped[str] = mapped_column(String(100))
    # [{name, sha256, size}]
    files: Mapped[list] = mapped_column(JsonType, default=list)


class ProcessDefinition(Base):
    __tablename__ = "process_definitions"
    __table_args__ = (
        UniqueConstraint("key", "version", name="uq_definition_key_version"),
        Index("ix_definition_key_hash", "key", "content_hash"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(300), default="")
    content_hash: Mapped[str] = mapped_column(String(64))
    # {"bpmn": {file: xml}, "dmn": {file: xml}, "forms": {file: schema}}: all a
    # version needs, so an instance is pinned to its forms and tables.
    bundle: Mapped[dict] = mapped_column(JsonType)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id"))
    deployed_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    deployed_by: Mapped[str] = mapped_column(String(100))


class ProcessInstance(Base):
    __tablename__ = "process_instances"
    __table_args__ = (
        # NULL for finished instances, so only running ones must be unique.
        UniqueConstraint("process_key", "active_business_key", name="uq_instance_running_business_key"),
        Index("ix_instance_key_status", "process_key", "status"),
        Index("ix_instance_started", "started_at"),
        Index("ix_instance_next_timer", "next_timer_at"),
        Index("ix_instance_business_key", "business_key"),
        # The permit register's status filter (engine/permits.py); other instances stay out of it.
        Index("ix_instance_register", "process_key", "register_status",
              postgresql_where=text("register_status IS NOT NULL"), sqlite_where=text("register_status IS NOT NULL")),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definitions.id"))
    process_key: Mapped[str] = mapped_column(String(200))
    definition_version: Mapped[int] = mapped_column(Integer)
    business_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    active_business_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    department: Mapped[str | None] = mapped_column(String(64), nullable=True)
    area: Mapped[str | None] = mapped_column(String(64), nullable=True)
    state: Mapped[str] = mapped_column(Text)
    variables: Mapped[dict] = mapped_column(JsonType, default=dict)
    row_version: Mapped[int] = mapped_column(Integer, nullable=False)
    next_timer_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    started_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Tip of this instance's audit chain, written in the same UPDATE as the state.
    audit_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    audit_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    # Fingerprint of the message subscriptions last written, to skip rewriting them.
    subscriptions_fp: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # A permit's register row (engine/permits.py), written by the engine on every step; NULL otherwise.
    register_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    register: Mapped[dict | None] = mapped_column(JsonType, nullable=True)

    __mapper_args__ = {"version_id_col": row_version}


class TaskRecord(Base):
    """A user or manual task as people see it (denormalised from the workflow)."""

    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_task_assignee", "assignee", "state"),
        # Work queues read ready tasks only; partial indexes keep them small as history grows.
        Index("ix_task_ready_role", "candidate_role", "department", "created_at", "id",
              postgresql_where=text("state = 'ready'"), sqlite_where=text("state = 'ready'")),
        Index("ix_task_ready_assignee", "assignee", "created_at", "id",
              postgresql_where=text("state = 'ready'"), sqlite_where=text("state = 'ready'")),
        Index("ix_task_instance", "instance_id", "state"),
        # Due dates are asked about open work; a task leaving 'ready' is not re-indexed (migration 0010).
        Index("ix_task_due", "due_at", postgresql_where=text("state = 'ready'"), sqlite_where=text("state = 'ready'")),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id", ondelete="CASCADE"))
    bpmn_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300), default="")
    process_key: Mapped[str] = mapped_column(String(200))
    business_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    lane: Mapped[str | None] = mapped_column(String(200), nullable=True)
    candidate_role: Mapped[str | None] = mapped_column(String(64), nullable=True)
    department: Mapped[str | None] = mapped_column(String(64), nullable=True)
    area: Mapped[str | None] = mapped_column(String(64), nullable=True)
    assignee: Mapped[str | None] = mapped_column(String(100), nullable=True)
    state: Mapped[str] = mapped_column(String(16))
    form: Mapped[str | None] = mapped_column(String(300), nullable=True)
    ui_form: Mapped[str | None] = mapped_column(String(300), nullable=True)
    properties: Mapped[dict] = mapped_column(JsonType, default=dict)
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    priority: Mapped[int] = mapped_column(Integer, default=50)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    completed_by: Mapped[str | None] = mapped_column(String(100), nullable=True)


class AuditEvent(Base):
    """One link of the tamper-evident audit chain."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_instance", "instance_id", "seq"),
        Index("uq_audit_chain_seq", "chain", "chain_seq", unique=True),
        # Events from before audit keys (migration 0012), until resealed; new events never enter it.
        Index("ix_audit_unsealed", "seq", postgresql_where=text("key_id IS NULL"), sqlite_where=text("key_id IS NULL")),
    )
    # Global order (a sequence); links are per chain: "i:<instance id>" or "global".
    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chain: Mapped[str] = mapped_column(String(40), default="global")
    chain_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    actor: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(64))
    instance_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    task_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    data: Mapped[dict] = mapped_column(JsonType, default=dict)
    data_digest: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # Id of the HMAC key that sealed ``hash`` (engine/audit.py); NULL: plain sha256 before 0012.
    key_id: Mapped[str | None] = mapped_column(String(32), nullable=True)


class AuditHead(Base):
    """Tip of the global chain (events outside any instance: deployments…)."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigId, default=0)
    hash: Mapped[str] = mapped_column(String(64))


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incident_status", "status", "created_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id", ondelete="CASCADE"))
    task_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    kind: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[dict] = mapped_column(JsonType, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(100), nullable=True)


class MessageSubscription(Base):
    """An instance waiting for a message, indexed by each correlation value."""

    __tablename__ = "message_subscriptions"
    __table_args__ = (
        Index("ix_subscription_lookup", "message_name", "corr_key", "corr_value"),
        Index("ix_subscription_instance", "instance_id"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id", ondelete="CASCADE"))
    task_id: Mapped[str] = mapped_column(String(36))
    message_name: Mapped[str] = mapped_column(String(200))
    # ("*", "*") marks the subscription itself; other rows are correlation values.
    corr_key: Mapped[str] = mapped_column(String(100))
    corr_value: Mapped[str] = mapped_column(String(300))


class MessageStartEvent(Base):
    """A definition that starts on a message (message start event)."""

    __tablename__ = "message_start_events"
    __table_args__ = (Index("ix_message_start_name", "message_name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definitions.id", ondelete="CASCADE"))
    process_key: Mapped[str] = mapped_column(String(200))
    message_name: Mapped[str] = mapped_column(String(200))


class MessageDelivery(Base):
    """Result of a delivery with a client-chosen ``message_id`` (idempotency)."""

    __tablename__ = "message_deliveries"
    message_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    result: Mapped[dict | None] = mapped_column(JsonType, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class OutboxEntry(Base):
    """Work to do after a commit (service task, thrown message); relayed to a queue."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_pending", "done_at", "sent_at", "available_at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict] = mapped_column(JsonType, default=dict)
    # instance+task+attempt for service tasks: a job runs its effect at most once.
    dedupe_key: Mapped[str | None] = mapped_column(String(300), unique=True, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    available_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)


class TimerStart(Base):
    """When the next instance of a timer-started process is due (periodic inspections…)."""

    __tablename__ = "timer_starts"
    __table_args__ = (Index("ix_timer_start_due", "next_due_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_key: Mapped[str] = mapped_column(String(200), unique=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definitions.id", ondelete="CASCADE"))
    start_event_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # date | duration | cycle
    expression: Mapped[str] = mapped_column(String(300))
    next_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # -1 = forever; counts down for R<n>/… cycles
    remaining: Mapped[int] = mapped_column(Integer, default=1)
    interval_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    last_fired_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
