"""Data hub tables: production data and supervision data side by side.

Every record has a natural key (``code`` or ``ref``, or a composite unique
constraint) so imports and syncs are idempotent: writing the same record again
updates it instead of adding a copy. Indexes follow the analyses' access paths
(time ranges, per equipment over time, per area over time).
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base, BigId, JsonType, UtcDateTime, utcnow


class _Stamp:
    source: Mapped[str] = mapped_column(String(32), default="import")
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)


# --------------------------------------------------------------------------- production data

class Equipment(_Stamp, Base):
    __tablename__ = "hub_equipment"
    __table_args__ = (Index("ix_hub_equipment_area", "area"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    area: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(64), default="")
    rated_load: Mapped[float | None] = mapped_column(Float, nullable=True)
    rated_unit: Mapped[str | None] = mapped_column(String(32), nullable=True)
    department: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str | None] = mapped_column(String(32), nullable=True)


class EquipmentRun(_Stamp, Base):
    """One running record of one piece of equipment (a shift or a day)."""

    __tablename__ = "hub_equipment_runs"
    __table_args__ = (UniqueConstraint("equipment_code", "started_at", name="uq_hub_run_equipment_start"),
                      Index("ix_hub_run_started", "started_at"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    equipment_code: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    hours: Mapped[float] = mapped_column(Float)
    load_pct: Mapped[float] = mapped_column(Float)
    faults: Mapped[int] = mapped_column(Integer, default=0)
    maintenance: Mapped[bool] = mapped_column(Boolean, default=False)


class WorkRecord(_Stamp, Base):
    """Work done: an MES work order or production shift, or a work permit."""

    __tablename__ = "hub_work_records"
    __table_args__ = (Index("ix_hub_work_started", "started_at"),
                      Index("ix_hub_work_source_started", "source", "started_at"),
                      Index("ix_hub_work_area_started", "area", "started_at"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ref: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(64))
    grade: Mapped[str | None] = mapped_column(String(32), nullable=True)
    area: Mapped[str] = mapped_column(String(64))
    department: Mapped[str | None] = mapped_column(String(64), nullable=True)
    team: Mapped[str | None] = mapped_column(String(64), nullable=True)
    post: Mapped[str | None] = mapped_column(String(64), nullable=True)
    person_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # the contractor whose people did the work (None: the plant's own staff); code of a Contractor
    contractor: Mapped[str | None] = mapped_column(String(64), nullable=True)
    equipment_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    workers: Mapped[int] = mapped_column(Integer, default=1)
    hours: Mapped[float] = mapped_column(Float, default=0.0)  # person-hours worked
    planned_output: Mapped[float | None] = mapped_column(Float, nullable=True)
    actual_output: Mapped[float | None] = mapped_column(Float, nullable=True)
    applied_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    suspensions: Mapped[int] = mapped_column(Integer, default=0)
    suspension_causes: Mapped[list] = mapped_column(JsonType, default=list)
    status: Mapped[str | None] = mapped_column(String(32), nullable=True)


class MaterialFlow(_Stamp, Base):
    __tablename__ = "hub_material_flows"
    __table_args__ = (Index("ix_hub_material_at", "at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ref: Mapped[str] = mapped_column(String(120), unique=True)
    material: Mapped[str] = mapped_column(String(200))
    hazardous: Mapped[bool] = mapped_column(Boolean, default=False)
    flow: Mapped[str] = mapped_column(String(16))  # storage | transport | use
    quantity: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(16))
    area: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class Person(_Stamp, Base):
    __tablename__ = "hub_people"
    __table_args__ = (Index("ix_hub_people_department", "department"), Index("ix_hub_people_username", "username"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    username: Mapped[str | None] = mapped_column(String(100), nullable=True)
    department: Mapped[str] = mapped_column(String(64))
    post: Mapped[str] = mapped_column(String(64))
    team: Mapped[str | None] = mapped_column(String(64), nullable=True)
    qualifications: Mapped[list] = mapped_column(JsonType, default=list)


class Contractor(_Stamp, Base):
    """A contractor working in the plant and the department that manages it (findings go there)."""

    __tablename__ = "hub_contractors"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    managing_department: Mapped[str] = mapped_column(String(64))


class Training(_Stamp, Base):
    __tablename__ = "hub_trainings"
    __table_args__ = (UniqueConstraint("person_code", "course", "completed_on", name="uq_hub_training"),
                      Index("ix_hub_training_expiry", "expires_on"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    person_code: Mapped[str] = mapped_column(String(64))
    course: Mapped[str] = mapped_column(String(200))
    completed_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date, nullable=True)


# --------------------------------------------------------------------------- supervision data

class RiskPoint(_Stamp, Base):
    __tablename__ = "hub_risk_points"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    area: Mapped[str] = mapped_column(String(64))
    grade: Mapped[str] = mapped_column(String(16))  # major | significant | general | low
    equipment_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    department: Mapped[str | None] = mapped_column(String(64), nullable=True)


class Hazard(_Stamp, Base):
    __tablename__ = "hub_hazards"
    __table_args__ = (Index("ix_hub_hazard_found", "found_at"),
                      Index("ix_hub_hazard_equipment", "equipment_code", "found_at"),
                      Index("ix_hub_hazard_deadline", "department", "deadline"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ref: Mapped[str] = mapped_column(String(120), unique=True)
    found_at: Mapped[datetime] = mapped_column(UtcDateTime())
    area: Mapped[str] = mapped_column(String(64))
    equipment_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    level: Mapped[str] = mapped_column(String(16), default="general")  # general | major
    department: Mapped[str | None] = mapped_column(String(64), nullable=True)
    contractor: Mapped[str | None] = mapped_column(String(64), nullable=True)  # found in a contractor's work
    description: Mapped[str] = mapped_column(Text, default="")
    deadline: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    reported_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    rectified_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    instance_id: Mapped[int | None] = mapped_column(BigId, nullable=True)


class Inspection(_Stamp, Base):
    __tablename__ = "hub_inspections"
    __table_args__ = (Index("ix_hub_inspection_at", "at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ref: Mapped[str] = mapped_column(String(120), unique=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    area: Mapped[str] = mapped_column(String(64))
    department: Mapped[str | None] = mapped_column(String(64), nullable=True)
    inspector: Mapped[str | None] = mapped_column(String(100), nullable=True)
    kind: Mapped[str] = mapped_column(String(32), default="supervision_check")
    found_issue: Mapped[bool] = mapped_column(Boolean, default=False)
    findings: Mapped[list] = mapped_column(JsonType, default=list)
    instance_id: Mapped[int | None] = mapped_column(BigId, nullable=True)


class Violation(_Stamp, Base):
    __tablename__ = "hub_violations"
    __table_args__ = (Index("ix_hub_violation_at", "at"), Index("ix_hub_violation_area_at", "area", "at"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ref: Mapped[str] = mapped_column(String(120), unique=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    person_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    post: Mapped[str | None] = mapped_column(String(64), nullable=True)
    team: Mapped[str | None] = mapped_column(String(64), nullable=True)
    area: Mapped[str] = mapped_column(String(64))
    department: Mapped[str | None] = mapped_column(String(64), nullable=True)
    contractor: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the violator's contractor
    kind: Mapped[str] = mapped_column(String(64), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    instance_id: Mapped[int | None] = mapped_column(BigId, nullable=True)


class Alert(_Stamp, Base):
    __tablename__ = "hub_alerts"
    __table_args__ = (Index("ix_hub_alert_raised", "raised_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ref: Mapped[str] = mapped_column(String(120), unique=True)
    raised_at: Mapped[datetime] = mapped_column(UtcDateTime())
    area: Mapped[str] = mapped_column(String(64))
    grade: Mapped[str] = mapped_column(String(16))  # red | orange | yellow | blue
    kind: Mapped[str | None] = mapped_column(String(64), nullable=True)
    owner_department: Mapped[str | None] = mapped_column(String(64), nullable=True)
    handled_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # when handling had to start (the grade's deadline); the assessment scores handled_at ≤ deadline_at
    deadline_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    disposal: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="open")


class ProductionStop(_Stamp, Base):
    """A production interruption and its cause (safety stop, equipment, material …)."""

    __tablename__ = "hub_stops"
    __table_args__ = (Index("ix_hub_stop_started", "started_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ref: Mapped[str] = mapped_column(String(120), unique=True)
    area: Mapped[str] = mapped_column(String(64))
    department: Mapped[str | None] = mapped_column(String(64), nullable=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    cause_kind: Mapped[str] = mapped_column(String(16))  # safety | equipment | material | planned | other
    cause: Mapped[str] = mapped_column(Text, default="")
    instance_id: Mapped[int | None] = mapped_column(BigId, nullable=True)


class Escalation(_Stamp, Base):
    """One level of a three-level escalation (三级督办) received by a department."""

    __tablename__ = "hub_escalations"
    __table_args__ = (Index("ix_hub_escalation_received", "received_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ref: Mapped[str] = mapped_column(String(120), unique=True)
    level: Mapped[int] = mapped_column(Integer)
    department: Mapped[str | None] = mapped_column(String(64), nullable=True)
    duty_type: Mapped[str | None] = mapped_column(String(64), nullable=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    instance_id: Mapped[int | None] = mapped_column(BigId, nullable=True)


class HubRecord(Base):
    """Free-form records of the ``hub`` connector (kinds the typed tables do not cover)."""

    __tablename__ = "hub_records"
    __table_args__ = (UniqueConstraint("kind", "key", name="uq_hub_records_kind_key"),
                      Index("ix_hub_records_kind", "kind"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(200))
    data: Mapped[dict] = mapped_column(JSON)  # same type as connectors.hub.HUB_RECORDS
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


# --------------------------------------------------------------------------- what the analyses push

class FocusItem(Base):
    """A supervision focus item: something the next supervision plans should look at."""

    __tablename__ = "hub_focus_items"
    __table_args__ = (UniqueConstraint("analysis", "period", "target_kind", "target", name="uq_hub_focus"),
                      Index("ix_hub_focus_status_area", "status", "area"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    analysis: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(7))
    run_id: Mapped[int] = mapped_column(ForeignKey("analysis_runs.id", ondelete="CASCADE"))
    target_kind: Mapped[str] = mapped_column(String(16))  # equipment | area | team | post
    target: Mapped[str] = mapped_column(String(64))
    area: Mapped[str | None] = mapped_column(String(64), nullable=True)
    department: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict] = mapped_column(JsonType, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Recommendation(Base):
    """A recommendation pushed to production (reduce load, adjust schedule, training)."""

    __tablename__ = "hub_recommendations"
    __table_args__ = (UniqueConstraint("analysis", "period", "kind", "target", name="uq_hub_recommendation"),
                      Index("ix_hub_recommendation_dept", "department", "status"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    analysis: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(7))
    run_id: Mapped[int] = mapped_column(ForeignKey("analysis_runs.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))  # reduce_load | training
    target_kind: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(64))
    department: Mapped[str | None] = mapped_column(String(64), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict] = mapped_column(JsonType, default=dict)
    instance_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class AnalysisRun(Base):
    """One stored run of a fusion analysis: parameters, input digest and result."""

    __tablename__ = "analysis_runs"
    __table_args__ = (Index("ix_analysis_run_lookup", "analysis", "period", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    analysis: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(7))
    params: Mapped[dict] = mapped_column(JsonType, default=dict)
    input_digest: Mapped[str] = mapped_column(String(64))
    result: Mapped[dict] = mapped_column(JsonType, default=dict)
    result_digest: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    run_by: Mapped[str] = mapped_column(String(100), default="system")
