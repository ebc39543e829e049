"""Issue 12 §2: the audit chain is keyed outside the database.

An attacker here can write the database and knows the algorithm, but not the key:
they edit an event and recompute its sha256 hash (and the chain tip), as would make
an unkeyed chain verify.
"""
import json
import uuid
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from engine import audit
from engine.config import Settings
from engine.models import AuditEvent, ProcessInstance
from tests.processes import permit_files


@pytest.fixture
def permit_done(api):
    """A permit instance with a start and a completion in its chain."""
    assert api.deploy(permit_files()).status_code == 201
    inst = api.post("/api/v1/process-instances", "prod1", json={"process_key": "permit"}).json
    r = api.post(f"/api/v1/tasks/{inst['active_tasks'][0]['id']}/complete", "prod1",
                 json={"data": {"content": "焊接", "workers": 2}})
    assert r.status_code == 200
    return inst


@pytest.fixture
def cli(platform, monkeypatch):
    for name, value in (("DATABASE_URL", platform.settings.database_url),
                        ("ANJIAN_DATA_DIR", str(platform.settings.data_dir)),
                        ("ANJIAN_SECRET_KEY", platform.settings.secret_key)):
        monkeypatch.setenv(name, value)
    from api.cli import main

    return lambda *args: CliRunner().invoke(main, list(args))


@pytest.fixture
def keyring():
    saved = audit.KEYRING.snapshot()
    yield audit.KEYRING
    audit.install_keys(*saved, replace=True)


def _events(platform, instance_id):
    with platform.db.session(write=False) as s:
        rows = s.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance_id)
                         .order_by(AuditEvent.chain_seq)).all()
        return [SimpleNamespace(**{c.key: getattr(e, c.key) for c in AuditEvent.__table__.c}) for e in rows]


def _rehash_plain(platform, ev, data=None, key_id="keep"):
    """What an attacker without the key can do: new content, sha256 link, tip moved along."""
    data = ev.data if data is None else data
    d = audit.digest(data)
    h = audit.plain_link_hash(ev.prev_hash, ev.at, ev.actor, ev.kind, ev.instance_id, ev.task_id, d, ev.chain,
                              ev.chain_seq)
    values = {"data": data, "data_digest": d, "hash": h}
    if key_id != "keep":
        values["key_id"] = key_id
    with platform.db.session() as s:
        s.execute(update(AuditEvent).where(AuditEvent.seq == ev.seq).values(**values))
        s.execute(update(ProcessInstance).where(ProcessInstance.id == ev.instance_id,
                                                ProcessInstance.audit_seq == ev.chain_seq)
                  .values(audit_hash=h).execution_options(synchronize_session=False))
    return h


def test_an_event_edited_and_rehashed_without_the_key_is_named(api, platform, permit_done, cli):
    start, complete = _events(platform, permit_done["id"])
    assert start.key_id == complete.key_id == audit.KEYRING.current_id
    assert api.get("/api/v1/audit/verify", "safety1").json["ok"] is True  # with the key it verifies
    assert cli("audit", "verify").exit_code == 0

    forged = {**complete.data, "data": {"content": "焊接", "workers": 20}}
    _rehash_plain(platform, complete, forged)
    r = api.get("/api/v1/audit/verify", "safety1").json
    assert r["ok"] is False and r["broken_seq"] == complete.seq and "without the key" in r["reason"]
    out = cli("audit", "verify")
    assert out.exit_code == 1 and f"seq {complete.seq}" in out.output


def test_an_event_downgraded_to_an_unkeyed_hash_is_named(api, platform, permit_done):
    _rehash_plain(platform, _events(platform, permit_done["id"])[1], key_id=None)
    r = api.get("/api/v1/audit/verify", "safety1").json
    assert r["ok"] is False and r["broken_seq"] == _events(platform, permit_done["id"])[1].seq
    assert "not sealed" in r["reason"]


def test_events_under_a_rotated_key_still_verify(api, platform, keyring):
    old_id, new_id = f"old-{uuid.uuid4().hex[:8]}", f"new-{uuid.uuid4().hex[:8]}"
    old_key, new_key = uuid.uuid4().hex * 2, uuid.uuid4().hex * 2
    audit.install_keys({old_id: old_key}, old_id)
    assert api.deploy(permit_files()).status_code == 201
    inst = api.post("/api/v1/process-instances", "prod1", json={"process_key": "permit"}).json
    # Rotation: the new key becomes current, the old one stays listed.
    audit.install_keys({old_id: old_key, new_id: new_key}, new_id)
    r = api.post(f"/api/v1/tasks/{inst['active_tasks'][0]['id']}/complete", "prod1",
                 json={"data": {"content": "焊接", "workers": 2}})
    assert r.status_code == 200
    assert [e.key_id for e in _events(platform, inst["id"])] == [old_id, new_id]
    assert api.get("/api/v1/audit/verify", "safety1").json["ok"] is True
    # Dropping the old key from the ring is what makes its events unverifiable.
    audit.install_keys({new_id: new_key}, new_id, replace=True)
    r = api.get("/api/v1/audit/verify", "safety1").json
    assert r["ok"] is False and old_id in r["reason"]


def _make_legacy(platform):
    """Turn every chain into what a database from before 0012 holds: plain sha256 links, no key id."""
    from engine.models import AuditHead

    with platform.db.session() as s:
        prev: dict[str, str] = {}
        for ev in s.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all():
            p = prev.get(ev.chain, audit.GENESIS_HASH)
            ev.prev_hash, ev.key_id = p, None
            ev.hash = audit.plain_link_hash(p, ev.at, ev.actor, ev.kind, ev.instance_id, ev.task_id, ev.data_digest,
                                            ev.chain, ev.chain_seq)
            prev[ev.chain] = ev.hash
        for chain, tip in prev.items():
            if chain == "global":
                s.get(AuditHead, 1).hash = tip
            else:
                s.get(ProcessInstance, int(chain[2:])).audit_hash = tip


def test_reseal_seals_unkeyed_chains_after_checking_them(api, platform, permit_done, cli):
    other = api.post("/api/v1/process-instances", "prod1", json={"process_key": "permit"}).json
    _make_legacy(platform)
    r = api.get("/api/v1/audit/verify", "safety1").json
    assert r["ok"] is False and "not sealed" in r["reason"]
    # One legacy chain was edited without even fixing its plain hash: it must not be laundered.
    [tampered] = _events(platform, other["id"])
    with platform.db.session() as s:
        s.execute(update(AuditEvent).where(AuditEvent.seq == tampered.seq).values(actor="boss1"))
    out = cli("audit", "reseal")
    assert out.exit_code == 1 and f"i:{other['id']}" in out.output
    assert {e.key_id for e in _events(platform, permit_done["id"])} == {audit.KEYRING.current_id}
    assert _events(platform, other["id"])[0].key_id is None
    r = api.get("/api/v1/audit/verify", "safety1").json
    assert r["ok"] is False and r["broken_seq"] == tampered.seq
    # Once the edit is undone the chain is resealed by migrate, and the whole chain verifies.
    with platform.db.session() as s:
        s.execute(update(AuditEvent).where(AuditEvent.seq == tampered.seq).values(actor="prod1"))
    platform.migrate()
    assert not platform.audit.has_unsealed()
    assert api.get("/api/v1/audit/verify", "safety1").json == {"ok": True, "checked": 4, "broken_seq": None,
                                                              "reason": None, "instance_id": None}
    # The resealed instance still takes steps: its chain grows from the new tip.
    task = api.get(f"/api/v1/tasks?instance_id={other['id']}&state=ready", "prod1").json["items"][0]
    assert api.post(f"/api/v1/tasks/{task['id']}/complete", "prod1",
                    json={"data": {"content": "焊接", "workers": 1}}).status_code == 200
    assert api.get("/api/v1/audit/verify", "safety1").json["ok"] is True


def test_audit_keys_come_from_outside_the_database(tmp_path):
    base = {"ANJIAN_DATA_DIR": str(tmp_path), "ANJIAN_SECRET_KEY": "x" * 40}
    generated = Settings.from_env(base)
    key_file = tmp_path / "audit.key"
    assert key_file.exists() and oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert generated.audit_keys == {generated.audit_key_id: key_file.read_text().strip()}
    assert Settings.from_env(base).audit_key_id == generated.audit_key_id  # stable across restarts
    one = Settings.from_env({**base, "ANJIAN_AUDIT_KEY": "k" * 40})
    assert list(one.audit_keys) == [one.audit_key_id] and one.audit_key_id.startswith("k")
    ring = Settings.from_env({**base, "ANJIAN_AUDIT_KEYS": f"2025:{'a' * 40}, 2026:{'b' * 40}",
                              "ANJIAN_AUDIT_KEY_ID": "2026"})
    assert ring.audit_key_id == "2026" and set(ring.audit_keys) == {"2025", "2026"}
    with pytest.raises(ValueError, match="ANJIAN_AUDIT_KEY_ID"):
        Settings.from_env({**base, "ANJIAN_AUDIT_KEYS": f"2025:{'a' * 40},2026:{'b' * 40}"})
    with pytest.raises(ValueError, match="shorter"):
        Settings.from_env({**base, "ANJIAN_AUDIT_KEYS": "2025:short"})


def test_migrating_a_database_from_before_audit_keys_seals_its_chain(tmp_path, keyring):
    """0011 → 0012 on a database holding plain sha256 events: after migrate, no unkeyed
    event remains and the chain verifies under the key."""
    from sqlalchemy import insert

    from engine import migrate
    from engine.db import Database
    from engine.models import AuditHead
    from engine.platform import Platform

    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = Database(url)
    migrate.upgrade(old, "0011")
    prev = audit.GENESIS_HASH
    with old.session() as s:
        for n, kind in enumerate(("deploy", "deploy"), start=1):
            at, data = audit.utcnow(), {"deployment_id": n}
            d = audit.digest(data)
            h = audit.plain_link_hash(prev, at, "designer1", kind, None, None, d, "global", n)
            s.execute(insert(AuditEvent.__table__).values(chain="global", chain_seq=n, at=at, actor="designer1",
                                                          kind=kind, instance_id=None, task_id=None, data=data,
                                                          data_digest=d, prev_hash=prev, hash=h))
            prev = h
        head = s.get(AuditHead, 1)
        head.seq, head.hash = 2, prev
    old.dispose()

    settings = Settings.from_env({"ANJIAN_DATA_DIR": str(tmp_path), "DATABASE_URL": url,
                                  "ANJIAN_SECRET_KEY": "test-secret-key-with-enough-length-0123456789"})
    p = Platform(settings)
    try:
        p.migrate()
        assert not p.audit.has_unsealed()
        assert p.audit.verify().ok and p.audit.verify().checked == 2
        assert {e["key_id"] for e in p.audit.list()["items"]} == {settings.audit_key_id}
    finally:
        p.close()


def test_a_checkpoint_kept_outside_the_database_detects_a_truncated_chain(api, platform, permit_done, cli, tmp_path):
    taken = cli("audit", "checkpoint")
    assert taken.exit_code == 0, taken.output
    cp_file = tmp_path / "checkpoint.json"
    cp_file.write_text(taken.output)
    assert cli("audit", "verify", "--checkpoint", str(cp_file)).exit_code == 0
    # Someone who can write the database removes the completion and moves the tip back to the start event:
    # every remaining link is validly sealed, so the key alone cannot tell.
    start, complete = _events(platform, permit_done["id"])
    with platform.db.session() as s:
        s.execute(AuditEvent.__table__.delete().where(AuditEvent.seq == complete.seq))
        s.execute(update(ProcessInstance).where(ProcessInstance.id == permit_done["id"])
                  .values(audit_hash=start.hash, audit_seq=1).execution_options(synchronize_session=False))
    assert cli("audit", "verify").exit_code == 0
    out = cli("audit", "verify", "--checkpoint", str(cp_file))
    assert out.exit_code == 1 and f"i:{permit_done['id']} had 2 events" in out.output
    # A checkpoint edited to match the cut chain is refused.
    cp = json.loads(cp_file.read_text())
    cp["tips"][f"i:{permit_done['id']}"] = [1, start.hash]
    cp_file.write_text(json.dumps(cp))
    out = cli("audit", "verify", "--checkpoint", str(cp_file))
    assert out.exit_code == 1 and "signature" in out.output
