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

The link is keyed: ``hash = HMAC-SHA256(key, prev_hash + canonical JSON)`` with a
key kept outside the database (``ANJIAN_AUDIT_KEY``/``ANJIAN_AUDIT_KEYS`` or the
data folder; engine/config.py), and each event records the id of its key. Someone
who can write the database but not read the key can edit an event and recompute
a plain hash, but not the HMAC: :func:`verify` names that event. Keys rotate
through a keyring: new events are sealed with the current key, older ones verify
with theirs. Events written before keys existed (``key_id`` NULL) are resealed by
:func:`reseal` (``Platform.migrate()``, ``anjian audit reseal``) after their plain
hashes check out; :func:`verify` refuses any unsealed event, so downgrading an event
to a plain hash is detected too.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
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


class Keyring:
    """The HMAC keys of this process: every key installed (old events verify with
    theirs) and the current one new events are sealed with."""

    def __init__(self):
        self._keys: dict[str, bytes] = {}
        self._bases: dict[str, "hmac.HMAC"] = {}
        self.current_id: str | None = None
        self._lock = threading.Lock()

    def install(self, keys: dict[str, str], current_id: str, *, replace: bool = False) -> None:
        """Add ``keys`` ({id: key}) and seal from now on with ``current_id``.

        Keys are kept across installs (one process may hold several Platforms, as the
        tests do): a key someone had is never needed less. ``replace`` drops the others.
        """
        if current_id not in keys:
            raise ValueError(f"audit key id {current_id!r} is not among the keys given")
        with self._lock:
            if replace:
                self._keys, self._bases = {}, {}
            for key_id, key in keys.items():
                raw = key.encode("utf-8")
                if self._keys.get(key_id, raw) != raw:
                    raise ValueError(f"audit key id {key_id!r} is already in use for another key")
                self._keys[key_id] = raw
                # Keyed once; each link copies it (half the cost of a fresh HMAC on a short message).
                self._bases[key_id] = hmac.new(raw, digestmod=hashlib.sha256)
            self.current_id = current_id

    def snapshot(self) -> tuple[dict, str | None]:
        """The installed keys and current id (tests restore them)."""
        return {k: v.decode("utf-8") for k, v in self._keys.items()}, self.current_id

    def has(self, key_id: str | None) -> bool:
        return key_id in self._bases

    def seal(self, key_id: str, message: bytes) -> str:
        mac = self._bases[key_id].copy()
        mac.update(message)
        return mac.hexdigest()


KEYRING = Keyring()


def install_keys(keys: dict[str, str], current_id: str, *, replace: bool = False) -> None:
    """Install the audit keyring of this process (Platform does, from Settings)."""
    KEYRING.install(keys, current_id, replace=replace)


def _link_message(prev_hash: str, at: datetime, actor: str, kind: str, instance_id, task_id,
                  data_digest: str, chain: str, chain_seq: int) -> bytes:
    body = {
        "at": at.isoformat(), "actor": actor, "kind": kind, "instance_id": instance_id, "task_id": task_id,
        "data_digest": data_digest, "chain": chain, "chain_seq": chain_seq,
    }
    return (prev_hash + canonical_json(body)).encode("utf-8")


def plain_link_hash(*link) -> str:
    """The unkeyed sha256 link of events written before 0012 (anyone can compute it)."""
    return hashlib.sha256(_link_message(*link)).hexdigest()


def _current_key() -> str:
    key_id = KEYRING.current_id
    if key_id is None:
        raise RuntimeError("no audit key installed: build a Platform (engine/platform.py) first")
    return key_id


def _link_hash(*link, key_id: str) -> str:
    return KEYRING.seal(key_id, _link_message(*link))


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
    key_id = _current_key()
    h = _link_hash(prev_hash, at, actor, kind, instance.id, task_id, data_digest, chain, chain_seq, key_id=key_id)
    instance.audit_seq, instance.audit_hash = chain_seq, h
    return {"at": at, "actor": actor, "kind": kind, "instance_id": instance.id, "task_id": task_id,
            "data": data, "data_digest": data_digest, "chain": chain, "chain_seq": chain_seq,
            "prev_hash": prev_hash, "hash": h, "key_id": key_id}


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
    key_id = _current_key()
    h = _link_hash(prev_hash, at, actor, kind, None, task_id, data_digest, chain, chain_seq, key_id=key_id)
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(hash=h))
    event = {"at": at, "actor": actor, "kind": kind, "instance_id": instance_id, "task_id": task_id,
             "data": data, "data_digest": data_digest, "chain": chain, "chain_seq": chain_seq,
             "prev_hash": prev_hash, "hash": h, "key_id": key_id}
    event["seq"] = session.execute(insert(AuditEvent).values(**event).returning(AuditEvent.seq)).scalar_one()
    return event


@dataclass
class VerifyResult:
    """Outcome of walking the chain: ``ok`` or the first broken link."""

    ok: bool
    checked: int
    broken_seq: int | None = None
    reason: str | None = None


def _broken_link(ev, prev: str, prev_seq: int) -> str | None:
    """Why ``ev`` does not follow the event (``prev`` hash, ``prev_seq``) before it in its chain; None if it does."""
    if ev.chain != chain_of(ev.instance_id):
        return f"event is in chain {ev.chain} but names instance {ev.instance_id}"
    if ev.chain_seq != prev_seq + 1:
        return f"{ev.chain} event {prev_seq + 1} is missing"
    if ev.prev_hash != prev:
        return "prev_hash does not match the chain's previous event"
    if digest(ev.data or {}) != ev.data_digest:
        return "data does not match data_digest"
    if ev.key_id is None:
        return ("event is not sealed with an audit key (written before keys existed, or downgraded): "
                "run `anjian audit reseal` if it predates 0012")
    if not KEYRING.has(ev.key_id):
        return f"event is sealed with audit key '{ev.key_id}', which is not in the keyring (ANJIAN_AUDIT_KEYS)"
    h = _link_hash(ev.prev_hash, ev.at, ev.actor, ev.kind, ev.instance_id, ev.task_id, ev.data_digest,
                   ev.chain, ev.chain_seq, key_id=ev.key_id)
    if not hmac.compare_digest(h, ev.hash):
        return f"hash does not match the event's content under audit key '{ev.key_id}' (edited, or rehashed without the key)"
    return None


def verify_instance(session: Session, instance_id: int) -> VerifyResult:
    """Walk one instance's chain (``i:<id>``) and report its first broken link, if any.

    The same checks as :func:`verify` for the events of that chain, and the instance row's
    tip must be the chain's last event (events removed from its end are reported). Events of
    other instances are not read: what one instance's viewer learns is about that instance only.
    """
    from sqlalchemy import or_

    from engine.models import ProcessInstance

    chain = chain_of(instance_id)
    prev, prev_seq, checked = GENESIS_HASH, 0, 0
    # Its own chain in chain order, and any event that names the instance from another chain.
    rows = session.execute(select(AuditEvent).where(or_(AuditEvent.chain == chain, AuditEvent.instance_id == instance_id))
                           .order_by(AuditEvent.chain == chain, AuditEvent.chain_seq)).scalars().all()
    for ev in rows:
        if ev.chain != chain:
            return VerifyResult(False, checked, ev.seq, f"event is in chain {ev.chain} but names instance {ev.instance_id}")
        reason = _broken_link(ev, prev, prev_seq)
        if reason is not None:
            return VerifyResult(False, checked, ev.seq, reason)
        prev, prev_seq = ev.hash, ev.chain_seq
        checked += 1
    tip = session.execute(select(ProcessInstance.audit_hash, ProcessInstance.audit_seq)
                          .where(ProcessInstance.id == instance_id)).first()
    if tip is not None and ((tip.audit_seq or 0) != prev_seq or (tip.audit_hash or GENESIS_HASH) != prev):
        return VerifyResult(False, checked, None,
                            f"instance {instance_id}'s chain tip does not match its last event (events removed)")
    return VerifyResult(True, checked)


def verify(session: Session, batch: int = 5000, checkpoint: dict | None = None) -> VerifyResult:
    """Walk every chain in ``seq`` order and report the first broken link, if any.

    With a ``checkpoint`` (:func:`checkpoint`, kept outside the database) every chain
    it names must still hold the event it recorded as the tip: a chain cut back to an
    earlier event, or removed with its instance, is reported too.
    """
    from engine.models import ProcessInstance

    expected = _checkpoint_tips(checkpoint) if checkpoint is not None else {}
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
            reason = _broken_link(ev, prev, prev_seq)
            if reason is not None:
                return VerifyResult(False, checked, ev.seq, reason)
            want = expected.get(ev.chain)
            if want is not None and want[0] == ev.chain_seq:
                if not hmac.compare_digest(want[1], ev.hash):
                    return VerifyResult(False, checked, ev.seq, f"{ev.chain} event {ev.chain_seq} differs from the "
                                        f"checkpoint of {checkpoint['at']}")
                del expected[ev.chain]
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
    if expected:
        chain, (seq, _) = min(expected.items())
        return VerifyResult(False, checked, None, f"{chain} had {seq} events at the checkpoint of {checkpoint['at']} "
                            f"and now has {tips.get(chain, (None, 0))[1]} (events removed since)")
    return VerifyResult(True, checked)


def checkpoint(session: Session) -> dict:
    """The tip of every chain, signed with the current audit key, to keep outside the database.

    ``verify(..., checkpoint=...)`` then detects what the key alone cannot: the newest
    events of a chain removed with its tip moved back, or a chain removed altogether.
    """
    from engine.models import ProcessInstance

    key_id = _current_key()
    tips = {}
    head = session.get(AuditHead, 1)
    if head is not None and head.seq:
        tips["global"] = [head.seq, head.hash]
    for iid, a_hash, a_seq in session.execute(select(ProcessInstance.id, ProcessInstance.audit_hash,
                                                     ProcessInstance.audit_seq).where(ProcessInstance.audit_seq > 0)):
        tips[chain_of(iid)] = [a_seq, a_hash]
    body = {"version": 1, "at": utcnow().isoformat(), "key_id": key_id, "tips": tips}
    return {**body, "mac": KEYRING.seal(key_id, canonical_json(body).encode("utf-8"))}


def _checkpoint_tips(cp) -> dict[str, tuple[int, str]]:
    """The tips of a checkpoint whose signature checks out (ValueError otherwise)."""
    if not isinstance(cp, dict) or cp.get("version") != 1 or not isinstance(cp.get("tips"), dict):
        raise ValueError("not an audit checkpoint (version 1)")
    body = {k: cp.get(k) for k in ("version", "at", "key_id", "tips")}
    if not KEYRING.has(cp.get("key_id")):
        raise ValueError(f"checkpoint is signed with audit key {cp.get('key_id')!r}, which is not in the keyring")
    mac = KEYRING.seal(cp["key_id"], canonical_json(body).encode("utf-8"))
    if not isinstance(cp.get("mac"), str) or not hmac.compare_digest(mac, cp["mac"]):
        raise ValueError("checkpoint signature does not match its content (edited)")
    try:
        return {str(chain): (int(seq), str(h)) for chain, (seq, h) in cp["tips"].items()}
    except (TypeError, ValueError):
        raise ValueError("checkpoint tips must be {chain: [seq, hash]}") from None


@dataclass
class ResealResult:
    """Outcome of :func:`reseal`: chains and events resealed, chains refused (plain hash broken)."""

    chains: int = 0
    events: int = 0
    refused: list[dict] | None = None


def reseal(db) -> ResealResult:
    """Seal with the current key every chain that still holds events without a key id.

    Each such chain is walked in order; every link is first checked as it was written
    (plain sha256 for unkeyed events, its own key otherwise), then it and every later
    event are re-linked under the current key, and the chain's tip (instance row, or
    the global head) moves with them, all in one transaction per chain. A chain whose
    links do not check out is left as it is and reported (resealing would launder an
    edit). The instance's ``row_version`` moves on, so a step computed on the old tip
    loses with a 409 instead of linking to a hash that no longer exists.
    """
    from engine.models import ProcessInstance

    key_id = _current_key()
    result = ResealResult(refused=[])
    with db.session(write=False) as s:
        chains = [c for (c,) in s.execute(select(AuditEvent.chain).where(AuditEvent.key_id.is_(None)).distinct())]
    for chain in sorted(chains):
        with db.session() as s:
            if chain == "global":
                head = s.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one()
                tip = (head.hash, head.seq)
            else:
                iid = int(chain[2:])
                inst = s.execute(select(ProcessInstance.audit_hash, ProcessInstance.audit_seq)
                                 .where(ProcessInstance.id == iid)).one_or_none()
                tip = ((inst.audit_hash or GENESIS_HASH), inst.audit_seq or 0) if inst is not None else None
            events = s.scalars(select(AuditEvent).where(AuditEvent.chain == chain)
                               .order_by(AuditEvent.chain_seq)).all()
            problem = None
            old_prev, new_prev, changed = GENESIS_HASH, GENESIS_HASH, 0
            for i, ev in enumerate(events, start=1):
                link = (ev.at, ev.actor, ev.kind, ev.instance_id, ev.task_id, ev.data_digest, ev.chain, ev.chain_seq)
                if ev.chain_seq != i or ev.prev_hash != old_prev or digest(ev.data or {}) != ev.data_digest:
                    problem = {"chain": chain, "seq": ev.seq, "reason": "link or data does not match"}
                    break
                if ev.key_id is None:
                    as_written = plain_link_hash(ev.prev_hash, *link)
                elif KEYRING.has(ev.key_id):
                    as_written = _link_hash(ev.prev_hash, *link, key_id=ev.key_id)
                else:
                    as_written = None
                if as_written is None or not hmac.compare_digest(as_written, ev.hash):
                    problem = {"chain": chain, "seq": ev.seq, "reason": "hash does not match the event's content"}
                    break
                old_prev = ev.hash
                if ev.key_id is None or new_prev != ev.prev_hash:
                    ev.prev_hash, ev.hash, ev.key_id = new_prev, _link_hash(new_prev, *link, key_id=key_id), key_id
                    changed += 1
                new_prev = ev.hash
            if problem is None and tip is not None and tip != (old_prev, len(events)):
                problem = {"chain": chain, "seq": None, "reason": "chain tip does not match its last event"}
            if problem is not None:
                s.rollback()
                result.refused.append(problem)
                continue
            if chain == "global":
                head.hash = new_prev
            elif tip is not None:
                moved = s.execute(update(ProcessInstance.__table__)
                                  .where(ProcessInstance.id == iid, ProcessInstance.audit_hash == tip[0],
                                         ProcessInstance.audit_seq == tip[1])
                                  .values(audit_hash=new_prev, row_version=ProcessInstance.row_version + 1))
                if moved.rowcount != 1:  # the instance took a step meanwhile: try again later
                    s.rollback()
                    result.refused.append({"chain": chain, "seq": None, "reason": "instance changed meanwhile"})
                    continue
            result.chains += 1
            result.events += changed
    return result


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
                      "prev_hash": e.prev_hash, "hash": e.hash, "key_id": e.key_id, "data": e.data} for e in rows]
        return {"items": items, "total": total, "page": page, "page_size": page_size}

    def verify(self, checkpoint: dict | None = None) -> VerifyResult:
        """Walk the chain (see :func:`verify`), optionally against a signed checkpoint."""
        with self.db.session(write=False) as s:
            return verify(s, checkpoint=checkpoint)

    def verify_instance(self, instance_id: int) -> VerifyResult:
        """Walk one instance's chain (see :func:`verify_instance`)."""
        with self.db.session(write=False) as s:
            return verify_instance(s, instance_id)

    def checkpoint(self) -> dict:
        """Signed tips of every chain (see :func:`checkpoint`)."""
        with self.db.session(write=False) as s:
            return checkpoint(s)

    def reseal(self) -> ResealResult:
        """Seal events written before audit keys existed (see :func:`reseal`)."""
        import logging

        result = reseal(self.db)
        for refused in result.refused or ():
            logging.getLogger(__name__).warning("audit chain %s not resealed (event seq %s): %s", refused["chain"],
                                                refused["seq"], refused["reason"])
        return result

    def has_unsealed(self) -> bool:
        """True when some event has no key id (a database from before migration 0012)."""
        with self.db.session(write=False) as s:  # served by the partial index ix_audit_unsealed
            return s.scalar(select(AuditEvent.seq).where(AuditEvent.key_id.is_(None))
                            .order_by(AuditEvent.seq).limit(1)) is not None
