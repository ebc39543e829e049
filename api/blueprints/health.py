"""Liveness, readiness and Prometheus metrics (outside /api/v1, no token)."""
from flask import Blueprint, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from api.problems import problem
from api.services import platform

blp = Blueprint("health", __name__)


@blp.get("/healthz")
def healthz():
    """The process is alive."""
    return {"status": "ok"}


@blp.get("/readyz")
def readyz():
    """The database answers."""
    try:
        with platform().db.read_engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        return problem(503, "Service Unavailable", f"database unreachable: {type(exc).__name__}")
    return {"status": "ready"}


@blp.get("/metrics")
def metrics():
    """Prometheus text format."""
    from api.metrics import REGISTRY, refresh_gauges

    refresh_gauges(platform())
    return Response(generate_latest(REGISTRY), mimetype=CONTENT_TYPE_LATEST)
