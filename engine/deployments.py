"""Versioned deployments of process definitions.

Each process key gets version n+1 when its content changed; identical content
returns the existing version (duplicate filtering by content hash).
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from engine import audit, definition_diff, timer_starts
from engine.db import Database
from engine.definitions import DeploymentInvalid, analyse
from engine.errors import Conflict, Invalid, NotFound
from engine.models import Deployment, MessageStartEvent, ProcessDefinition


class DeploymentService:
    """Validates and stores deployments; answers questions about definitions."""

    def __init__(self, db: Database, library_dir: Path, operators):
        self.db = db
        self.library_dir = library_dir
        self._operators = operators

    def library_forms(self) -> dict[str, dict]:
        """Forms of the process library (``forms/*.json``) a deployment may reference."""
        forms = {}
        folder = self.library_dir / "forms"
        if folder.is_dir():
            for path in sorted(folder.glob("*.json")):
                try:
                    forms[path.name] = json.loads(path.read_text(encoding="utf-8"))
                except (OSError, json.JSONDecodeError):
                    continue  # a broken library form is reported when it is deployed itself
        return forms

    def validate(self, files: dict[str, bytes]):
        """Validate without storing; raise :class:`Invalid` with every error."""
        try:
            return analyse(files, library_forms=self.library_forms(), operators=self._operators())
        except DeploymentInvalid as exc:
            raise Invalid(f"{len(exc.errors)} error(s) in the deployment",
                          errors=[e.as_dict() for e in exc.errors]) from None

    def deploy(self, files: dict[str, bytes], actor: str) -> dict:
        """Validate and store; answer ``{id, processes: [{key, version, created}]}``."""
        processes = self.validate(files)
        for attempt in range(3):
            try:
                return self._store(files, processes, actor)
            except IntegrityError:
                # Two deployers raced for the same next version: recompute.
                if attempt == 2:
                    raise Conflict("concurrent deployment of the same process; retry", retryable=True)
        raise AssertionError("unreachable")

    def _store(self, files, processes, actor) -> dict:
        with self.db.session() as s:
            dep = Deployment(deployed_by=actor, files=[
                {"name": n, "sha256": hashlib.sha256(b).hexdigest(), "size": len(b)} for n, b in sorted(files.items())
            ])
            s.add(dep)
            s.flush()
            out = []
            for p in processes:
                same = s.scalar(select(ProcessDefinition).where(
                    ProcessDefinition.key == p.key, ProcessDefinition.content_hash == p.content_hash
                ).order_by(ProcessDefinition.version.desc()).limit(1))
                latest = s.scalar(select(func.max(ProcessDefinition.version)).where(ProcessDefinition.key == p.key))
                if same is not None and same.version == latest:
                    out.append({"key": p.key, "version": same.version, "created": False, "definition_id": same.id})
                    continue
                d = ProcessDefinition(key=p.key, version=(latest or 0) + 1, name=p.name,
                                      content_hash=p.content_hash, bundle=p.bundle,
                                      deployment_id=dep.id, deployed_by=actor)
                s.add(d)
                s.flush()
                for message in p.start_messages:
                    s.add(MessageStartEvent(definition_id=d.id, process_key=p.key, message_name=message))
                timer_starts.register(s, d, p.timer_starts)
                out.append({"key": p.key, "version": d.version, "created": True, "definition_id": d.id})
            audit.append(s, actor=actor, kind="deploy", data={"deployment_id": dep.id, "processes": out,
                                                              "files": dep.files})
            return {"id": dep.id, "processes": out}

    # ------------------------------------------------------------------ queries

    def list_definitions(self) -> list[dict]:
        """Latest version of every process key."""
        with self.db.session(write=False) as s:
            latest = select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("v")) \
                .group_by(ProcessDefinition.key).subquery()
            rows = s.scalars(select(ProcessDefinition).join(
                latest, (ProcessDefinition.key == latest.c.key) & (ProcessDefinition.version == latest.c.v)
            ).order_by(ProcessDefinition.key)).all()
            return [self._summary(d) for d in rows]

    def versions(self, key: str) -> dict:
        """All versions of one process key, newest first."""
        with self.db.session(write=False) as s:
            rows = s.scalars(select(ProcessDefinition).where(ProcessDefinition.key == key)
                             .order_by(ProcessDefinition.version.desc())).all()
            if not rows:
                raise NotFound(f"no process definition '{key}'")
            return {"key": key, "name": rows[0].name, "versions": [self._summary(d) for d in rows]}

    def xml(self, key: str, version: int) -> str:
        """The BPMN XML of the file that defines ``key`` at ``version``."""
        with self.db.session(write=False) as s:
            d = s.scalar(select(ProcessDefinition).where(ProcessDefinition.key == key,
                                                         ProcessDefinition.version == version))
            if d is None:
                raise NotFound(f"no process definition '{key}' version {version}")
            for text in d.bundle["bpmn"].values():
                if f'id="{key}"' in text:
                    return text
            return next(iter(d.bundle["bpmn"].values()))

    def diff(self, key: str, from_version: int, to_version: int) -> dict:
        """What changed from one version of ``key`` to another (engine/definition_diff.py).

        Either order works: ``from`` newer than ``to`` answers what a rollback would change.
        """
        with self.db.session(write=False) as s:
            rows = {d.version: d for d in s.scalars(select(ProcessDefinition).where(
                ProcessDefinition.key == key, ProcessDefinition.version.in_({from_version, to_version})))}
            missing = [(field, v) for field, v in (("from", from_version), ("to", to_version)) if v not in rows]
            if missing:
                raise NotFound(f"no process definition '{key}' version " + " or ".join(str(v) for _, v in missing),
                               errors=[{"field": f, "message": f"no version {v} of '{key}'"} for f, v in missing])
            old, new = rows[from_version], rows[to_version]
            out = definition_diff.diff_bundles(old.bundle, new.bundle)
            return {"key": key, "from": self._summary(old), "to": self._summary(new), **out}

    @staticmethod
    def _summary(d: ProcessDefinition) -> dict:
        return {"key": d.key, "version": d.version, "name": d.name, "deployed_at": d.deployed_at.isoformat(),
                "deployed_by": d.deployed_by, "content_hash": d.content_hash, "id": d.id}
