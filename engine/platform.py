"""The composition root: one object holding every engine service for one process."""
from __future__ import annotations

from engine.audit import AuditService
from engine.config import Settings
from engine.db import Database
from engine.definitions import ModelCache
from engine.deployments import DeploymentService
from engine.instances import InstanceService
from engine.messages import MessageService
from engine.runner import Runner
from engine.tasks import TaskService
from engine.users import UserService


class Platform:
    """Wires settings, database, connectors and services together."""

    def __init__(self, settings: Settings, *, database: Database | None = None):
        from connectors.registry import discover

        self.settings = settings
        self.db = database or Database(settings.database_url)
        self.connectors = discover()
        self.models = ModelCache()
        self.runner = Runner(self.models, max_task_depth=settings.max_task_depth)
        self.users = UserService(self.db, settings.secret_key, settings.token_ttl_seconds)
        self.deployments = DeploymentService(self.db, settings.library_dir, self.connectors.operators)
        self.instances = InstanceService(self.db, self.runner)
        self.tasks = TaskService(self.db, self.runner, self.users.exists)
        self.audit = AuditService(self.db)
        self.messages = MessageService(self.db, self.runner, self.instances)

    def migrate(self) -> None:
        """Create or upgrade the schema (idempotent)."""
        from engine import migrate

        migrate.upgrade(self.db)

    def close(self) -> None:
        """Release database connections."""
        self.db.dispose()
