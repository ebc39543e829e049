"""Tamper-evident audit chain.

Every state change appends ``{seq, at, actor, kind, instance_id, task_id,
data_digest}`` with ``hash = sha256(prev_hash + canonical JSON)`` in the same
transaction as the change. The single ``audit_head`` row is updated on each
append; its row lock (PostgreSQL) or the write lock (SQLite) keeps the chain
linear under concurrent writers.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from engine.models import AuditEvent, AuditHead, utcnow

GENESIS_HASH = "0" * 64


def canonical_json(obj) -> str:
    """Deterministic JSON used for hashing (sorted keys, no whitespace)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def digest(obj) -> str:
    """sha256 hex digest of the canonical JSON of ``obj``."""
    return hashlib.sha256(canonical_json(obj).encode("utf-8")).hexdigest()


def _link_hash(prev_hash: str, seq: int, at: datetime, actor: str, kind: str,
               instance_id, task_id, data_digest: str) -> str:
    body = {
        "seq": seq, "at": at.isoformat(), "actor": actor, "kind": kind,
        "instance_id": instance_id, "task_id": task_id, "data_digest": data_digest,
    }
    return hashlib.sha256((prev_hash + canonical_json(body)).encode("utf-8")).hexdigest()


def append(session: Session, *, actor: str, kind: str, instance_id: int | None = None,
           task_id: str | None = None, data: dict | None = None) -> dict:
    """Append one event to the chain inside the caller's transaction; returns the event.

    Call it as the last write of a transaction: the first statement takes the
    chain head's row lock, which is held until commit.
    """
    data = data or {}
    seq, prev_hash = session.execute(
        update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq + 1)
        .returning(AuditHead.seq, AuditHead.hash)
    ).one()
    at = utcnow()
    data_digest = digest(data)
    h = _link_hash(prev_hash, seq, at, actor, kind, instance_id, task_id, data_digest)
    event = {"seq": seq, "at": at, "actor": actor, "kind": kind, "instance_id": instance_id, "task_id": task_id,
             "data": data, "data_digest": data_digest, "prev_hash": prev_hash, "hash": h}
    session.execute(insert(AuditEvent).values(**event))
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(hash=h))
    return event


@dataclass
class VerifyResult:
    """Outcome of walking the chain: ``ok`` or the first broken link."""

    ok: bool
    checked: int
    broken_seq: int | None = None
    reason: str | None = None


def verify(session: Session, batch: int = 5000) -> VerifyResult:
    """Walk the whole chain and report the first broken link, if any."""
    prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    last = 0
    while True:
        rows = session.execute(
            select(AuditEvent).where(AuditEvent.seq > last).order_by(AuditEvent.seq).limit(batch)
        ).scalars().all()
        if not rows:
            break
        for ev in rows:
            if ev.seq != expected_seq:
                return VerifyResult(False, checked, expected_seq, f"event {expected_seq} is missing")
            if ev.prev_hash != prev:
                return VerifyResult(False, checked, ev.seq, "prev_hash does not match the previous event's hash")
            if digest(ev.data or {}) != ev.data_digest:
                return VerifyResult(False, checked, ev.seq, "data does not match data_digest")
            h = _link_hash(ev.prev_hash, ev.seq, ev.at, ev.actor, ev.kind, ev.instance_id,
                           ev.task_id, ev.data_digest)
            if h != ev.hash:
                return VerifyResult(False, checked, ev.seq, "hash does not match the event's content")
            prev = ev.hash
            expected_seq += 1
            checked += 1
            last = ev.seq
        session.expunge_all()
    head = session.get(AuditHead, 1)
    if head is not None and (head.seq != last or head.hash != prev):
        return VerifyResult(False, checked, last + 1, "chain head does not match the last event (events removed)")
    return VerifyResult(True, checked)


class AuditService:
    """Read access to the chain for the API and the CLI."""

    def __init__(self, db):
        self.db = db

    def list(self, *, instance_id: int | None = None, kind: str | None = None,
             page: int = 1, page_size: int = 50) -> dict:
        """Events in chain order, optionally of one instance or kind."""
        from sqlalchemy import func

        conds = []
        if instance_id is not None:
            conds.append(AuditEvent.instance_id == instance_id)
        if kind:
            conds.append(AuditEvent.kind == kind)
        with self.db.session(write=False) as s:
            total = s.scalar(select(func.count()).select_from(AuditEvent).where(*conds))
            rows = s.scalars(select(AuditEvent).where(*conds).order_by(AuditEvent.seq)
                             .offset((page - 1) * page_size).limit(page_size)).all()
            items = [{"seq": e.seq, "at": e.at.isoformat(), "actor": e.actor, "kind": e.kind,
                      "instance_id": e.instance_id, "task_id": e.task_id, "data_digest": e.data_digest,
                      "prev_hash": e.prev_hash, "hash": e.hash, "data": e.data} for e in rows]
        return {"items": items, "total": total, "page": page, "page_size": page_size}

    def verify(self) -> VerifyResult:
        """Walk the chain (see :func:`verify`)."""
        with self.db.session(write=False) as s:
            return verify(s)
