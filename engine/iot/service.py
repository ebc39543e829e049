"""The IoT service of a Platform: registry, store, rules, alerts and the ingest pipeline in one place."""
from __future__ import annotations

import logging

from engine.iot.alerts import AlertService
from engine.iot.devices import DeviceRegistry
from engine.iot.evaluator import Evaluator
from engine.iot.pipeline import IngestPipeline, IngestStats
from engine.iot.policy import AlertPolicy
from engine.iot.readings import ReadingStore
from engine.iot.suspension import AlarmSuspension
from engine.iot.rules import load_rules

log = logging.getLogger(__name__)


class IotService:
    """Everything sensing: ``devices``, ``readings``, ``alerts``, ``pipeline`` (shared by MQTT and HTTP)."""

    def __init__(self, db, messages, settings):
        self.db = db
        self.settings = settings
        self.rules = load_rules(getattr(settings, "alert_rules_path", None))
        self.devices = DeviceRegistry(db, self.rules)
        self.readings = ReadingStore(db)
        self.policy = AlertPolicy(db, getattr(settings, "library_dir", None))
        self.suspension = AlarmSuspension(db, getattr(settings, "library_dir", None))
        self.alerts = AlertService(db, messages, self.rules, self.policy, self.suspension)
        self.evaluator = Evaluator(self.rules, wind_limit=self.alerts.wind_limit)
        self.stats = IngestStats()
        self.pipeline = IngestPipeline(self.devices, self.readings, self.evaluator, self.alerts, self.rules,
                                       self.stats)

    def reset_state(self) -> None:
        """Forget in-memory rule state, caches and counters (tests; after editing devices elsewhere)."""
        self.evaluator.reset()
        self.alerts.reset()
        self.devices.invalidate()
        self.stats.c.clear()
