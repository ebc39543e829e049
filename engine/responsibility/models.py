"""Responsibility lists (责任清单) as versioned data."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base, JsonType, UtcDateTime, utcnow


class DutyList(Base):
    """One version of the duties of a post (role), plant-wide or for one department."""

    __tablename__ = "duty_lists"
    __table_args__ = (UniqueConstraint("role", "scope", "version", name="uq_duty_list_version"),
                      Index("ix_duty_list_current", "role", "scope", "version"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    role: Mapped[str] = mapped_column(String(64))
    # "*" for the plant-wide list, else a department code whose list overrides it.
    scope: Mapped[str] = mapped_column(String(64), default="*")
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))


class Duty(Base):
    """One duty of a list, with the task patterns that fulfil it."""

    __tablename__ = "duties"
    __table_args__ = (UniqueConstraint("list_id", "code", name="uq_duty_code"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("duty_lists.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # [{"process_key": "hazard_rectification" | "*", "bpmn_id": "rectify" | "*"}]
    tasks: Mapped[list] = mapped_column(JsonType, default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)
