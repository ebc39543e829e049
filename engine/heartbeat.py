"""Liveness files of long-running processes (``anjian scheduler``, ``anjian ingest``).

A process that is doing its work writes the current time to
``<ANJIAN_DATA_DIR>/heartbeat/<name>`` at most once a second; ``anjian heartbeat
<name> --max-age 15`` exits 0 while the file is fresh and 1 otherwise, which is
what the compose health checks run. A container has its own data directory, so
the check tests the process of that container, not a shared service it talks to.
"""
from __future__ import annotations

import os
import time
from pathlib import Path


class Heartbeat:
    """Writes ``<data_dir>/heartbeat/<name>`` (throttled to once per ``every`` seconds)."""

    def __init__(self, data_dir: Path | str, name: str, every: float = 1.0):
        self.path = Path(data_dir) / "heartbeat" / name
        self.every = every
        self._last = 0.0

    def beat(self) -> None:
        """Record that the process is alive and working (cheap to call often)."""
        now = time.monotonic()
        if now - self._last < self.every:
            return
        self._last = now
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(f"{time.time():.3f}\n")
            os.replace(tmp, self.path)  # a reader never sees a half-written file
        except OSError:  # a full or read-only disk must not stop the process; the check then fails
            pass


def age(data_dir: Path | str, name: str) -> float | None:
    """Seconds since the process ``name`` last beat, None if it never did."""
    path = Path(data_dir) / "heartbeat" / name
    try:
        return max(0.0, time.time() - float(path.read_text().strip()))
    except (OSError, ValueError):
        return None
