"""The decision table in force for a part of the platform that reads a DMN table outside a process.

Some numbers live in a DMN table that a process evaluates and that the platform itself also reads:
the alert deadlines and owners (``alert_policy``, engine/iot/policy.py) and which live permits an
alarm suspends (``alarm_permit_suspension``, engine/iot/suspension.py). A plant changes them by
deploying a new version of the table; :class:`DeployedTable` finds the version in force (the newest
deployed bundle that carries the table, else the library's file under ``bpmn/``), loads it with the
reader's own function and keeps the result, looking again at most every :data:`REFRESH_SECONDS`.
"""
from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Callable, Generic, TypeVar

from sqlalchemy import select

from engine.models import ProcessDefinition

log = logging.getLogger(__name__)
REFRESH_SECONDS = 30.0
# How many of the newest definitions are searched for a table that any process may carry.
SCAN_DEFINITIONS = 200

T = TypeVar("T")


def _raise(exc: OSError):
    raise exc


class DeployedTable(Generic[T]):
    """The loaded table ``decision_id`` in force, re-read at most every :data:`REFRESH_SECONDS`.

    ``load(text, source)`` turns the DMN text into what the reader keeps (``source`` says where the
    text came from, for messages). Where the table is looked for:

    - ``process_key`` given: the bundle of the latest version of that process (the table the running
      process evaluates); not there, the library file;
    - ``process_key`` None: the newest deployed bundle of any process that carries the table (among
      the newest :data:`SCAN_DEFINITIONS` definitions); none, the library file.

    ``library_file`` is ``<library_dir>/bpmn/<decision_id>.dmn`` (library_dir: the repository root);
    a reader may point it elsewhere. When it cannot be read, ``missing(error)`` gives the value
    (default: the OSError is raised). When a deployed table fails to load with one of
    ``fall_back_on``, the library file is loaded instead and the error logged on ``logger``
    (default: nothing falls back). A load that raises leaves the previous value and is tried again
    at the next use.
    """

    def __init__(self, db, decision_id: str, load: Callable[[str, str], T], *, library_dir: Path | None = None,
                 process_key: str | None = None, missing: Callable[[OSError], T] = _raise,
                 fall_back_on: tuple[type[Exception], ...] = (), logger: logging.Logger = log):
        self.db = db
        self.decision_id = decision_id
        self.load = load
        self.process_key = process_key
        self.missing = missing
        self.fall_back_on = fall_back_on
        self.log = logger
        self.library_file = Path(library_dir or Path(__file__).resolve().parents[1]) / "bpmn" / f"{decision_id}.dmn"
        self.source = ""  # where the table in force came from
        self._lock = threading.Lock()
        self._value: T | None = None
        self._loaded = False
        self._key: tuple | None = None
        self._checked_at = 0.0

    def current(self) -> T:
        """The loaded table in force: looked for again when the last look is older than
        :data:`REFRESH_SECONDS`, loaded again only when another version or file is in force."""
        with self._lock:
            if self._loaded and time.monotonic() - self._checked_at < REFRESH_SECONDS:
                return self._value
            key, text, source = self._deployed() or self._library()
            if key != self._key or not self._loaded:
                self._value = self._load(key, text, source)
                self._loaded = True
                self._key, self.source = key, source
            self._checked_at = time.monotonic()
            return self._value

    def invalidate(self) -> None:
        """Look for the table in force again at the next use (tests; after a deployment)."""
        with self._lock:
            self._checked_at = 0.0

    def _load(self, key: tuple, text: str | OSError, source: str) -> T:
        if isinstance(text, OSError):
            return self.missing(text)
        try:
            return self.load(text, source)
        except self.fall_back_on as exc:
            if key[0] != "deployed":
                raise
            # the platform must still have an answer: the library's table, loudly
            self.log.error("%s: %s; using %s", getattr(exc, "detail", exc), getattr(exc, "errors", ""),
                           self.library_file)
            return self.load(self.library_file.read_text("utf-8"), str(self.library_file))

    def _deployed(self) -> tuple[tuple, str, str] | None:
        """(identity, DMN text, where from) of the deployed table in force; None when none is."""
        marker = f'id="{self.decision_id}"'
        with self.db.session(write=False) as s:
            query = select(ProcessDefinition.id, ProcessDefinition.key, ProcessDefinition.version,
                           ProcessDefinition.bundle)
            if self.process_key is not None:
                query = (query.where(ProcessDefinition.key == self.process_key)
                         .order_by(ProcessDefinition.version.desc()).limit(1))
            else:
                query = query.order_by(ProcessDefinition.id.desc()).limit(SCAN_DEFINITIONS)
            rows = s.execute(query).all()
        for row in rows:
            for name, text in ((row.bundle or {}).get("dmn") or {}).items():
                if marker in text:
                    return ("deployed", row.id), text, f"{row.key} v{row.version} ({name})"
        return None

    def _library(self) -> tuple[tuple, str | OSError, str]:
        """(identity, DMN text, path) of the library's table; the OSError instead of the text when
        the file cannot be read."""
        try:
            return ("library", self.library_file.stat().st_mtime), self.library_file.read_text("utf-8"), \
                str(self.library_file)
        except OSError as exc:
            return ("none",), exc, str(self.library_file)
