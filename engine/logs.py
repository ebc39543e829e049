"""Structured JSON logs: one object per line, with instance and task ids where known."""
from __future__ import annotations

import logging
import os
import sys

# orjson's formatter: the access log writes a line per request (3 % of a request's CPU with json)
from pythonjsonlogger.orjson import OrjsonFormatter


def configure_logging(level: str | None = None) -> None:
    """Send every log record to stderr as JSON (idempotent; call once per process)."""
    root = logging.getLogger()
    if any(getattr(h, "_anjian", False) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OrjsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s",
        rename_fields={"asctime": "ts", "levelname": "level", "name": "logger"},
    ))
    handler._anjian = True
    root.addHandler(handler)
    root.setLevel(level or os.environ.get("ANJIAN_LOG_LEVEL", "INFO"))
    # SpiffWorkflow logs every task state change at INFO: ~2.5 KB per request.
    logging.getLogger("spiff").setLevel(os.environ.get("ANJIAN_SPIFF_LOG_LEVEL", "WARNING"))
