"""Tamper-evident audit chains.

Every state change appends ``{seq, at, actor, kind, instance_id, task_id,
data_digest, chain, chain_seq, prev_hash}`` with ``hash = sha256(prev_hash +
canonical JSON)`` in the same transaction as the change. Each instance has its
own chain whose tip lives on the instance row, updated by the same optimistic
UPDATE that saves the state: appending takes no lock beyond the one the change
already holds, so writers to different instances never queue on the audit.
Events outside any instance (deployments) form the ``global`` chain, whose tip
is the single ``audit_head`` row. ``seq`` orders all events (a sequence);
``chain_seq`` numbers each chain without gaps, so a removed event is detected.
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


def _link_hash(prev_hash: str, at: datetime, actor: str, kind: str, instance_id, task_id,
               data_digest: str, chain: str, chain_seq: int) -> str:
    body = {
        "at": at.isoformat(), "actor": actor, "kind": kind, "instance_id": instance_id, "task_id": task_id,
        "data_digest": data_digest, "chain": chain, "chain_seq": chain_seq,
    }
    return hashlib.sha256((prev_hash + canonical_json(body)).encode("utf-8")).hexdigest()


def chain_of(instance_id) -> str:
    """Name of the chain an event of ``instance_id`` belongs to."""
    return f"i:{instance_id}" if instance_id is not None else "global"


def prepare(instance, *, actor: str, kind: str, task_id: str | None = None, data: dict | None = None) -> dict:
    """Link an event into ``instance``'s chain without writing it (see :func:`insert_event`).

    Sets the instance's chain tip, so the caller's UPDATE of the instance row
    (which checks its version) must be the write that makes the event valid.
    """
    data = data or {}
    at = utcnow()
    data_digest = digest(data)
    chain = chain_of(instance.id)
    chain_seq = (instance.audit_seq or 0) + 1
    prev_hash = instance.audit_hash or GENESIS_HASH
    h = _link_hash(prev_hash, at, actor, kind, instance.id, task_id, data_digest, chain, chain_seq)
    instance.audit_seq, instance.audit_hash = chain_seq, h
    return {"at": at, "actor": actor, "kind": kind, "instance_id": instance.id, "task_id": task_id,
            "data": data, "data_digest": data_digest, "chain": chain, "chain_seq": chain_seq,
            "prev_hash": prev_hash, "hash": h}


def insert_event(session: Session, event: dict) -> dict:
    """Write a prepared event; returns it with its global ``seq``."""
    event["seq"] = session.execute(insert(AuditEvent).values(**event).returning(AuditEvent.seq)).scalar_one()
    return event


def append(session: Session, *, actor: str, kind: str, instance=None, instance_id: int | None = None,
           task_id: str | None = None, data: dict | None = None) -> dict:
    """Append one event inside the caller's transaction; returns the event.

    With ``instance`` (or ``instance_id``) the event joins that instance's chain
    and the instance row's tip columns are updated (saved by the caller's
    optimistic UPDATE); otherwise it joins the global chain under its row lock.
    """
    from engine.models import ProcessInstance

    data = data or {}
    if instance is None and instance_id is not None:
        instance = session.get(ProcessInstance, instance_id)
    if instance is not None:
        return insert_event(session, prepare(instance, actor=actor, kind=kind, task_id=task_id, data=data))
    at = utcnow()
    data_digest = digest(data)
    chain = "global"
    chain_seq, prev_hash = session.execute(
        update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq + 1)
        .returning(AuditHead.seq, AuditHead.hash)
    ).one()
    h = _link_hash(prev_hash, at, actor, kind, None, task_id, data_digest, chain, chain_seq)
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(hash=h))
    event = {"at": at, "actor": actor, "kind": kind, "instance_id": instance_id, "task_id": task_id,
             "data": data, "data_digest": data_digest, "chain": chain, "chain_seq": chain_seq,
             "prev_hash": prev_hash, "hash": h}
    event["seq"] = session.execute(insert(AuditEvent).values(**event).returning(AuditEvent.seq)).scalar_one()
    return event


@dataclass
class VerifyResult:
    """Outcome of walking the chain: ``ok`` or the first broken link."""

    ok: bool
    checked: int
    broken_seq: int | None = None
    reason: str | None = None


def verify(session: Session, batch: int = 5000) -> VerifyResult:
    """Walk every chain in ``seq`` order and report the first broken link, if any."""
    from engine.models import ProcessInstance

    tips: dict[str, tuple[str, int]] = {}
    checked = 0
    last = 0
    while True:
        rows = session.execute(
            select(AuditEvent).where(AuditEvent.seq > last).order_by(AuditEvent.seq).limit(batch)
        ).scalars().all()
        if not rows:
            break
        for ev in rows:
            prev, prev_seq = tips.get(ev.chain, (GENESIS_HASH, 0))
            if ev.chain != chain_of(ev.instance_id):
                return VerifyResult(False, checked, ev.seq, f"event is in chain {ev.chain} but names "
                                                            f"instance {ev.instance_id}")
            if ev.chain_seq != prev_seq + 1:
                return VerifyResult(False, checked, ev.seq, f"{ev.chain} event {prev_seq + 1} is missing")
            if ev.prev_hash != prev:
                return VerifyResult(False, checked, ev.seq, "prev_hash does not match the chain's previous event")
            if digest(ev.data or {}) != ev.data_digest:
                return VerifyResult(False, checked, ev.seq, "data does not match data_digest")
            h = _link_hash(ev.prev_hash, ev.at, ev.actor, ev.kind, ev.instance_id, ev.task_id, ev.data_digest,
                           ev.chain, ev.chain_seq)
            if h != ev.hash:
                return VerifyResult(False, checked, ev.seq, "hash does not match the event's content")
            tips[ev.chain] = (ev.hash, ev.chain_seq)
            checked += 1
            last = ev.seq
        session.expunge_all()
    head = session.get(AuditHead, 1)
    g_hash, g_seq = tips.get("global", (GENESIS_HASH, 0))
    if head is not None and (head.seq != g_seq or head.hash != g_hash):
        return VerifyResult(False, checked, None, "global chain head does not match its last event (events removed)")
    for iid, a_hash, a_seq in session.execute(select(ProcessInstance.id, ProcessInstance.audit_hash,
                                                     ProcessInstance.audit_seq)):
        t_hash, t_seq = tips.get(chain_of(iid), (GENESIS_HASH, 0))
        if (a_seq or 0) != t_seq or (a_hash or GENESIS_HASH) != t_hash:
            return VerifyResult(False, checked, None,
                                f"instance {iid}'s chain tip does not match its last event (events removed)")
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
