"""The composition root: one object holding every engine service for one process."""
from __future__ import annotations

import os
from datetime import timedelta

from sqlalchemy import event

from engine import audit
from engine.audit import AuditService
from engine.config import Settings
from engine.db import Database
from engine.definitions import ModelCache
from engine.deployments import DeploymentService
from engine.incidents import IncidentService
from engine.instances import InstanceService
from engine.iot.service import IotService
from engine.messages import MessageService
from engine.escalations import EscalationService
from engine.permits import PermitRegister
from engine.organisation import OrganisationService
from engine.runner import Runner
from engine.workflow_cache import WorkflowCache
from engine.tasks import TaskService
from engine.timer_starts import TimerStartService
from engine.users import UserService


class Platform:
    """Wires settings, database, connectors and services together."""

    def __init__(self, settings: Settings, *, database: Database | None = None):
        from connectors.registry import discover

        self.settings = settings
        self.db = database or Database(settings.database_url)
        if settings.audit_keys:  # the audit chain's HMAC keys, kept outside the database
            audit.install_keys(settings.audit_keys, settings.audit_key_id)
        # Connectors see the platform's own database and data folder, not whatever the process env says.
        self.connectors = discover(environ={**os.environ, "DATABASE_URL": settings.database_url,
                                            "ANJIAN_DATA_DIR": str(settings.data_dir)})
        self.models = ModelCache()
        self.runner = Runner(self.models, max_task_depth=settings.max_task_depth,
                             workflow_cache=WorkflowCache(settings.workflow_cache_size),
                             step_budget_seconds=settings.step_budget_seconds,
                             value_max_depth=settings.value_max_depth, value_max_bytes=settings.value_max_bytes)
        self.users = UserService(self.db, settings.secret_key, settings.token_ttl_seconds,
                                 settings.auth_refresh_seconds)
        self.organisation = OrganisationService(self.db, self.users, max_import_bytes=settings.org_import_max_bytes,
                                                max_import_rows=settings.org_import_max_rows,
                                                max_import_new_users=settings.org_import_max_new_users)
        self._wire_scripts()
        self.deployments = DeploymentService(self.db, settings.library_dir, self.connectors.operators)
        self.instances = InstanceService(self.db, self.runner)
        self.tasks = TaskService(self.db, self.runner, self.users.exists)
        self.audit = AuditService(self.db)
        self.messages = MessageService(self.db, self.runner, self.instances)
        self.incidents = IncidentService(self.db, self.runner)
        # The permit register and open escalations (the supervisor's board, issue 13/14).
        self.permits = PermitRegister(self.db)
        self.escalations = EscalationService(self.db)
        self.iot = IotService(self.db, self.messages, settings)
        self._init_fusion()
        self.timer_starts = TimerStartService(self.db, self.instances)
        self.dispatcher = self._make_dispatcher()
        self.runner.timer_set = self.dispatcher.timer_set
        event.listen(self.db._write, "after_commit", self._after_commit)
        # What a rolled-back transaction asked to remember was never stored.
        event.listen(self.db._write, "after_rollback", lambda session: session.info.pop("anjian_remember", None))

    def _wire_scripts(self) -> None:
        # Read-only database helpers for BPMN scripts, and who may be named by an `assignee` expression.
        from engine.script_queries import script_helpers

        self.runner.script_engine.environment.globals.update(script_helpers(self.db))
        self.runner.user_exists = self.users.exists

    def _init_fusion(self) -> None:
        # Data hub, fusion analytics, responsibility lists and assessment (issue 6).
        from engine.analytics.service import AnalyticsService
        from engine.assessment.config import AssessmentConfig
        from engine.assessment.service import AssessmentService
        from engine.hub.service import HubService
        from engine.responsibility.service import ResponsibilityService

        self.hub = HubService(self.db, future_tolerance=timedelta(minutes=self.settings.hub_future_tolerance_minutes))
        self.analytics = AnalyticsService(self)
        self.responsibility = ResponsibilityService(self.db)
        self.assessment = AssessmentService(self.db, AssessmentConfig.from_env())

    def _make_dispatcher(self):
        # Imported here: worker/ builds on engine/, not the other way round.
        from worker.dispatch import EmbeddedDispatcher, RqDispatcher

        if self.settings.redis_url:
            return RqDispatcher(self, self.settings.redis_url, lease_seconds=self.settings.job_lease_seconds)
        return EmbeddedDispatcher(self, lease_seconds=self.settings.job_lease_seconds)

    def _after_commit(self, session) -> None:
        for instance, wf in session.info.pop("anjian_remember", ()):
            self.runner.remember(instance, wf)
        if session.info.pop("anjian_outbox", False):
            self.dispatcher.notify()

    def start_background(self) -> None:
        """Embedded mode: start the in-process job and timer runner."""
        self.dispatcher.start()

    def migrate(self) -> None:
        """Create or upgrade the schema (idempotent)."""
        from engine import migrate

        migrate.upgrade(self.db)
        if self.audit.has_unsealed():  # events from before audit keys: seal them with the current key
            self.audit.reseal()

    def close(self) -> None:
        """Stop background work and release database connections."""
        self.dispatcher.stop()
        self.db.dispose()
